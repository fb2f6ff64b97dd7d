// The change of address of a signed-in account (CONTRACT section 13): the current password
// (checked through the sign-in throttle), then a code mailed to the new address by the
// verification plugin (purpose kChangeEmail); typing it makes the change, moves the credential
// epoch on, ends every other session and tells the old address.
//
// An address that another account already holds gets the same answers, the same work (a decoy
// code through the same cooldown and limits, its mail composed but dropped) and no change: the
// form tells nobody which addresses have accounts (CONTRACT section 12, "No oracle").
//
// The change in progress is held by the browser that asked for it, in the nm_email_change cookie
// (the new address, an expiry and a signature bound to the account and its credential epoch),
// not in the URL: the language switch and the mailed link lead to the same form without losing
// it, and a change of password meanwhile kills it.
#include <optional>
#include <string>

#include <natomedia/email.h>
#include <natomedia/providers.h>
#include <natomedia/text.h>

#include "account_store.h"
#include "page_helpers.h"
#include "routes.h"
#include "sessions.h"

namespace natomedia::auth {

namespace {

constexpr const char* kChangeCookie = "nm_email_change";
constexpr const char* kChangeSignPurpose = "auth.email-change";

// What the code is bound to: this account at this epoch (letters, digits and '.', as a code
// binding must be).
std::string change_binding(const Account& account) {
  return "a" + std::to_string(account.id) + "." + std::to_string(account.credential_epoch);
}

std::string signed_part(const Account& account, const std::string& expires,
                        const std::string& email) {
  return std::to_string(account.id) + ":" + std::to_string(account.credential_epoch) + ":" +
         expires + ":" + email;
}

// Sets the cookie that holds the change in progress: BASE64URL(ADDRESS).EXPIRES.SIGNATURE.
void hold_change(Context& ctx, const Account& account, const std::string& email) {
  const long lifetime = ctx.config().code_lifetime;
  const std::string expires = std::to_string(ctx.clock().now() + lifetime);
  const std::string sig =
      ctx.crypto().sign(kChangeSignPurpose, signed_part(account, expires, email));
  // Lax: the link in the code mail is a navigation from another site, and must find it.
  ctx.set_cookie({kChangeCookie, text::base64url_encode(email) + "." + expires + "." + sig,
                  lifetime, true, "Lax"});
}

void forget_change(Context& ctx) { ctx.set_cookie({kChangeCookie, "", 0, true, "Lax"}); }

// The new address this browser asked for, while the cookie is alive, signed for this account at
// its current epoch; nullopt otherwise.
std::optional<std::string> held_change(Context& ctx, const Account& account) {
  auto value = ctx.cookie(kChangeCookie);
  if (!value || value->size() > 1024) return std::nullopt;
  const size_t a = value->find('.');
  const size_t b = a == std::string::npos ? a : value->find('.', a + 1);
  if (b == std::string::npos) return std::nullopt;
  std::string email;
  if (!text::base64url_decode(value->substr(0, a), email)) return std::nullopt;
  const std::string expires = value->substr(a + 1, b - a - 1);
  // A browser sends what it likes: refused without throwing (std::stoll threw on 19 nines).
  long long until = 0;
  if (!text::parse_decimal(expires, until)) return std::nullopt;
  if (until <= static_cast<long long>(ctx.clock().now())) return std::nullopt;
  if (!ctx.crypto().verify(kChangeSignPurpose, signed_part(account, expires, email),
                           value->substr(b + 1)))
    return std::nullopt;
  return email;
}

Response email_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.email_change.title");
  vars["current_email"] = ctx.account() ? ctx.account()->email : std::string();
  vars["lang_switch_to"] = std::string("/account/email");
  return ctx.page(status, "authentication/change_email.html", std::move(vars));
}

Response code_form(Context& ctx, const std::string& new_email, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.email_change.verify.title");
  vars["new_email"] = new_email;
  vars["expiry_text"] = code_expiry_text(ctx);
  // Nothing of the change is in the URL: the switch leads to the same form in the other language.
  vars["lang_switch_to"] = std::string("/account/email/verify");
  return ctx.page(status, "authentication/change_email_verify.html", std::move(vars));
}

// "Please wait N seconds", on the form that was posted, with Retry-After.
Response too_soon(Response page, long retry_after) {
  page.header("Retry-After", std::to_string(retry_after));
  return page;
}

std::string wait_text(Context& ctx, long retry_after) {
  return text::fill(tr(ctx, "auth.email_change.wait"), {{"n", std::to_string(retry_after)}});
}

// A code for the change to `email`: a real one, bound to this account at its epoch, where the
// address is free (no account, or one still pending: that belongs to nobody yet); a decoy,
// through the same steps, where another account holds it. kUnavailable also when the database
// could not be asked.
CodeIssue send_change_code(Context& ctx, CodeService& codes, const Account& account,
                           const std::string& email) {
  Sql& sql = ctx.sql();
  auto holder = find_account_by_email(sql, email);
  if (!holder.ok() && holder.status().code() != Status::Code::kNotFound)
    return {CodeIssue::Outcome::kUnavailable, 0};
  const bool taken = holder.ok() && holder->account.state != "pending";
  Account target = account;
  target.email = email;
  target.registration = change_binding(account);
  CodeIssue issued;
  Status s = transaction(sql, [&]() -> Status {
    issued = taken ? codes.issue_decoy(ctx, sql, CodePurpose::kChangeEmail, email, account.lang)
                   : codes.issue(ctx, sql, CodePurpose::kChangeEmail, target);
    // Only a code that was stored needs its mail committed; nothing else was written.
    return issued.outcome == CodeIssue::Outcome::kSent ? Status::Ok() : Status::Conflict("no code");
  });
  if (!s.ok() && issued.outcome == CodeIssue::Outcome::kSent)
    return {CodeIssue::Outcome::kUnavailable, 0};
  return issued;
}

// The change itself, in one transaction: an unverified registration of the address goes (it
// belonged to nobody), the address and epoch change, every other session ends, every plugin
// hears of it, the old address is told. Conflict when another account took the address meanwhile.
Status apply_change(Context& ctx, const Account& account, const std::string& email) {
  Sql& sql = ctx.sql();
  Status s = transaction(sql, [&]() -> Status {
    auto cleared = delete_pending_account(sql, email);
    if (!cleared.ok()) return cleared.status();
    Status step = change_email(sql, account.id, email);
    if (!step.ok()) return step;
    auto ended = end_other_sessions(ctx, account.id);
    if (!ended.ok()) return ended.status();
    auto moved = find_account_by_id(sql, account.id);
    if (!moved.ok()) return moved.status();
    // A plugin that cannot follow the address (it throws) rolls the change back.
    Status told = ctx.emit({AccountEvent::kEmailChanged, moved->account});
    if (!told.ok()) return told;
    Vars mail;
    mail["email"] = account.email;
    mail["new_email"] = email;
    return queue_mail(ctx, sql, account.email, account.lang, "email_changed", std::move(mail));
  });
  // Committed: every child of this server stops believing the other sessions and the old epoch.
  if (s.ok()) account_sessions_ended(ctx, account.id);
  return s;
}

// The signed-in account and the change of address its browser holds, or the answer to give
// instead (sign in first; no change in progress: back to the address form).
struct Pending {
  std::optional<Response> answer;
  Account account;
  std::string email;
};

Pending pending_change(Context& ctx) {
  auto account = ctx.account();
  if (!account) return {ctx.sign_in_required("/account/email/verify"), {}, {}};
  auto email = held_change(ctx, *account);
  if (!email) return {redirect(ctx, "/account/email"), {}, {}};
  return {std::nullopt, *account, *email};
}

}  // namespace

