// The newsletter plugin: subscribing with a recorded consent, unsubscribing in one click
// (RFC 8058) or from the account page, and the "natomedia.newsletter" provider the account page
// asks. Issues are sent by `natomedia-admin newsletter send` (tools/admin_newsletter.cc), which
// renders this plugin's mail templates.
#include <stdexcept>
#include <vector>

#include <natomedia/json.h>
#include <natomedia/providers.h>

#include "routes.h"
#include "schema.h"
#include "subscriptions.h"

namespace natomedia::newsletter {

namespace {

class Service : public NewsletterService {
 public:
  Result<bool> subscribed(Context& ctx, int64_t account_id) override {
    SubscriptionStore store(ctx.sql(), ctx.clock().now());
    auto s = store.find_by_account(account_id);
    if (s.ok()) return s->state == "subscribed";
    if (s.status().code() == Status::Code::kNotFound) return false;
    return s.status();
  }
};

// The account-deleted erasure (CONTRACT section 13): the account's subscriptions and their
// delivery records go; its consent records stay, anonymised, as proof that consent was asked
// without saying whose. The page and `natomedia-admin accounts delete` both reach it through the
// event (AccountService::erase).
void erase_account(Context& ctx, const AccountEventData& e) {
  Sql& sql = ctx.sql();
  const std::vector<SqlValue> both = {std::to_string(e.account.id), e.account.email};
  const char* statements[] = {
      "DELETE FROM newsletter_deliveries WHERE subscription_id IN "
      "(SELECT id FROM subscriptions WHERE account_id = %s OR LOWER(email) = %s)",
      // Consents before subscriptions: the anonymised rows lose their link to either.
      "UPDATE consents SET email = '', ip = '', user_agent = '', account_id = 0, "
      "subscription_id = 0 WHERE account_id = %s OR LOWER(email) = %s",
      "DELETE FROM subscriptions WHERE account_id = %s OR LOWER(email) = %s"};
  for (const char* statement : statements) {
    auto r = sql.exec(statement, both);
    if (!r.ok()) throw std::runtime_error("newsletter erasure failed: " + r.status().message());
  }
}

// Its part of the account export: the subscription and every consent record (given, withdrawn)
// with its time, the text version shown, where and from which client it was recorded.
Result<Value> export_account(Context& ctx, const Account& account) {
  Sql& sql = ctx.sql();
  const std::vector<SqlValue> id = {std::to_string(account.id)};
  auto subs = sql.query(
      "SELECT email, lang, state, subscribed_at, unsubscribed_at FROM subscriptions "
      "WHERE account_id = %s",
      id);
  if (!subs.ok()) return subs.status();
  auto consents = sql.query(
      "SELECT action, recorded_at, text_version, lang, source, ip, user_agent FROM consents "
      "WHERE account_id = %s ORDER BY recorded_at, id",
      id);
  if (!consents.ok()) return consents.status();
  Value subscription;
  if (!subs->empty())
    subscription =
        Value::Map{{"email", subs->text(0, "email")},
                   {"language", subs->text(0, "lang")},
                   {"state", subs->text(0, "state")},
                   {"subscribed", json::utc_time(subs->integer(0, "subscribed_at"))},
                   {"unsubscribed", json::utc_time(subs->integer(0, "unsubscribed_at"))}};
  Value::List records;
  for (size_t i = 0; i < consents->size(); ++i)
    records.emplace_back(Value::Map{{"action", consents->text(i, "action")},
                                    {"at", json::utc_time(consents->integer(i, "recorded_at"))},
                                    {"text_version", consents->text(i, "text_version")},
                                    {"language", consents->text(i, "lang")},
                                    {"source", consents->text(i, "source")},
                                    {"ip", consents->text(i, "ip")},
                                    {"user_agent", consents->text(i, "user_agent")}});
  return Value(Value::Map{{"subscription", std::move(subscription)},
                          {"consents", Value(std::move(records))}});
}

// The account's address changed (CONTRACT section 13): issues go to the new address from now
// on. Consent records keep the address they were given for.
void follow_address(Context& ctx, const AccountEventData& e) {
  auto r = ctx.sql().exec("UPDATE subscriptions SET email = %s WHERE account_id = %s",
                          {e.account.email, std::to_string(e.account.id)});
  if (!r.ok()) throw std::runtime_error("newsletter address change failed: " + r.status().message());
}

void setup(PluginHost* host) {
  for (auto& m : migrations()) host->migration(std::move(m));
  host->counter(kSubscriptionsCounter, "Newsletter subscriptions (consents given)");
  host->counter(kUnsubscriptionsCounter, "Newsletter unsubscriptions (consents withdrawn)");
  // There is no newsletter page of its own: the account page shows the subscription and its
  // buttons. A temporary redirect (303), so a page here later is not hidden by browser caches.
  for (const char* path : {"/newsletter", "/newsletter/"})
    host->route("GET", path,
                [](Context& ctx) { return Response::Redirect(ctx.url("/account/"), 303); });
  host->route("POST", "/newsletter/subscribe", subscribe);
  host->route("POST", "/newsletter/unsubscribe-account", unsubscribe_account);
  host->route("GET", "/newsletter/unsubscribe", unsubscribe_confirm);
  // RFC 8058: a mail client posts List-Unsubscribe=One-Click with no cookie and no CSRF token;
  // the signed token in the URL is the authority instead.
  host->route("POST", "/newsletter/unsubscribe", unsubscribe_one_click, RouteOptions{false});
  host->on(AccountEvent::kDeleted, erase_account);
  host->on_export(export_account);
  host->on(AccountEvent::kEmailChanged, follow_address);
  host->provide(kNewsletterServiceName, kNewsletterServiceVersion, std::make_shared<Service>());
}

}  // namespace

}  // namespace natomedia::newsletter

NATOMEDIA_PLUGIN("newsletter", "1.0", natomedia::newsletter::setup)
