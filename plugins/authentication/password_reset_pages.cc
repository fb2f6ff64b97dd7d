// The password reset journey: ask for a code (always the same 303, whether the address has an
// account or not), type it (a right code earns a grant bound to this browser), set a new password
// (every session of the account ends and its owner is told by mail).
#include <optional>

#include <natomedia/providers.h>
#include <natomedia/text.h>

#include "account_store.h"
#include <natomedia/email.h>
#include "page_helpers.h"
#include "reset_grant.h"
#include <natomedia/return_to.h>
#include "routes.h"
#include "sessions.h"

namespace natomedia::auth {

namespace {

// return_to travels in the query only when it says more than "/".
std::string carried(const std::string& return_to) { return return_to == "/" ? "" : return_to; }

// The language switch of an answer to a POST stays on this form, for this address.
void switch_to(Vars& vars, const std::string& path) {
  vars["lang_switch_to"] = with_query(path, {{"email", vars["email"].str()},
                                             {"return_to", carried(vars["return_to"].str())}});
}

Response reset_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.reset.title");
  switch_to(vars, "/account/password/reset");
  return ctx.page(status, "authentication/reset.html", std::move(vars));
}

Response code_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.reset.verify.title");
  switch_to(vars, "/account/password/reset/verify");
  vars["expiry_text"] = code_expiry_text(ctx);
  return ctx.page(status, "authentication/reset_verify.html", std::move(vars));
}

Response new_password_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.new.title");
  Response r = ctx.page(status, "authentication/new_password.html", std::move(vars));
  r.header("Cache-Control", "no-store");
  return r;
}

// Issues a reset code where the account exists and may use it; any other address (none, or a
// disabled account) gets a decoy code state through the same steps (the cooldown and limits,
// the state stored, the mail composed but dropped), so that the wrong-code answers that follow
// (422 up to the 5th, then 410) and the work done are the same for every address.
Status send_reset_code(Context& ctx, CodeService& codes, const std::string& email) {
  Sql& sql = ctx.sql();
  auto found = find_account_by_email(sql, email);
  if (!found.ok() && found.status().code() != Status::Code::kNotFound) return found.status();
  const bool real = found.ok() && found->account.state != "disabled";
  Status s = transaction(sql, [&]() -> Status {
    CodeIssue issue =
        real ? codes.issue(ctx, sql, CodePurpose::kResetPassword, found->account)
             : codes.issue_decoy(ctx, sql, CodePurpose::kResetPassword, email,
                                 found.ok() ? found->account.lang : ctx.request().lang);
    if (issue.outcome == CodeIssue::Outcome::kUnavailable)
      return Status::Unavailable(
          "no reset code could be issued: memcached (NatoMediaMemcached \"" +
          std::string(text::trim(ctx.config().memcached)) +
          "\") or the database could not be reached (the verification plugin's line before "
          "this one says which)");
    return Status::Ok();
  });
  if (s.ok() && real) ctx.emit({AccountEvent::kPasswordResetRequested, found->account});
  return s;
}

// The values every reset form carries back: the address as typed and the safe return_to.
Vars carried_values(const Params& params) {
  Vars vars;
  vars["email"] = params.get_or("email");
  vars["return_to"] = safe_return_to(params.get_or("return_to", "/"));
  return vars;
}

}  // namespace

Response get_reset(Context& ctx) {
  return reset_form(ctx, carried_values(ctx.request().query), 200);
}

Response post_reset(Context& ctx) {
  const Params& form = ctx.request().form;
  Vars vars = carried_values(form);
  const std::string return_to = vars["return_to"].str();
  const auto email = normalize_email(form.get_or("email"));
  if (!email) {
    vars["email_error"] = tr(ctx, "auth.email.invalid");
    return reset_form(ctx, std::move(vars), 422);
  }
  auto codes = code_service(ctx, "password reset");
  if (!codes) return unavailable(ctx, 60);
  Status s = send_reset_code(ctx, *codes, *email);
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "password reset: " + s.message());
    return unavailable(ctx, 30);
  }
  return redirect(ctx, with_query("/account/password/reset/verify",
                                  {{"email", *email}, {"return_to", carried(return_to)}}));
}

Response get_reset_verify(Context& ctx) {
  return code_form(ctx, carried_values(ctx.request().query), 200);
}

