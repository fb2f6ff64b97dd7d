// GET/POST /account/login and POST /account/logout. A wrong password, an unknown address and a
// disabled account all get the same 401 page after the same argon2id work (CONTRACT section 5).
#include <optional>

#include <natomedia/text.h>

#include "account_store.h"
#include <natomedia/email.h>
#include "page_helpers.h"
#include <natomedia/return_to.h>
#include "routes.h"
#include "sessions.h"

namespace natomedia::auth {

namespace {

Response login_form(Context& ctx, Vars vars, int status) {
  vars["title"] = tr(ctx, "auth.login.title");
  if (!vars.count("return_to")) vars["return_to"] = "/";
  vars["reset_path"] =
      with_query("/account/password/reset", {{"return_to", vars["return_to"].str()}});
  // "Create an account" keeps the way back through registration and verification.
  vars["register_path"] = with_query(
      "/account/register",
      {{"return_to", vars["return_to"].str() == "/" ? "" : vars["return_to"].str()}});
  return ctx.page(status, "authentication/login.html", std::move(vars));
}

Response refused(Context& ctx, Vars vars) {
  ctx.metrics().add("natomedia_signins_failed_total");
  vars["form_error"] = tr(ctx, "auth.login.failed");
  Response r = login_form(ctx, std::move(vars), 401);
  r.header("WWW-Authenticate", "Form realm=\"account\"");
  return r;
}

Response throttled(Context& ctx, Vars vars, long retry_after) {
  ctx.metrics().add("natomedia_signins_throttled_total");
  vars["form_error"] = tr(ctx, "auth.login.throttled");
  Response r = login_form(ctx, std::move(vars), 429);
  r.header("Retry-After", std::to_string(retry_after));
  return r;
}

// A stored hash made with older argon2id parameters is replaced while the password is at hand.
void rehash_if_needed(Context& ctx, const StoredAccount& stored, const std::string& password) {
  if (!ctx.crypto().password_needs_rehash(stored.password_hash)) return;
  auto fresh = ctx.crypto().password_hash(password);
  if (!fresh.ok()) return;  // the next sign-in will try again
  Status s = replace_password_hash(ctx.sql(), stored.account.id, *fresh);
  if (!s.ok()) ctx.log(LogLevel::kWarning, "password re-hash not stored: " + s.message());
}

}  // namespace

Response get_login(Context& ctx) {
  // Signed in already: the form has nothing to do, the account page is where the visitor is.
  if (ctx.account()) return redirect(ctx, "/account/");
  Vars vars;
  vars["return_to"] = safe_return_to(ctx.request().query.get_or("return_to", "/"));
  return login_form(ctx, std::move(vars), 200);
}

Response post_login(Context& ctx, PluginState& state) {
  const Params& form = ctx.request().form;
  const std::string typed = form.get_or("email");
  const std::string password = form.get_or("password");
  Vars vars;
  vars["email"] = typed;
  vars["return_to"] = safe_return_to(form.get_or("return_to", "/"));
  const auto email = normalize_email(typed);
  // Throttled by what was typed, normalised as far as it goes, account or not.
  const std::string who = email.value_or(text::lower_ascii(text::trim(typed)));

  // The attempt takes its place in the throttle's counters before any password is checked.
  const SignInThrottle::Attempt attempt = state.throttle.begin(ctx, who);
  if (attempt.refused()) return throttled(ctx, std::move(vars), attempt.retry_after);

  std::optional<StoredAccount> stored;
  if (email) {
    auto found = find_account_by_email(ctx.sql(), *email);
    if (found.ok()) {
      stored = *found;
    } else if (found.status().code() != Status::Code::kNotFound) {
      ctx.log(LogLevel::kWarning, "sign-in: account lookup failed: " + found.status().message());
      state.throttle.abandoned(ctx, attempt);
      return unavailable(ctx, 30);
    }
  }
  Result<bool> verified = stored ? ctx.crypto().password_verify(password, stored->password_hash)
                                 : state.dummy_hash.verify(ctx, password);
  if (!verified.ok() && verified.status().code() == Status::Code::kUnavailable) {
    state.throttle.abandoned(ctx, attempt);
    return unavailable(ctx, kHashBusyRetryAfter);
  }
  // A disabled account's right password counts as a failure too: the same 401, the same count.
  if (!verified.ok() || !*verified || stored->account.state == "disabled") {
    if (!verified.ok())
      ctx.log(LogLevel::kError,
              "sign-in: a stored password hash is unusable: " + verified.status().message());
    state.throttle.failed(ctx, attempt);
    return refused(ctx, std::move(vars));
  }
  state.throttle.succeeded(ctx, attempt);
  if (stored->account.state == "pending")
    return redirect(ctx, with_query("/account/verify", {{"email", *email}}));

  rehash_if_needed(ctx, *stored, password);
  Status s = start_session(ctx, stored->account);
  if (!s.ok()) {
    ctx.log(LogLevel::kWarning, "sign-in: no session could be stored: " + s.message());
    return unavailable(ctx, 30);
  }
  ctx.metrics().add("natomedia_signins_ok_total");
  ctx.emit({AccountEvent::kSignedIn, stored->account});
  return redirect(ctx, vars["return_to"].str());
}

Response post_logout(Context& ctx) {
  end_session(ctx);
  return redirect(ctx, "/");
}

}  // namespace natomedia::auth
