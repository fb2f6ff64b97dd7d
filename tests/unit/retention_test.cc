// Retention over a real SQLite database with the core's migrations: the outbox's pruner removes
// exactly what is due (delivered rows after 7 days, failed texts after 24 hours, failed rows
// after 7 days) at the second, core::prune runs every pruner in its own transaction and goes on
// after one fails, and describe() makes the log line.
#include <cppunit/extensions/HelperMacros.h>

#include <apr_general.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/mail_outbox.h"
#include "core/migrations.h"
#include "core/plugin_registry.h"
#include "core/retention.h"
#include "core/sql_dbd.h"

namespace natomedia::core {
namespace {

constexpr std::time_t kNow = 1800000000;

class RetentionTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RetentionTest);
  CPPUNIT_TEST(testOutboxPrunesExactlyWhatIsDue);
  CPPUNIT_TEST(testMigrationEmptiesDeliveredTexts);
  CPPUNIT_TEST(testFailingPrunerIsRolledBackAndOthersRun);
  CPPUNIT_TEST(testRegistryRunsTheCoreFirst);
  CPPUNIT_TEST_SUITE_END();

  apr_pool_t* pool_ = nullptr;
  std::string dir_;
  std::unique_ptr<OwnedDbdSql> sql_;

  void migrate_core(int up_to) {
    std::vector<OwnedMigration> ms;
    for (auto& m : core_migrations())
      if (m.version <= up_to) ms.push_back({"core", m});
    auto r = migrate(*sql_, ms);
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
  }

  // A row as the sender leaves it: `status` with its times; "sent" rows have no text.
  void row(const std::string& to, const std::string& status, SqlValue message, SqlValue sent_at,
           SqlValue failed_at) {
    auto r = sql_->exec(
        "INSERT INTO mail_outbox (recipient, subject, message, status, attempts, created_at, "
        "next_attempt_at, sent_at, failed_at) VALUES (%s, 'Your verification code', %s, %s, 1, "
        "%s, %s, %s, %s)",
        {to, message, status, std::to_string(kNow - 30 * 86400), std::to_string(kNow), sent_at,
         failed_at});
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
  }

  std::string column(const std::string& to, const std::string& name) {
    auto rows = sql_->query("SELECT * FROM mail_outbox WHERE recipient = %s", {to});
    CPPUNIT_ASSERT(rows.ok());
    if (rows->empty()) return "<gone>";
    return rows->text(0, name);
  }

  static SqlValue t(std::time_t age) { return std::to_string(kNow - age); }

 public:
  void setUp() override {
    apr_initialize();
    apr_pool_create(&pool_, nullptr);
    char tmpl[] = "/tmp/nm-retention-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto sql = open_dbd("sqlite3", dir_ + "/test.db", pool_);
    CPPUNIT_ASSERT_MESSAGE(sql.status().message(), sql.ok());
    sql_ = std::move(*sql);
  }

