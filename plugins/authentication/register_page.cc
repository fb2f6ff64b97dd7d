// GET/POST /account/register. Whether or not the address already has an account, the answer is
// the same 303 after a password hash: a new address gets a pending account and a code; a pending
// one (never verified, so nobody's yet) is replaced by this registration and gets a fresh code
// bound to it; a verified or disabled one gets a notice mail to its owner and a decoy code state
// (CONTRACT sections 5 and 12).
#include <optional>

#include <natomedia/providers.h>
#include <natomedia/return_to.h>
#include <natomedia/text.h>

#include "account_store.h"
#include <natomedia/email.h>
#include "page_helpers.h"
#include "routes.h"

namespace natomedia::auth {

namespace {

// A notice to one address at most this often, so the form cannot be used to flood a mailbox.
constexpr long kNoticeInterval = 3600;

Response register_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.register.title");
  return ctx.page(status, "authentication/register.html", std::move(vars));
}

// Someone tried to register an address that has an account: tell its owner, not the visitor.
Status notify_owner(Context& ctx, Sql& sql, const std::string& email) {
  const std::string key =
      "auth:notice:" + text::hex_encode(ctx.crypto().hmac("auth.notice", email)).substr(0, 32);
  if (ctx.cache().add(key, "1", kNoticeInterval).code() == Status::Code::kConflict)
    return Status::Ok();
  auto owner = find_account_by_email(sql, email);
  if (owner.status().code() == Status::Code::kNotFound) return Status::Ok();  // deleted since
  if (!owner.ok()) return owner.status();
  Vars vars;
  vars["email"] = email;
  vars["login_url"] = ctx.absolute_url("/account/login");
  vars["reset_url"] = ctx.absolute_url("/account/password/reset");
  return transaction(sql, [&] {
    return queue_mail(ctx, sql, email, owner->account.lang, "register_attempt", std::move(vars));
  });
}

// The form's own checks; the 422 page names every failed rule.
bool check_form(Context& ctx, const std::optional<std::string>& email, const DenyList& deny,
                Vars& vars) {
  const Params& form = ctx.request().form;
  const std::string password = form.get_or("password");
  bool ok = true;
  if (!email) {
    vars["email_error"] = tr(ctx, "auth.email.invalid");
    ok = false;
  }
  auto broken = check_password(password, email.value_or(""), deny);
  if (!broken.empty()) {
    add_password_errors(ctx, broken, vars);
    ok = false;
  } else if (password != form.get_or("password_confirm")) {
    vars["confirm_error"] = tr(ctx, "auth.password.mismatch");
    ok = false;
  }
  return ok;
}

}  // namespace

Response get_register(Context& ctx) {
  Vars vars;
  vars["return_to"] = safe_return_to(ctx.request().query.get_or("return_to", "/"));
  return register_form(ctx, std::move(vars), 200);
}

Response post_register(Context& ctx, PluginState& state) {
  const Params& form = ctx.request().form;
  Vars vars;
  vars["email"] = form.get_or("email");
  const std::string return_to = safe_return_to(form.get_or("return_to", "/"));
  vars["return_to"] = return_to;
  const auto email = normalize_email(form.get_or("email"));
  if (!check_form(ctx, email, *state.deny_list, vars)) return register_form(ctx, vars, 422);

  auto codes = code_service(ctx, "registration");
  if (!codes) return unavailable(ctx, 60);
  auto phc = ctx.crypto().password_hash(form.get_or("password"));
  if (!phc.ok()) return unavailable(ctx, kHashBusyRetryAfter);

  Sql& sql = ctx.sql();
  const std::time_t now = ctx.clock().now();
  const std::string lang = ctx.request().lang;
  const std::string registration = registration_of(ctx.crypto(), *phc);
  // Issues the code of this registration; cooldown and rate limits keep the account (the verify
  // page's "Send new code" says when).
  auto issue_code = [&](Account account) -> Status {
    account.registration = registration;
    CodeIssue issue = codes->issue(ctx, sql, CodePurpose::kVerifyAccount, account);
    if (issue.outcome == CodeIssue::Outcome::kUnavailable)
      return Status::Unavailable(
          "no verification code could be issued: memcached (NatoMediaMemcached \"" +
          std::string(text::trim(ctx.config().memcached)) +
          "\") or the database could not be reached (the verification plugin's line before "
          "this one says which)");
    return Status::Ok();
  };
  std::optional<Account> created;
  Status s = transaction(sql, [&]() -> Status {
    auto account = insert_account(sql, *email, *phc, lang, now);
    if (!account.ok()) return account.status();
    Status issued = issue_code(*account);
    if (issued.ok()) created = *account;
    return issued;
  });
  if (s.code() == Status::Code::kConflict) {
    // A pending address belongs to nobody yet: this registration replaces the account (its
    // hash, language and time), and only the code mailed now (bound to it) verifies it.
    s = transaction(sql, [&]() -> Status {
      auto replaced = replace_pending_account(sql, *email, *phc, lang, now);
      if (!replaced.ok()) return replaced.status();
      if (!*replaced) return Status::Conflict("the address has a verified or disabled account");
      auto stored = find_account_by_email(sql, *email);
      if (!stored.ok()) return stored.status();
      return issue_code(stored->account);
    });
  }
  if (s.code() == Status::Code::kConflict) {
    // Verified or disabled: its owner is told, and the visitor's verify page gets a decoy code
    // state, so that what follows (422 up to the 5th wrong code, then 410) is as for a new one.
    s = notify_owner(ctx, sql, *email);
    if (s.ok()) {
      CodeIssue decoy;
      Status t = transaction(sql, [&]() -> Status {
        decoy = codes->issue_decoy(ctx, sql, CodePurpose::kVerifyAccount, *email, lang);
        return Status::Ok();
      });
      if (!t.ok() || decoy.outcome == CodeIssue::Outcome::kUnavailable)
        s = Status::Unavailable("no decoy code could be made");
    }
  }
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "registration failed: " + s.message());
    return unavailable(ctx, 30);
  }
  if (created) {
    ctx.metrics().add("natomedia_registrations_total");
    ctx.emit({AccountEvent::kCreated, *created});
  }
  return redirect(ctx, with_query("/account/verify",
                                  {{"email", *email},
                                   {"return_to", return_to == "/" ? "" : return_to}}));
}

}  // namespace natomedia::auth
