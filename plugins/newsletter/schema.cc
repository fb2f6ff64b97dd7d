#include "schema.h"

namespace natomedia::newsletter {

namespace {

Migration initial_schema() {
  Migration m;
  m.version = 1;
  m.description = "newsletter subscriptions, consents, issues and deliveries";
  m.sqlite = {
      "CREATE TABLE subscriptions (id INTEGER PRIMARY KEY AUTOINCREMENT, "
      "account_id BIGINT NOT NULL UNIQUE, email VARCHAR(320) NOT NULL, lang VARCHAR(8) NOT NULL, "
      "state VARCHAR(16) NOT NULL, subscribed_at BIGINT NOT NULL, unsubscribed_at BIGINT)",
      "CREATE INDEX subscriptions_state ON subscriptions (state)",
      "CREATE TABLE consents (id INTEGER PRIMARY KEY AUTOINCREMENT, "
      "subscription_id BIGINT NOT NULL, account_id BIGINT NOT NULL, email VARCHAR(320) NOT NULL, "
      "action VARCHAR(16) NOT NULL, recorded_at BIGINT NOT NULL, ip VARCHAR(64) NOT NULL, "
      "user_agent VARCHAR(512) NOT NULL, text_version VARCHAR(64) NOT NULL, "
      "lang VARCHAR(8) NOT NULL, source VARCHAR(32) NOT NULL)",
      "CREATE INDEX consents_subscription ON consents (subscription_id, recorded_at)",
      "CREATE TABLE newsletter_issues (id INTEGER PRIMARY KEY AUTOINCREMENT, "
      "created_at BIGINT NOT NULL, sent_at BIGINT, items TEXT NOT NULL, "
      "newest_item_at BIGINT NOT NULL)",
      // Each issue carries items newer than the last one's: two runs cannot both create it.
      "CREATE UNIQUE INDEX newsletter_issues_newest ON newsletter_issues (newest_item_at)",
      "CREATE TABLE newsletter_deliveries (issue_id BIGINT NOT NULL, "
      "subscription_id BIGINT NOT NULL, queued_at BIGINT NOT NULL, "
      "PRIMARY KEY (issue_id, subscription_id))",
  };
  m.pgsql = {
      "CREATE TABLE subscriptions (id BIGSERIAL PRIMARY KEY, "
      "account_id BIGINT NOT NULL UNIQUE, email VARCHAR(320) NOT NULL, lang VARCHAR(8) NOT NULL, "
      "state VARCHAR(16) NOT NULL, subscribed_at BIGINT NOT NULL, unsubscribed_at BIGINT)",
      "CREATE INDEX subscriptions_state ON subscriptions (state)",
      "CREATE TABLE consents (id BIGSERIAL PRIMARY KEY, "
      "subscription_id BIGINT NOT NULL, account_id BIGINT NOT NULL, email VARCHAR(320) NOT NULL, "
      "action VARCHAR(16) NOT NULL, recorded_at BIGINT NOT NULL, ip VARCHAR(64) NOT NULL, "
      "user_agent VARCHAR(512) NOT NULL, text_version VARCHAR(64) NOT NULL, "
      "lang VARCHAR(8) NOT NULL, source VARCHAR(32) NOT NULL)",
      "CREATE INDEX consents_subscription ON consents (subscription_id, recorded_at)",
      "CREATE TABLE newsletter_issues (id BIGSERIAL PRIMARY KEY, "
      "created_at BIGINT NOT NULL, sent_at BIGINT, items TEXT NOT NULL, "
      "newest_item_at BIGINT NOT NULL)",
      // Each issue carries items newer than the last one's: two runs cannot both create it.
      "CREATE UNIQUE INDEX newsletter_issues_newest ON newsletter_issues (newest_item_at)",
      "CREATE TABLE newsletter_deliveries (issue_id BIGINT NOT NULL, "
      "subscription_id BIGINT NOT NULL, queued_at BIGINT NOT NULL, "
      "PRIMARY KEY (issue_id, subscription_id))",
  };
  return m;
}

}  // namespace

std::vector<Migration> migrations() { return {initial_schema()}; }

}  // namespace natomedia::newsletter