  void tearDown() override {
    sql_.reset();
    apr_pool_destroy(pool_);
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

  void testOutboxPrunesExactlyWhatIsDue() {
    migrate_core(1000);
    const std::string body = "Subject: Your verification code\r\n\r\nMTIzNDU2";
    row("sent-7d@x", "sent", std::string(), t(kDeliveredRetention), std::nullopt);
    row("sent-7d-1s@x", "sent", std::string(), t(kDeliveredRetention - 1), std::nullopt);
    row("failed-24h@x", "failed", body, std::nullopt, t(kFailedTextRetention));
    row("failed-24h-1s@x", "failed", body, std::nullopt, t(kFailedTextRetention - 1));
    row("failed-7d@x", "failed", std::string(), std::nullopt, t(kFailedRetention));
    row("queued-old@x", "queued", body, std::nullopt, std::nullopt);

    auto r = prune_outbox(*sql_, SiteConfig{}, kNow);
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{3}, r->size());
    CPPUNIT_ASSERT_EQUAL(std::string("delivered mails"), (*r)[0].what);
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, (*r)[0].rows);
    CPPUNIT_ASSERT_EQUAL(std::string("failed mail bodies"), (*r)[1].what);
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, (*r)[1].rows);
    CPPUNIT_ASSERT_EQUAL(std::string("failed mails"), (*r)[2].what);
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, (*r)[2].rows);

    CPPUNIT_ASSERT_EQUAL(std::string("<gone>"), column("sent-7d@x", "status"));
    CPPUNIT_ASSERT_EQUAL(std::string("sent"), column("sent-7d-1s@x", "status"));
    CPPUNIT_ASSERT_EQUAL(std::string(), column("failed-24h@x", "message"));
    CPPUNIT_ASSERT_EQUAL(std::string("failed"), column("failed-24h@x", "status"));
    CPPUNIT_ASSERT_EQUAL(std::string("Your verification code"), column("failed-24h@x", "subject"));
    CPPUNIT_ASSERT_EQUAL(body, column("failed-24h-1s@x", "message"));
    CPPUNIT_ASSERT_EQUAL(std::string("<gone>"), column("failed-7d@x", "status"));
    CPPUNIT_ASSERT_EQUAL(body, column("queued-old@x", "message"));  // still to be delivered

    // Nothing more is due.
    auto again = prune_outbox(*sql_, SiteConfig{}, kNow);
    CPPUNIT_ASSERT(again.ok());
    for (const auto& p : *again) CPPUNIT_ASSERT_EQUAL(int64_t{0}, p.rows);
  }

  void testMigrationEmptiesDeliveredTexts() {
    migrate_core(2);  // the outbox as version 1 left it: delivered texts kept
    for (const char* status : {"sent", "failed", "queued"}) {
      auto r = sql_->exec(
          "INSERT INTO mail_outbox (recipient, subject, message, status, attempts, created_at, "
          "next_attempt_at) VALUES (%s, 's', 'the text', %s, 1, %s, %s)",
          {std::string(status) + "@x", std::string(status), std::to_string(kNow),
           std::to_string(kNow)});
      CPPUNIT_ASSERT(r.ok());
    }
    migrate_core(1000);
    CPPUNIT_ASSERT_EQUAL(std::string(), column("sent@x", "message"));
    CPPUNIT_ASSERT_EQUAL(std::string("the text"), column("failed@x", "message"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(kNow + 86400), column("failed@x", "failed_at"));
    CPPUNIT_ASSERT_EQUAL(std::string("the text"), column("queued@x", "message"));
    CPPUNIT_ASSERT_EQUAL(std::string(), column("queued@x", "failed_at"));
  }

  void testFailingPrunerIsRolledBackAndOthersRun() {
    CPPUNIT_ASSERT(sql_->exec("CREATE TABLE a (v INTEGER)", {}).ok());
    CPPUNIT_ASSERT(sql_->exec("INSERT INTO a VALUES (1)", {}).ok());
    CPPUNIT_ASSERT(sql_->exec("INSERT INTO a VALUES (2)", {}).ok());
    SiteConfig config;
    config.download_log_days = 9;
    std::vector<OwnedPruner> pruners = {
        {"first",
         [](Sql& sql, const SiteConfig& c, std::time_t now) -> Result<std::vector<Pruned>> {
           CPPUNIT_ASSERT_EQUAL(9L, c.download_log_days);
           CPPUNIT_ASSERT_EQUAL(kNow, now);
           auto n = sql.exec("DELETE FROM a WHERE v = 1", {});
           if (!n.ok()) return n.status();
           return std::vector<Pruned>{{"ones", *n}};
         }},
        {"broken",
         [](Sql& sql, const SiteConfig&, std::time_t) -> Result<std::vector<Pruned>> {
           sql.exec("DELETE FROM a WHERE v = 2", {});  // rolled back with the failure
           auto n = sql.exec("DELETE FROM no_such_table", {});
           if (!n.ok()) return n.status();
           return std::vector<Pruned>{};
         }},
        {"thrower",
         [](Sql&, const SiteConfig&, std::time_t) -> Result<std::vector<Pruned>> {
           throw std::runtime_error("boom");
         }},
        {"last",
         [](Sql&, const SiteConfig&, std::time_t) -> Result<std::vector<Pruned>> {
           return std::vector<Pruned>{{"nothing", 0}};
         }},
    };
    PruneOutcome outcome = prune(*sql_, pruners, config, kNow);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, outcome.removed.size());
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, outcome.total());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, outcome.errors.size());
    CPPUNIT_ASSERT(outcome.errors[0].rfind("broken: ", 0) == 0);
    CPPUNIT_ASSERT(outcome.errors[1].find("thrower: pruner threw: boom") == 0);
    auto left = sql_->query("SELECT v FROM a", {});
    CPPUNIT_ASSERT(left.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, left->size());
    CPPUNIT_ASSERT_EQUAL(2LL, left->integer(0, "v"));
    CPPUNIT_ASSERT_EQUAL(std::string("pruned 1 rows: 1 ones, 0 nothing; 2 pruner(s) failed"),
                         describe(outcome));
  }

  void testRegistryRunsTheCoreFirst() {
    PluginRegistry registry{SiteConfig{}};
    CPPUNIT_ASSERT_EQUAL(size_t{1}, registry.pruners().size());
    CPPUNIT_ASSERT_EQUAL(std::string("core"), registry.pruners()[0].owner);
    migrate_core(1000);
    PruneOutcome outcome = prune(*sql_, registry.pruners(), SiteConfig{}, kNow);
    CPPUNIT_ASSERT(outcome.errors.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("pruned 0 rows: 0 delivered mails, 0 failed mail bodies, "
                                     "0 failed mails"),
                         describe(outcome));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RetentionTest);

}  // namespace
}  // namespace natomedia::core
