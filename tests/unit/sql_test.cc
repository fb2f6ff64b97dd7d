// The SQL service and schema migrations over a real SQLite database (PostgreSQL is exercised by
// tests/integration/test_foundation.py through a running httpd).
#include <cppunit/extensions/HelperMacros.h>

#include <apr_general.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/migrations.h"
#include "core/sql_dbd.h"

namespace natomedia::core {
namespace {

class SqlTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SqlTest);
  CPPUNIT_TEST(testParamsNullsAndRows);
  CPPUNIT_TEST(testUniqueViolationIsConflict);
  CPPUNIT_TEST(testTransactionCommitAndRollback);
  CPPUNIT_TEST(testMigrationsApplyOnceInOrder);
  CPPUNIT_TEST(testStaleStatementAfterSchemaChangeByAnotherConnection);
  CPPUNIT_TEST(testFailedMigrationIsReportedAndRolledBack);
  CPPUNIT_TEST(testFailedBeginLeavesConnectionUsable);
  CPPUNIT_TEST_SUITE_END();

  apr_pool_t* pool_ = nullptr;
  std::string dir_, path_;

  std::unique_ptr<OwnedDbdSql> open() {
    auto sql = open_dbd("sqlite3", path_, pool_);
    CPPUNIT_ASSERT_MESSAGE(sql.status().message(), sql.ok());
    return std::move(*sql);
  }

 public:
  void setUp() override {
    apr_initialize();
    apr_pool_create(&pool_, nullptr);
    char tmpl[] = "/tmp/nm-sql-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/test.db";
  }

