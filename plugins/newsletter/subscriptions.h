// Subscriptions and their consent record, in SQL. One row per account in `subscriptions`;
// unsubscribing keeps the row (state "unsubscribed") and subscribing again reuses it. Every
// consent given or withdrawn adds a row to `consents`, which is never changed nor deleted.
// A SubscriptionStore works on one connection: not thread-safe, one per request or task.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include <natomedia/services.h>

namespace natomedia::newsletter {

// The version of the consent text shown next to the subscribe button. Change it whenever the
// text of newsletter.offer.text changes, so each consent records which wording was agreed to.
constexpr const char* kConsentTextVersion = "newsletter-offer-1";

struct Subscription {
  int64_t id = 0;
  int64_t account_id = 0;
  std::string email;
  std::string lang;
  std::string state;  // "subscribed" or "unsubscribed"
  std::time_t subscribed_at = 0;
};

// Where and how a consent was given or withdrawn.
struct ConsentRecord {
  std::string ip;
  std::string user_agent;    // cut to 512 bytes (on a UTF-8 boundary) when stored
  std::string text_version;  // kConsentTextVersion when given; "" when withdrawn
  std::string lang;          // the language the text was shown in
  std::string source;        // "verification", "account", "unsubscribe-link", …
};

struct SubscribeOutcome {
  Subscription subscription;
  bool already = false;  // it was subscribed already: nothing changed, no consent recorded
};

class SubscriptionStore {
 public:
  SubscriptionStore(Sql& sql, std::time_t now) : sql_(sql), now_(now) {}

  // NotFound when the account has never subscribed.
  Result<Subscription> find_by_account(int64_t account_id);
  // The row a version-1 unsubscribe token names (its id and address); NotFound when none.
  Result<Subscription> find_by_id_and_email(int64_t subscription_id, const std::string& email);
  // Subscribes `account` (again) and records the consent, in one transaction.
  Result<SubscribeOutcome> subscribe(const Account& account, const ConsentRecord& consent);
  // Unsubscribes the account (a token's holder, or the signed-in visitor); true when it was
  // subscribed. An account never subscribed or already unsubscribed is no error: unsubscribing is
  // idempotent.
  Result<bool> unsubscribe_account(int64_t account_id, const ConsentRecord& how);

 private:
  Result<Subscription> select_one(const std::string& where, const std::vector<SqlValue>& params);
  Status insert_subscription(const Account& account, const std::string& lang);
  Status resubscribe(const Subscription& existing, const Account& account, const std::string& lang);
  Status withdraw(const Subscription& s, const ConsentRecord& how, bool* changed);
  Status record_consent(const Subscription& s, const std::string& action,
                        const ConsentRecord& consent);

  Sql& sql_;
  const std::time_t now_;
};

}  // namespace natomedia::newsletter
