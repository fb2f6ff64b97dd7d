// Account self-service for a signed-in visitor (CONTRACT section 13): change the password with the
// current one, see the account's sessions and end every other one, export the account's data and
// delete the account.
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <natomedia/json.h>
#include <natomedia/providers.h>
#include <natomedia/text.h>

#include "account_store.h"
#include "page_helpers.h"
#include "routes.h"
#include "sessions.h"
#include "user_agent.h"

namespace natomedia::auth {

namespace {

// The notices /account/ shows after a self-service action, by the name ?done= carries. Only these
// names show anything, so the query string cannot put words on the page.
const char* notice_key(const std::string& done) {
  if (done == "password") return "auth.account.notice.password";
  if (done == "sessions") return "auth.account.notice.sessions";
  if (done == "email") return "auth.account.notice.email";
  return nullptr;
}

Response password_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.change.title");
  Response r = ctx.page(status, "authentication/change_password.html", std::move(vars));
  r.header("Cache-Control", "no-store");
  return r;
}

// The sessions page's device: "Firefox on Linux" in the page's language, else the raw header
// shortened, else "Unknown browser".
std::string agent_text(Context& ctx, const std::string& user_agent) {
  if (user_agent.empty()) return tr(ctx, "auth.sessions.unknown_agent");
  ReadableAgent a = readable_agent(user_agent);
  if (a.browser.empty() || a.os.empty()) return a.browser.empty() ? a.shortened : a.browser;
  return text::fill(tr(ctx, "auth.sessions.agent"), {{"browser", a.browser}, {"os", a.os}});
}

// "2026-12-03 06:01 UTC": a date and a time, the same in every language.
std::string date_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min);
  return buf;
}

Response delete_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.delete.title");
  return ctx.page(status, "authentication/delete.html", std::move(vars));
}

}  // namespace

std::string account_date_time(std::time_t t) { return date_time(t); }

// Checks `typed` against the account's stored password through the sign-in throttle (the same
// places and locks as POST /account/login): 429 when throttled, 401 when wrong (with the form
// built by `form`), 503 when it cannot be checked.
CurrentCheck check_current_password(Context& ctx, PluginState& state, const Account& account,
                                    const std::string& typed,
                                    Response (*form)(Context&, Vars, int)) {
  CurrentCheck out;
  Vars vars;
  const SignInThrottle::Attempt attempt = state.throttle.begin(ctx, account.email);
  if (attempt.refused()) {
    ctx.metrics().add("natomedia_signins_throttled_total");
    vars["current_error"] = tr(ctx, "auth.login.throttled");
    Response r = form(ctx, std::move(vars), 429);
    r.header("Retry-After", std::to_string(attempt.retry_after));
    out.refusal = std::move(r);
    return out;
  }
  auto stored = find_account_by_id(ctx.sql(), account.id);
  if (!stored.ok()) {
    state.throttle.abandoned(ctx, attempt);
    out.refusal = unavailable(ctx, 30);
    return out;
  }
  Result<bool> right = ctx.crypto().password_verify(typed, stored->password_hash);
  if (!right.ok() && right.status().code() == Status::Code::kUnavailable) {
    state.throttle.abandoned(ctx, attempt);
    out.refusal = unavailable(ctx, kHashBusyRetryAfter);
    return out;
  }
  if (!right.ok() || !*right) {
    state.throttle.failed(ctx, attempt);
    ctx.metrics().add("natomedia_signins_failed_total");
    vars["current_error"] = tr(ctx, "auth.change.current_wrong");
    out.refusal = form(ctx, std::move(vars), 401);
    return out;
  }
  state.throttle.succeeded(ctx, attempt);
  return out;
}

void add_account_notice(Context& ctx, Vars& vars) {
  const char* key = notice_key(ctx.request().query.get_or("done"));
  if (key) vars["notice"] = tr(ctx, key);
}

Response get_change_password(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/password");
  return password_form(ctx, {}, 200);
}