Response get_change_email(Context& ctx) {
  if (!ctx.account()) return ctx.sign_in_required("/account/email");
  return email_form(ctx, {}, 200);
}

Response post_change_email(Context& ctx, PluginState& state) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/email");
  const Params& form = ctx.request().form;
  const std::string typed = form.get_or("email");

  // The current password is a sign-in's secret: its checks take places in the same throttle.
  CurrentCheck check =
      check_current_password(ctx, state, *account, form.get_or("current_password"), email_form);
  if (check.refusal) return std::move(*check.refusal);

  Vars vars;
  vars["typed_email"] = typed;
  const auto email = normalize_email(typed);
  if (!email) {
    vars["email_error"] = tr(ctx, "auth.email.invalid");
    return email_form(ctx, std::move(vars), 422);
  }
  if (*email == account->email) {
    vars["email_error"] = tr(ctx, "auth.email_change.same");
    return email_form(ctx, std::move(vars), 422);
  }
  auto codes = code_service(ctx, "the change of address");
  if (!codes) return unavailable(ctx, 60);
  CodeIssue issued = send_change_code(ctx, *codes, *account, *email);
  switch (issued.outcome) {
    case CodeIssue::Outcome::kSent:
      hold_change(ctx, *account, *email);
      return redirect(ctx, "/account/email/verify");
    case CodeIssue::Outcome::kCooldown:
    case CodeIssue::Outcome::kRateLimited:
      vars["email_error"] = wait_text(ctx, issued.retry_after);
      return too_soon(email_form(ctx, std::move(vars), 429), issued.retry_after);
    case CodeIssue::Outcome::kUnavailable:
      break;
  }
  return unavailable(ctx, 30);
}

