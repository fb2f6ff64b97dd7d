// SubscriptionStore over a real SQLite database with the plugin's own migrations: subscribing
// records consent, subscribing twice changes nothing, unsubscribing is idempotent and recorded,
// a version-1 token's row needs its address, subscribing again reuses the row with a new
// consent. And the pieces of natomedia-admin's newsletter commands: CSV fields, dates, which items
// make the next issue.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include "admin_newsletter.h"
#include "schema.h"
#include "subscriptions.h"

namespace natomedia::newsletter {
namespace {

class NewsletterStoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(NewsletterStoreTest);
  CPPUNIT_TEST(testSubscribeRecordsConsent);
  CPPUNIT_TEST(testSubscribeTwiceChangesNothing);
  CPPUNIT_TEST(testUnsubscribeIsIdempotent);
  CPPUNIT_TEST(testVersion1TokenRowNeedsTheRightAddress);
  CPPUNIT_TEST(testResubscribeReusesRowWithNewConsent);
  CPPUNIT_TEST(testExportQuotesAndShowsLatestConsent);
  CPPUNIT_TEST(testCsvField);
  CPPUNIT_TEST(testIssueItems);
  CPPUNIT_TEST_SUITE_END();

  // The plugin test kit's in-memory SQLite, with the module's migration runner.
  std::unique_ptr<natomedia::testing::TestDatabase> db_;
  natomedia::Sql* sql_ = nullptr;

  Account account(int64_t id, const std::string& email) {
    Account a;
    a.id = id;
    a.email = email;
    a.state = "verified";
    return a;
  }

  ConsentRecord consent(const std::string& source) {
    return ConsentRecord{"192.0.2.7", "Agent/1.0", kConsentTextVersion, "fr", source};
  }

  long long count(const std::string& sql) {
    auto rows = sql_->query(sql, {});
    CPPUNIT_ASSERT_MESSAGE(rows.status().message(), rows.ok());
    return rows->integer(0, "n");
  }

 public:
  void setUp() override {
    db_ = std::make_unique<natomedia::testing::TestDatabase>();
    sql_ = &db_->sql();
    std::vector<natomedia::Migration> all;
    for (auto& m : migrations()) all.push_back(m);
    auto report = db_->migrate("newsletter", all);
    CPPUNIT_ASSERT_MESSAGE(report.message(), report.ok());
  }

  void tearDown() override {
    sql_ = nullptr;
    db_.reset();
  }

