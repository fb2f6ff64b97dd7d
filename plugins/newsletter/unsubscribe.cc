#include <natomedia/providers.h>

#include "routes.h"
#include "subscriptions.h"
#include "unsubscribe_token.h"

namespace natomedia::newsletter {

namespace {

// What a genuine token unsubscribes: its account, and the address to show.
struct Holder {
  int64_t account_id = 0;
  std::string email;
};

// These pages show an address and sit behind a secret link: no cache may keep them.
Response private_page(Response r) {
  r.header("Cache-Control", "no-store");
  return r;
}

// A token that is not (or no longer) valid: 400, and the way that still works, the account page.
Response dead_token(Context& ctx) {
  Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "newsletter.unsubscribe.title");
  return private_page(ctx.page(400, "newsletter/unsubscribe_invalid.html", std::move(vars)));
}

// The account the token names and its credential epoch as stored now; nullopt when it is gone.
Result<std::optional<Account>> account_of(Context& ctx, int64_t account_id) {
  auto accounts = find_provider<AccountService>(ctx, kAccountServiceName, kAccountServiceVersion);
  if (!accounts)
    return Status::Unavailable(
        "unsubscribe links need the natomedia.accounts provider (NatoMediaPlugin "
        "authentication)");
  auto account = accounts->find_by_id(ctx, account_id);
  if (account.ok()) return std::optional<Account>(*account);
  if (account.status().code() == Status::Code::kNotFound) return std::optional<Account>();
  return account.status();
}

// The holder of the token in the query (the List-Unsubscribe URL), else in the form: nullopt
// for a malformed or forged token, or one made before the account's trust changed (its epoch
// moved on) or for an account that is gone. Unavailable when the database cannot tell.
Result<std::optional<Holder>> token_holder(Context& ctx, std::string* raw) {
  const Request& req = ctx.request();
  *raw = req.query.get_or("token", req.form.get_or("token"));
  const std::optional<Holder> none;
  auto token = parse_unsubscribe_token(*raw);
  if (!token) return none;
  SubscriptionStore store(ctx.sql(), ctx.clock().now());
  auto row = token->version1() ? store.find_by_id_and_email(token->subscription_id, token->email)
                               : store.find_by_account(token->account_id);
  if (!row.ok() && row.status().code() != Status::Code::kNotFound) return row.status();
  if (!row.ok() && token->version1()) return none;
  const int64_t account_id = token->version1() ? row->account_id : token->account_id;
  auto account = account_of(ctx, account_id);
  if (!account.ok()) return account.status();
  if (!*account || !unsubscribe_token_valid(ctx.crypto(), *token, (*account)->credential_epoch))
    return none;
  return std::optional<Holder>(Holder{account_id, row.ok() ? row->email : (*account)->email});
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
  auto holder = token_holder(ctx, &raw);
  if (!holder.ok()) return store_failed(ctx, holder.status());
  if (!*holder) return dead_token(ctx);
  Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "newsletter.unsubscribe.title");
  vars["email"] = (*holder)->email;
  vars["action"] = ctx.url("/newsletter/unsubscribe?token=" + raw);
  return private_page(ctx.page(200, "newsletter/unsubscribe_confirm.html", std::move(vars)));
}

Response unsubscribe_one_click(Context& ctx) {
  std::string raw;
  auto holder = token_holder(ctx, &raw);
  if (!holder.ok()) return store_failed(ctx, holder.status());
  if (!*holder) return dead_token(ctx);
  SubscriptionStore store(ctx.sql(), ctx.clock().now());
  auto changed = store.unsubscribe_account((*holder)->account_id,
                                           withdrawal(ctx.request(), "unsubscribe-link"));
  if (!changed.ok()) return store_failed(ctx, changed.status());
  if (*changed) ctx.metrics().add(kUnsubscriptionsCounter);
  return unsubscribed_page(ctx, (*holder)->email);
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