Response post_change_password(Context& ctx, PluginState& state) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/password");
  const Params& form = ctx.request().form;
  const std::string current = form.get_or("current_password");
  const std::string password = form.get_or("password");
  Vars vars;

  // The current password is a sign-in's secret: its checks take places in the same throttle.
  CurrentCheck check = check_current_password(ctx, state, *account, current, password_form);
  if (check.refusal) return std::move(*check.refusal);
  Sql& sql = ctx.sql();

  auto broken = check_password(password, account->email, *state.deny_list);
  if (!broken.empty()) {
    add_password_errors(ctx, broken, vars);
    return password_form(ctx, std::move(vars), 422);
  }
  if (password != form.get_or("password_confirm")) {
    vars["confirm_error"] = tr(ctx, "auth.password.mismatch");
    return password_form(ctx, std::move(vars), 422);
  }
  auto phc = ctx.crypto().password_hash(password);
  if (!phc.ok()) return unavailable(ctx, kHashBusyRetryAfter);

  Status s = transaction(sql, [&]() -> Status {
    Status step = set_password(sql, account->id, *phc, ctx.clock().now());
    if (!step.ok()) return step;
    auto ended = end_other_sessions(ctx, account->id);
    if (!ended.ok()) return ended.status();
    Vars mail;
    mail["email"] = account->email;
    mail["reset_url"] = ctx.absolute_url("/account/password/reset");
    return queue_mail(ctx, sql, account->email, account->lang, "password_changed", std::move(mail));
  });
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "password change: the new password was not stored: " + s.message());
    return unavailable(ctx, 30);
  }
  // Committed: every child stops believing the other sessions (and this one's old epoch) now.
  account_sessions_ended(ctx, account->id);
  ctx.metrics().add("natomedia_password_changes_total");
  ctx.emit({AccountEvent::kPasswordChanged, *account});
  // The epoch moved: CSRF tokens and links made before are bound to the old trust.
  ctx.rotate_csrf();
  ctx.reset_account();
  return redirect(ctx, "/account/?done=password");
}

Response get_sessions(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/sessions");
  auto sessions = list_sessions(ctx, account->id);
  if (!sessions.ok()) return unavailable(ctx, 30);
  Vars vars = page_vars(ctx, "auth.sessions.title");
  Value::List rows;
  bool others = false;
  for (const SessionInfo& si : *sessions) {
    Vars row;
    row["created"] = date_time(si.created_at);
    row["last_seen"] = date_time(si.last_seen);
    row["user_agent"] = agent_text(ctx, si.user_agent);
    row["raw_user_agent"] = si.user_agent;
    row["current"] = si.current;
    others = others || !si.current;
    rows.emplace_back(std::move(row));
  }
  vars["sessions"] = Value(std::move(rows));
  vars["others"] = others;
  Response r = ctx.page(200, "authentication/sessions.html", std::move(vars));
  r.header("Cache-Control", "no-store");
  return r;
}

Response post_end_other_sessions(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/sessions");
  auto ended = end_other_sessions(ctx, account->id);
  if (!ended.ok()) return unavailable(ctx, 30);
  account_sessions_ended(ctx, account->id);  // committed (autocommit): every child forgets them
  return redirect(ctx, "/account/?done=sessions");
}

Response get_delete(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/delete");
  return delete_form(ctx, {}, 200);
}

Response post_delete(Context& ctx, PluginState& state) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/delete");
  CurrentCheck check = check_current_password(
      ctx, state, *account, ctx.request().form.get_or("current_password"), delete_form);
  if (check.refusal) return std::move(*check.refusal);
  auto erased = erase_account(ctx, *account);
  if (!erased.ok()) {
    ctx.log(LogLevel::kWarning,
            "account deletion failed, nothing erased: " + erased.status().message());
    return unavailable(ctx, 30);
  }
  ctx.metrics().add("natomedia_accounts_deleted_total");
  // The goodbye mail comes after the erasure: its outbox row is all that names the address now
  // (kept, without its text once delivered, for 7 days: CONTRACT section 12).
  Vars mail;
  mail["email"] = account->email;
  Status sent =
      queue_mail(ctx, ctx.sql(), account->email, account->lang, "account_deleted", std::move(mail));
  if (!sent.ok())
    ctx.log(LogLevel::kWarning,
            "account erased; its goodbye mail was not queued: " + sent.message());
  end_session(ctx);  // the row went with the account; the cookie and CSRF binding go now
  return redirect(ctx, "/?done=deleted");
}

// Every plugin's part (PluginHost::on_export) under its name, this plugin's among them: one
// JSON document, or 503 when any part cannot be read now (an export is whole or not given).
Response get_export(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/export");
  auto data = ctx.account_data(*account);
  if (!data.ok()) {
    ctx.log(LogLevel::kWarning, "account export: " + data.status().message());
    return unavailable(ctx, 30);
  }
  Response r;
  r.content_type = "application/json; charset=utf-8";
  r.body = json::write(Value(std::move(*data)), 2) + "\n";
  r.header("Content-Disposition", "attachment; filename=\"natomedia-account.json\"");
  r.header("Cache-Control", "no-store");
  r.header("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace natomedia::auth
