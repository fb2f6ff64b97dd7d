// Regression test (issue 8, test_faults.py's SQLite-locked case): a transaction that cannot
// start because another writer holds the SQLite file must leave the pooled connection usable.
// apr-util's sqlite3 driver attaches a transaction to the handle even when BEGIN fails; unless
// it is ended, every later statement on that connection fails ("not an error") for good.
#include <cppunit/extensions/HelperMacros.h>

#include <apr_general.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/sql_dbd.h"

namespace natomedia::core {
namespace {

class SqlBusyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SqlBusyTest);
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
    char tmpl[] = "/tmp/nm-sqlbusy-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/test.db";
  }

  void tearDown() override {
    apr_pool_destroy(pool_);
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

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

CPPUNIT_TEST_SUITE_REGISTRATION(SqlBusyTest);

}  // namespace
}  // namespace natomedia::core
