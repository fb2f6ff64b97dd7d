#include "routes.h"
#include "subscriptions.h"
#include "unsubscribe_token.h"

namespace natomedia::newsletter {

namespace {

// The token from the query (the List-Unsubscribe URL), else from the form.
std::optional<UnsubscribeToken> token_of(Context& ctx, std::string* raw) {
  const Request& req = ctx.request();
  *raw = req.query.get_or("token", req.form.get_or("token"));
  return check_unsubscribe_token(ctx.crypto(), *raw);
}

// These pages show an address and sit behind a secret link: no cache may keep them.
Response private_page(Response r) {
  r.header("Cache-Control", "no-store");
  return r;
}

ConsentRecord withdrawal(const Request& req, const std::string& source) {
  return ConsentRecord{req.client_ip, req.user_agent, "", req.lang, source};
}

Response unsubscribed_page(Context& ctx, const std::string& email) {
  Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "newsletter.unsubscribed.title");
  vars["email"] = email;
  return private_page(ctx.page(200, "newsletter/unsubscribed.html", std::move(vars)));
}

Response store_failed(Context& ctx, const Status& s) {
  ctx.log(LogLevel::kError, "newsletter: unsubscribing failed: " + s.message());
  return ctx.error(503, "error.503.message");
}

}  // namespace

Response unsubscribe_confirm(Context& ctx) {
  std::string raw;
  auto token = token_of(ctx, &raw);
  if (!token) return ctx.error(400, "newsletter.token.invalid");
  Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "newsletter.unsubscribe.title");
  vars["email"] = token->email;
  vars["action"] = ctx.url("/newsletter/unsubscribe?token=" + raw);
  return private_page(ctx.page(200, "newsletter/unsubscribe_confirm.html", std::move(vars)));
}

Response unsubscribe_one_click(Context& ctx) {
  std::string raw;
  auto token = token_of(ctx, &raw);
  if (!token) return ctx.error(400, "newsletter.token.invalid");
  SubscriptionStore store(ctx.sql(), ctx.clock().now());
  auto changed = store.unsubscribe(token->subscription_id, token->email,
                                   withdrawal(ctx.request(), "unsubscribe-link"));
  if (!changed.ok()) return store_failed(ctx, changed.status());
  if (*changed) ctx.metrics().add(kUnsubscriptionsCounter);
  return unsubscribed_page(ctx, token->email);
}

Response unsubscribe_account(Context& ctx) {
  std::optional<Account> account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/");
  SubscriptionStore store(ctx.sql(), ctx.clock().now());
  auto changed = store.unsubscribe_account(account->id, withdrawal(ctx.request(), "account"));
  if (!changed.ok()) return store_failed(ctx, changed.status());
  if (*changed) ctx.metrics().add(kUnsubscriptionsCounter);
  return unsubscribed_page(ctx, account->email);
}

}  // namespace natomedia::newsletter
