#include "subscriptions.h"

#include <natomedia/text.h>

namespace natomedia::newsletter {

namespace {

constexpr size_t kMaxUserAgentBytes = 512;
constexpr size_t kMaxIpBytes = 64;
constexpr int kSubscribeAttempts = 2;  // a second try after losing a race to insert the row

const char* kColumns =
    "SELECT id, account_id, email, lang, state, subscribed_at FROM subscriptions WHERE ";

// At most `max` bytes, never cutting a UTF-8 sequence in two.
std::string cut_utf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

Result<Subscription> SubscriptionStore::select_one(const std::string& where,
                                                   const std::vector<SqlValue>& params) {
  auto rows = sql_.query(kColumns + where, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no such subscription");
  Subscription s;
  s.id = rows->integer(0, "id");
  s.account_id = rows->integer(0, "account_id");
  s.email = rows->text(0, "email");
  s.lang = rows->text(0, "lang");
  s.state = rows->text(0, "state");
  s.subscribed_at = static_cast<std::time_t>(rows->integer(0, "subscribed_at"));
  return s;
}

Result<Subscription> SubscriptionStore::find_by_account(int64_t account_id) {
  return select_one("account_id = CAST(%s AS BIGINT)", {std::to_string(account_id)});
}

Result<Subscription> SubscriptionStore::find_by_id_and_email(int64_t subscription_id,
                                                             const std::string& email) {
  return select_one("id = CAST(%s AS BIGINT) AND email = %s",
                    {std::to_string(subscription_id), email});
}

Status SubscriptionStore::insert_subscription(const Account& account, const std::string& lang) {
  auto r = sql_.exec(
      "INSERT INTO subscriptions (account_id, email, lang, state, subscribed_at, unsubscribed_at) "
      "VALUES (CAST(%s AS BIGINT), %s, %s, 'subscribed', CAST(%s AS BIGINT), NULL)",
      {std::to_string(account.id), account.email, lang, std::to_string(now_)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SubscriptionStore::resubscribe(const Subscription& existing, const Account& account,
                                      const std::string& lang) {
  auto r = sql_.exec(
      "UPDATE subscriptions SET email = %s, lang = %s, state = 'subscribed', "
      "subscribed_at = CAST(%s AS BIGINT), unsubscribed_at = NULL WHERE id = CAST(%s AS BIGINT)",
      {account.email, lang, std::to_string(now_), std::to_string(existing.id)});
  return r.ok() ? Status::Ok() : r.status();
}

Status SubscriptionStore::record_consent(const Subscription& s, const std::string& action,
                                         const ConsentRecord& c) {
  auto r = sql_.exec(
      "INSERT INTO consents (subscription_id, account_id, email, action, recorded_at, ip, "
      "user_agent, text_version, lang, source) VALUES (CAST(%s AS BIGINT), CAST(%s AS BIGINT), "
      "%s, %s, CAST(%s AS BIGINT), %s, %s, %s, %s, %s)",
      {std::to_string(s.id), std::to_string(s.account_id), s.email, action, std::to_string(now_),
       cut_utf8(c.ip, kMaxIpBytes), cut_utf8(c.user_agent, kMaxUserAgentBytes), c.text_version,
       c.lang, c.source});
  return r.ok() ? Status::Ok() : r.status();
}

Result<SubscribeOutcome> SubscriptionStore::subscribe(const Account& account,
                                                      const ConsentRecord& consent) {
  const std::string lang = consent.lang == "fr" ? "fr" : "en";
  Status last = Status::Internal("not attempted");
  for (int attempt = 0; attempt < kSubscribeAttempts; ++attempt) {
    SubscribeOutcome out;
    last = transaction(sql_, [&]() -> Status {
      auto existing = find_by_account(account.id);
      if (existing.ok() && existing->state == "subscribed") {
        out.subscription = *existing;
        out.already = true;
        return Status::Ok();
      }
      if (!existing.ok() && existing.status().code() != Status::Code::kNotFound)
        return existing.status();
      Status s = existing.ok() ? resubscribe(*existing, account, lang)
                               : insert_subscription(account, lang);
      if (!s.ok()) return s;
      auto now = find_by_account(account.id);
      if (!now.ok()) return now.status();
      out.subscription = *now;
      return record_consent(*now, "given", consent);
    });
    if (last.ok()) return out;
    if (last.code() != Status::Code::kConflict) break;
  }
  return last;
}

Status SubscriptionStore::withdraw(const Subscription& s, const ConsentRecord& how, bool* changed) {
  *changed = false;
  if (s.state != "subscribed") return Status::Ok();
  auto r = sql_.exec(
      "UPDATE subscriptions SET state = 'unsubscribed', unsubscribed_at = CAST(%s AS BIGINT) "
      "WHERE id = CAST(%s AS BIGINT) AND state = 'subscribed'",
      {std::to_string(now_), std::to_string(s.id)});
  if (!r.ok()) return r.status();
  if (*r == 0) return Status::Ok();  // a racing request withdrew it first
  *changed = true;
  return record_consent(s, "withdrawn", how);
}

Result<bool> SubscriptionStore::unsubscribe_account(int64_t account_id, const ConsentRecord& how) {
  bool changed = false;
  Status s = transaction(sql_, [&]() -> Status {
    auto row = find_by_account(account_id);
    if (!row.ok())
      return row.status().code() == Status::Code::kNotFound ? Status::Ok() : row.status();
    return withdraw(*row, how, &changed);
  });
  if (!s.ok()) return s;
  return changed;
}

}  // namespace natomedia::newsletter