  void tearDown() override {
    apr_pool_destroy(pool_);
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

  void testParamsNullsAndRows() {
    auto sql = open();
    CPPUNIT_ASSERT(sql->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT)", {}).ok());
    auto n = sql->exec("INSERT INTO t (id, name, note) VALUES (%s, %s, %s)",
                       {std::string("1"), std::string("O'Brien; DROP TABLE t"), std::nullopt});
    CPPUNIT_ASSERT(n.ok());
    CPPUNIT_ASSERT_EQUAL(1, *n);
    auto rows = sql->query("SELECT id, name, note FROM t WHERE name = %s",
                           {std::string("O'Brien; DROP TABLE t")});
    CPPUNIT_ASSERT(rows.ok());
    CPPUNIT_ASSERT_EQUAL(size_t(1), rows->size());
    CPPUNIT_ASSERT_EQUAL(1LL, rows->integer(0, "id"));
    CPPUNIT_ASSERT_EQUAL(std::string("O'Brien; DROP TABLE t"), rows->text(0, "name"));
    CPPUNIT_ASSERT(!rows->get(0, "note").has_value());
    CPPUNIT_ASSERT(sql->query("SELECT * FROM t WHERE id = %s", {std::string("2")})->empty());
    CPPUNIT_ASSERT_EQUAL(std::string("sqlite3"), sql->driver());
  }

  void testUniqueViolationIsConflict() {
    auto sql = open();
    CPPUNIT_ASSERT(sql->exec("CREATE TABLE u (email TEXT UNIQUE)", {}).ok());
    CPPUNIT_ASSERT(sql->exec("INSERT INTO u VALUES (%s)", {std::string("a@b")}).ok());
    auto again = sql->exec("INSERT INTO u VALUES (%s)", {std::string("a@b")});
    CPPUNIT_ASSERT(again.status().code() == Status::Code::kConflict);
  }

  void testTransactionCommitAndRollback() {
    auto sql = open();
    CPPUNIT_ASSERT(sql->exec("CREATE TABLE t (v TEXT)", {}).ok());
    Status failed = transaction(*sql, [&] {
      sql->exec("INSERT INTO t VALUES (%s)", {std::string("lost")});
      return Status::Invalid("the caller gives up");
    });
    CPPUNIT_ASSERT(!failed.ok());
    Status ok = transaction(*sql, [&] {
      auto r = sql->exec("INSERT INTO t VALUES (%s)", {std::string("kept")});
      return r.ok() ? Status::Ok() : r.status();
    });
    CPPUNIT_ASSERT_MESSAGE(ok.message(), ok.ok());
    auto rows = sql->query("SELECT v FROM t", {});
    CPPUNIT_ASSERT_EQUAL(size_t(1), rows->size());
    CPPUNIT_ASSERT_EQUAL(std::string("kept"), rows->text(0, "v"));
  }

  void testMigrationsApplyOnceInOrder() {
    std::vector<OwnedMigration> ms;
    for (auto& m : core_migrations()) ms.push_back({"core", m});
    ms.push_back({"plug", {2, "add column", {"ALTER TABLE plug_t ADD COLUMN b TEXT"}, {}}});
    ms.push_back({"plug", {1, "create", {"CREATE TABLE plug_t (a TEXT)"}, {}}});
    auto sql = open();
    auto first = migrate(*sql, ms);
    CPPUNIT_ASSERT_MESSAGE(first.status().message(), first.ok());
    CPPUNIT_ASSERT_EQUAL(size_t(ms.size()), first->applied.size());
    CPPUNIT_ASSERT_EQUAL(std::string("plug 1: create"), first->applied[ms.size() - 2]);
    auto second = migrate(*open(), ms);
    CPPUNIT_ASSERT(second.ok());
    CPPUNIT_ASSERT(second->applied.empty());
    CPPUNIT_ASSERT(sql->exec("INSERT INTO plug_t (a, b) VALUES ('x', 'y')", {}).ok());
    CPPUNIT_ASSERT(sql->query("SELECT id FROM mail_outbox", {}).ok());
  }

  void testStaleStatementAfterSchemaChangeByAnotherConnection() {
    auto a = open();
    CPPUNIT_ASSERT(a->exec("CREATE TABLE t (v TEXT)", {}).ok());
    CPPUNIT_ASSERT(a->query("SELECT v FROM t", {}).ok());  // prepared and cached on `a`
    auto b = open();
    CPPUNIT_ASSERT(b->exec("CREATE TABLE other (x TEXT)", {}).ok());  // schema change elsewhere
    auto again = a->query("SELECT v FROM t", {});
    CPPUNIT_ASSERT_MESSAGE(again.status().message(), again.ok());
    Status in_txn = transaction(*a, [&] {
      CPPUNIT_ASSERT(b->exec("CREATE TABLE third (x TEXT)", {}).ok() || true);
      auto r = a->exec("INSERT INTO t VALUES ('x')", {});
      return r.ok() ? Status::Ok() : r.status();
    });
    CPPUNIT_ASSERT_MESSAGE(in_txn.message(), in_txn.ok());
  }

  void testFailedMigrationIsReportedAndRolledBack() {
    std::vector<OwnedMigration> ms = {
        {"bad", {1, "half", {"CREATE TABLE half (a TEXT)", "THIS IS NOT SQL"}, {}}}};
    auto sql = open();
    auto r = migrate(*sql, ms);
    CPPUNIT_ASSERT(!r.ok());
    CPPUNIT_ASSERT(r.status().message().find("bad 1 (half)") != std::string::npos);
    CPPUNIT_ASSERT(!sql->query("SELECT a FROM half", {}).ok());  // the first statement undone
  }

  // Regression (test_faults.py's SQLite-locked case): apr-util's sqlite3 driver attaches a
  // transaction to the handle even when BEGIN fails; unless it is ended, every later statement on
  // that pooled connection fails ("not an error") for good.
  void testFailedBeginLeavesConnectionUsable() {
    auto holder = open();
    auto victim = open();
    // As the module sets it (the pragma answers with a row, which apr_dbd_query calls an error).
    holder->exec_raw("PRAGMA journal_mode=WAL");
    CPPUNIT_ASSERT(holder->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", {}).ok());
    CPPUNIT_ASSERT(victim->query("SELECT COUNT(*) AS n FROM t", {}).ok());

    // Another writer holds the write lock: BEGIN on the victim fails (after the driver's retries).
    CPPUNIT_ASSERT(holder->exec_raw("BEGIN EXCLUSIVE").ok());
    Status begun = victim->begin();
    CPPUNIT_ASSERT_MESSAGE("BEGIN succeeded under another writer's lock", !begun.ok());
    // A write that fails while the lock is still held must not poison the connection either.
    CPPUNIT_ASSERT(!victim->exec("INSERT INTO t (v) VALUES (%s)", {std::string("busy")}).ok());
    CPPUNIT_ASSERT(holder->exec_raw("COMMIT").ok());

    // The lock is gone: the same connection reads, writes and runs transactions again.
    auto rows = victim->query("SELECT COUNT(*) AS n FROM t", {});
    CPPUNIT_ASSERT_MESSAGE(rows.ok() ? "" : rows.status().message(), rows.ok());
    auto n = victim->exec("INSERT INTO t (v) VALUES (%s)", {std::string("after")});
    CPPUNIT_ASSERT_MESSAGE(n.ok() ? "" : n.status().message(), n.ok());
    CPPUNIT_ASSERT(victim->begin().ok());
    CPPUNIT_ASSERT(victim->exec("INSERT INTO t (v) VALUES (%s)", {std::string("in tx")}).ok());
    CPPUNIT_ASSERT(victim->commit().ok());
    auto count = holder->query("SELECT COUNT(*) AS n FROM t", {});
    CPPUNIT_ASSERT(count.ok());
    CPPUNIT_ASSERT_EQUAL(2LL, count->integer(0, "n"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SqlTest);

}  // namespace
}  // namespace natomedia::core
