// The authentication plugin's pruner over a real SQLite database with the plugin's migrations:
// pending accounts go 7 days after created_at (with their sessions and grants), verified ones
// stay; sessions go past either lifetime, at the second resolve_session would refuse them;
// expired grants go, live ones stay.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "account_store.h"
#include "retention.h"
#include "schema.h"

namespace natomedia::auth {
namespace {

constexpr std::time_t kNow = 1800000000;

class RetentionTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RetentionTest);
  CPPUNIT_TEST(testPrunesExactlyWhatIsDue);
  CPPUNIT_TEST(testLifetimesComeFromTheConfiguration);
  CPPUNIT_TEST_SUITE_END();

  // The plugin test kit's in-memory SQLite, with the module's migration runner.
  std::unique_ptr<natomedia::testing::TestDatabase> db_;
  natomedia::Sql* sql_ = nullptr;

  int64_t account(const std::string& email, const std::string& state, std::time_t age) {
    auto r = sql_->exec(
        "INSERT INTO accounts (email, password_hash, state, created_at) VALUES (%s, 'x', %s, %s)",
        {email, state, std::to_string(kNow - age)});
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    auto id = sql_->query("SELECT id FROM accounts WHERE email = %s", {email});
    return id->integer(0, "id");
  }

  void session(const std::string& name, int64_t account, std::time_t age, std::time_t idle) {
    auto r = sql_->exec(
        "INSERT INTO account_sessions (id_hash, account_id, created_at, last_seen) "
        "VALUES (%s, %s, %s, %s)",
        {name, std::to_string(account), std::to_string(kNow - age), std::to_string(kNow - idle)});
    CPPUNIT_ASSERT(r.ok());
  }

  void grant(const std::string& name, int64_t account, std::time_t expires_in) {
    auto r = sql_->exec(
        "INSERT INTO password_reset_grants (grant_hash, account_id, expires_at) "
        "VALUES (%s, %s, %s)",
        {name, std::to_string(account), std::to_string(kNow + expires_in)});
    CPPUNIT_ASSERT(r.ok());
  }

  std::string names(const std::string& sql) {
    auto rows = sql_->query(sql, {});
    CPPUNIT_ASSERT_MESSAGE(rows.ok() ? "" : rows.status().message(), rows.ok());
    std::string out;
    for (size_t i = 0; i < rows->size(); ++i)
      out += (out.empty() ? "" : " ") + rows->rows[i][0].value_or("NULL");
    return out;
  }

  long long count(const std::vector<Pruned>& counts, const std::string& what) {
    for (const auto& p : counts)
      if (p.what == what) return p.rows;
    CPPUNIT_FAIL("no count for " + what);
    return -1;
  }

 public:
  void setUp() override {
    db_ = std::make_unique<natomedia::testing::TestDatabase>();
    sql_ = &db_->sql();
    std::vector<natomedia::Migration> ms;
    for (auto& m : schema_migrations()) ms.push_back(m);
    Status migrated = db_->migrate("authentication", ms);
    CPPUNIT_ASSERT_MESSAGE(migrated.message(), migrated.ok());
  }

  void tearDown() override {
    sql_ = nullptr;
    db_.reset();
  }

  void testPrunesExactlyWhatIsDue() {
    const int64_t ann = account("ann@x", "verified", 400 * 86400);
    const int64_t stale = account("stale@x", "pending", kPendingAccountLifetime);
    account("fresh@x", "pending", kPendingAccountLifetime - 1);
    account("off@x", "disabled", 400 * 86400);
    SiteConfig config;  // idle 1800, max 43200
    session("live", ann, 43200 - 1, 1800 - 1);
    session("idle", ann, 60, 1800);
    session("old", ann, 43200, 0);
    session("of-stale", stale, 0, 0);  // cannot happen today; goes with its account anyway
    grant("expired", ann, 0);
    grant("live", ann, 1);
    grant("of-stale", stale, 600);

    auto r = prune(*sql_, config, kNow);
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    CPPUNIT_ASSERT_EQUAL(1LL, count(*r, "pending accounts"));
    CPPUNIT_ASSERT_EQUAL(2LL, count(*r, "expired sessions"));
    CPPUNIT_ASSERT_EQUAL(1LL, count(*r, "expired reset grants"));
    CPPUNIT_ASSERT_EQUAL(std::string("ann@x fresh@x off@x"),
                         names("SELECT email FROM accounts ORDER BY email"));
    CPPUNIT_ASSERT_EQUAL(std::string("live"), names("SELECT id_hash FROM account_sessions"));
    CPPUNIT_ASSERT_EQUAL(std::string("live"),
                         names("SELECT grant_hash FROM password_reset_grants"));

    auto again = prune(*sql_, config, kNow);
    CPPUNIT_ASSERT(again.ok());
    for (const auto& p : *again) CPPUNIT_ASSERT_EQUAL(int64_t{0}, p.rows);
  }

  void testLifetimesComeFromTheConfiguration() {
    const int64_t ann = account("ann@x", "verified", 0);
    session("a", ann, 100, 50);
    session("b", ann, 100, 100);
    session("c", ann, 200, 10);
    SiteConfig config;
    config.session_idle = 100;
    config.session_max = 200;
    auto r = prune(*sql_, config, kNow);
    CPPUNIT_ASSERT(r.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("a"), names("SELECT id_hash FROM account_sessions"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RetentionTest);

}  // namespace
}  // namespace natomedia::auth