  void testSubscribeRecordsConsent() {
    SubscriptionStore store(*sql_, 1000);
    auto r = store.subscribe(account(5, "a@example.org"), consent("verification"));
    CPPUNIT_ASSERT_MESSAGE(r.status().message(), r.ok());
    CPPUNIT_ASSERT(!r->already);
    CPPUNIT_ASSERT_EQUAL(std::string("subscribed"), r->subscription.state);
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), r->subscription.lang);
    auto rows = sql_->query("SELECT * FROM consents", {});
    CPPUNIT_ASSERT(rows.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, rows->size());
    CPPUNIT_ASSERT_EQUAL(std::string("given"), rows->text(0, "action"));
    CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7"), rows->text(0, "ip"));
    CPPUNIT_ASSERT_EQUAL(std::string("Agent/1.0"), rows->text(0, "user_agent"));
    CPPUNIT_ASSERT_EQUAL(std::string(kConsentTextVersion), rows->text(0, "text_version"));
    CPPUNIT_ASSERT_EQUAL(std::string("verification"), rows->text(0, "source"));
    CPPUNIT_ASSERT_EQUAL(1000LL, rows->integer(0, "recorded_at"));
  }

  void testSubscribeTwiceChangesNothing() {
    SubscriptionStore(*sql_, 1000).subscribe(account(5, "a@example.org"), consent("a"));
    auto again =
        SubscriptionStore(*sql_, 2000).subscribe(account(5, "a@example.org"), consent("b"));
    CPPUNIT_ASSERT(again.ok());
    CPPUNIT_ASSERT(again->already);
    CPPUNIT_ASSERT_EQUAL(std::time_t{1000}, again->subscription.subscribed_at);
    CPPUNIT_ASSERT_EQUAL(1LL, count("SELECT COUNT(*) AS n FROM consents"));
  }

  void testUnsubscribeIsIdempotent() {
    SubscriptionStore store(*sql_, 1000);
    store.subscribe(account(5, "a@example.org"), consent("a"));
    auto off = store.unsubscribe_account(5, consent("link"));
    CPPUNIT_ASSERT(off.ok() && *off);
    CPPUNIT_ASSERT_EQUAL(std::string("unsubscribed"), store.find_by_account(5)->state);
    auto twice = store.unsubscribe_account(5, consent("link"));
    CPPUNIT_ASSERT(twice.ok() && !*twice);
    auto never = store.unsubscribe_account(6, consent("link"));
    CPPUNIT_ASSERT(never.ok() && !*never);
    CPPUNIT_ASSERT_EQUAL(1LL, count("SELECT COUNT(*) AS n FROM consents WHERE action = "
                                    "'withdrawn'"));
  }

  void testVersion1TokenRowNeedsTheRightAddress() {
    SubscriptionStore store(*sql_, 1000);
    auto s = store.subscribe(account(5, "a@example.org"), consent("a"));
    const int64_t id = s->subscription.id;
    auto wrong = store.find_by_id_and_email(id, "b@example.org");
    CPPUNIT_ASSERT(!wrong.ok() && wrong.status().code() == Status::Code::kNotFound);
    auto gone = store.find_by_id_and_email(id + 100, "a@example.org");
    CPPUNIT_ASSERT(!gone.ok() && gone.status().code() == Status::Code::kNotFound);
    auto right = store.find_by_id_and_email(id, "a@example.org");
    CPPUNIT_ASSERT(right.ok());
    CPPUNIT_ASSERT_EQUAL(int64_t{5}, right->account_id);
  }

  void testResubscribeReusesRowWithNewConsent() {
    SubscriptionStore(*sql_, 1000).subscribe(account(5, "a@example.org"), consent("a"));
    auto off = SubscriptionStore(*sql_, 1500).unsubscribe_account(5, consent("account"));
    CPPUNIT_ASSERT(off.ok() && *off);
    auto on =
        SubscriptionStore(*sql_, 2000).subscribe(account(5, "a@example.org"), consent("account"));
    CPPUNIT_ASSERT(on.ok() && !on->already);
    CPPUNIT_ASSERT_EQUAL(std::time_t{2000}, on->subscription.subscribed_at);
    CPPUNIT_ASSERT_EQUAL(1LL, count("SELECT COUNT(*) AS n FROM subscriptions"));
    CPPUNIT_ASSERT_EQUAL(2LL, count("SELECT COUNT(*) AS n FROM consents WHERE action = 'given'"));
    CPPUNIT_ASSERT_EQUAL(0LL, count("SELECT COUNT(*) AS n FROM subscriptions "
                                    "WHERE unsubscribed_at IS NOT NULL"));
  }

  void testExportQuotesAndShowsLatestConsent() {
    ConsentRecord odd{"192.0.2.7", "=HYPERLINK(\"x\"), \"quoted\"", kConsentTextVersion, "en",
                      "account"};
    SubscriptionStore(*sql_, 1000).subscribe(account(5, "a@example.org"), consent("first"));
    SubscriptionStore(*sql_, 1500).unsubscribe_account(5, consent("account"));
    SubscriptionStore(*sql_, 86400).subscribe(account(5, "a@example.org"), odd);
    std::ostringstream out;
    Status s = admin::export_subscribers(*sql_, out);
    CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
    CPPUNIT_ASSERT_EQUAL(
        std::string("address,language,subscribed_at,consent_version,state,unsubscribed_at,"
                    "consent_given_at,consent_ip,consent_user_agent,consent_source\r\n"
                    "a@example.org,en,1970-01-02T00:00:00Z,newsletter-offer-1,subscribed,,"
                    "1970-01-02T00:00:00Z,192.0.2.7,\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\","
                    "account\r\n"),
        out.str());
  }

  void testCsvField() {
    CPPUNIT_ASSERT_EQUAL(std::string("plain@example.org"), admin::csv_field("plain@example.org"));
    CPPUNIT_ASSERT_EQUAL(std::string("\"a,b\""), admin::csv_field("a,b"));
    CPPUNIT_ASSERT_EQUAL(std::string("\"say \"\"hi\"\"\""), admin::csv_field("say \"hi\""));
    CPPUNIT_ASSERT_EQUAL(std::string("\"line\nbreak\""), admin::csv_field("line\nbreak"));
    for (const char* f : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx"})
      CPPUNIT_ASSERT_EQUAL(std::string("'") + f, admin::csv_field(f));
    CPPUNIT_ASSERT_EQUAL(std::string("\"'\rx\""), admin::csv_field("\rx"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), admin::csv_field(""));
    CPPUNIT_ASSERT_EQUAL(std::string("2023-07-06T18:00:00Z"), admin::iso8601_utc(1688666400));
  }

  void testIssueItems() {
    FeedSnapshot feed;
    for (int i = 15; i >= 1; --i) {  // newest first, as a snapshot keeps them
      NewsItem item;
      item.id = "n" + std::to_string(i);
      item.first_created = i * 100;
      feed.items.push_back(item);
    }
    admin::NewsletterSendOptions options;
    admin::IssueHistory none;
    auto first = admin::select_issue_items(feed, none, options);
    CPPUNIT_ASSERT_EQUAL(size_t{10}, first.size());
    CPPUNIT_ASSERT_EQUAL(std::string("n15"), first.front()->id);
    CPPUNIT_ASSERT_EQUAL(std::string("n6"), first.back()->id);

    admin::IssueHistory after;
    after.any = true;
    after.newest_item_at = 1200;
    after.sent_ids = {"n14"};  // sent before, then re-dated: never twice
    auto next = admin::select_issue_items(feed, after, options);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, next.size());
    CPPUNIT_ASSERT_EQUAL(std::string("n15"), next[0]->id);
    CPPUNIT_ASSERT_EQUAL(std::string("n13"), next[1]->id);

    after.newest_item_at = 1500;
    CPPUNIT_ASSERT(admin::select_issue_items(feed, after, options).empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NewsletterStoreTest);

}  // namespace
}  // namespace natomedia::newsletter