Response get_change_email_verify(Context& ctx) {
  Pending p = pending_change(ctx);
  if (p.answer) return std::move(*p.answer);
  return code_form(ctx, p.email, {}, 200);
}

Response post_change_email_verify(Context& ctx) {
  Pending p = pending_change(ctx);
  if (p.answer) return std::move(*p.answer);
  auto codes = code_service(ctx, "the change of address");
  if (!codes) return unavailable(ctx, 60);
  std::string binding;
  CodeCheck check = codes->check_bound(ctx, CodePurpose::kChangeEmail, p.email,
                                       ctx.request().form.get_or("code"), &binding);
  // A right code bound to another account (or to this one before its trust changed) is dead.
  if (check == CodeCheck::kOk && !ctx.crypto().equal(binding, change_binding(p.account)))
    check = CodeCheck::kDead;
  switch (check) {
    case CodeCheck::kWrong:
      return code_form(ctx, p.email, {{"code_error", tr(ctx, "auth.code.wrong")}}, 422);
    case CodeCheck::kDead:
      return code_form(ctx, p.email, {{"code_error", tr(ctx, "auth.code.dead")}, {"dead", true}},
                       410);
    case CodeCheck::kUnavailable:
      return unavailable(ctx, 30);
    case CodeCheck::kOk:
      break;
  }
  Status s = apply_change(ctx, p.account, p.email);
  if (s.code() == Status::Code::kConflict) {
    forget_change(ctx);
    Vars vars;
    vars["typed_email"] = p.email;
    vars["email_error"] = tr(ctx, "auth.email_change.taken_meanwhile");
    return email_form(ctx, std::move(vars), 409);
  }
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "address change: nothing changed: " + s.message());
    return unavailable(ctx, 30);
  }
  forget_change(ctx);
  ctx.metrics().add("natomedia_email_changes_total");
  // The epoch moved: CSRF tokens and links made before are bound to the old trust.
  ctx.rotate_csrf();
  ctx.reset_account();
  return redirect(ctx, "/account/?done=email");
}

Response post_change_email_resend(Context& ctx) {
  Pending p = pending_change(ctx);
  if (p.answer) return std::move(*p.answer);
  auto codes = code_service(ctx, "the change of address");
  if (!codes) return unavailable(ctx, 60);
  CodeIssue issued = send_change_code(ctx, *codes, p.account, p.email);
  switch (issued.outcome) {
    case CodeIssue::Outcome::kSent:
      hold_change(ctx, p.account, p.email);  // as long again as the new code
      return redirect(ctx, "/account/email/verify");
    case CodeIssue::Outcome::kCooldown:
    case CodeIssue::Outcome::kRateLimited:
      return too_soon(
          code_form(ctx, p.email, {{"resend_error", wait_text(ctx, issued.retry_after)}}, 429),
          issued.retry_after);
    case CodeIssue::Outcome::kUnavailable:
      break;
  }
  return unavailable(ctx, 30);
}

}  // namespace natomedia::auth