Response post_reset_verify(Context& ctx) {
  const Params& form = ctx.request().form;
  Vars vars = carried_values(form);
  const std::string return_to = vars["return_to"].str();
  auto codes = code_service(ctx, "password reset");
  if (!codes) return unavailable(ctx, 60);
  const std::string email = normalize_email(form.get_or("email")).value_or("");
  CodeCheck check =
      email.empty() ? CodeCheck::kDead
                    : codes->check(ctx, CodePurpose::kResetPassword, email, form.get_or("code"));
  switch (check) {
    case CodeCheck::kWrong:
      vars["code_error"] = tr(ctx, "auth.code.wrong");
      return code_form(ctx, std::move(vars), 422);
    case CodeCheck::kDead:
      vars["code_error"] = tr(ctx, "auth.code.dead");
      vars["dead"] = true;
      return code_form(ctx, std::move(vars), 410);
    case CodeCheck::kUnavailable:
      return unavailable(ctx, 30);
    case CodeCheck::kOk:
      break;
  }
  auto account = find_account_by_email(ctx.sql(), email);
  if (!account.ok()) {
    ctx.log(LogLevel::kWarning,
            "password reset: right code, no account: " + account.status().message());
    return unavailable(ctx, 30);
  }
  Status s = issue_grant(ctx, account->account, return_to);
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "password reset: no grant stored: " + s.message());
    return unavailable(ctx, 30);
  }
  return redirect(ctx, "/account/password/new");
}

Response get_new_password(Context& ctx) {
  if (!find_grant(ctx)) return redirect(ctx, "/account/password/reset");
  return new_password_form(ctx, {}, 200);
}

Response post_new_password(Context& ctx, PluginState& state) {
  auto grant = find_grant(ctx);
  if (!grant) return redirect(ctx, "/account/password/reset");
  Sql& sql = ctx.sql();
  auto stored = find_account_by_id(sql, grant->account_id);
  if (!stored.ok()) return redirect(ctx, "/account/password/reset");
  Account account = stored->account;

  const Params& form = ctx.request().form;
  const std::string password = form.get_or("password");
  Vars vars;
  auto broken = check_password(password, account.email, *state.deny_list);
  if (!broken.empty()) {
    add_password_errors(ctx, broken, vars);
    return new_password_form(ctx, std::move(vars), 422);
  }
  if (password != form.get_or("password_confirm")) {
    vars["confirm_error"] = tr(ctx, "auth.password.mismatch");
    return new_password_form(ctx, std::move(vars), 422);
  }
  auto phc = ctx.crypto().password_hash(password);
  if (!phc.ok()) return unavailable(ctx, kHashBusyRetryAfter);

  const std::time_t now = ctx.clock().now();
  bool newly_verified = false;
  Status s = transaction(sql, [&]() -> Status {
    Status step = consume_grant(ctx, sql, *grant);
    if (step.ok()) step = set_password(sql, account.id, *phc, now);
    if (!step.ok()) return step;
    // The code reached the mailbox: that verifies a pending address as well as a code would.
    if (account.state == "pending") {
      auto changed = mark_account_verified(sql, account.id, now);
      if (!changed.ok()) return changed.status();
      newly_verified = *changed;
    }
    step = end_all_sessions(sql, account.id);
    if (!step.ok()) return step;
    Vars mail;
    mail["email"] = account.email;
    mail["reset_url"] = ctx.absolute_url("/account/password/reset");
    return queue_mail(ctx, sql, account.email, account.lang, "password_changed", std::move(mail));
  });
  if (s.code() == Status::Code::kNotFound) return redirect(ctx, "/account/password/reset");
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "password reset: the new password was not stored: " + s.message());
    return unavailable(ctx, 30);
  }
  account_sessions_ended(ctx, account.id);  // committed: every child forgets them now
  forget_grant_cookie(ctx);
  end_session(ctx);  // this browser too: the visitor signs in with the new password
  state.throttle.clear(ctx, account.email);
  if (newly_verified) {
    account.state = "verified";
    ctx.emit({AccountEvent::kVerified, account});
  }
  ctx.metrics().add("natomedia_password_changes_total");
  ctx.emit({AccountEvent::kPasswordChanged, account});
  Vars done = page_vars(ctx, "auth.updated.title");
  done["login_path"] = with_query("/account/login", {{"return_to", carried(grant->return_to)}});
  return ctx.page(200, "authentication/password_updated.html", std::move(done));
}

}  // namespace natomedia::auth
