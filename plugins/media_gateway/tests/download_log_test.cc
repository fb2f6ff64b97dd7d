// The download log's retention over a real SQLite database with the plugin's migration: rows
// whose last request is NatoMediaDownloadLogDays old go, younger ones stay, and the plugin's
// quota and "recent downloads" still read what is left.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "download_log.h"
#include "download_quota.h"

namespace natomedia::media_gateway {
namespace {

constexpr std::time_t kNow = 1800000000;
constexpr std::time_t kDay = 86400;

class DownloadLogTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(DownloadLogTest);
  CPPUNIT_TEST(testPruneRemovesRowsOlderThanTheDays);
  CPPUNIT_TEST(testPruneRemovesPastDaysQuotaCounts);
  CPPUNIT_TEST(testEachWholeFileIsADownloadOfItsOwn);
  CPPUNIT_TEST_SUITE_END();

  // The plugin test kit's in-memory SQLite, with the module's migration runner.
  std::unique_ptr<natomedia::testing::TestDatabase> db_;
  natomedia::Sql* sql_ = nullptr;

  void record(const std::string& item, std::time_t at) {
    auto r = DownloadLog::record(*sql_, {7, item, "hd720"}, 100, 200, at);
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
  }

 public:
  void setUp() override {
    db_ = std::make_unique<natomedia::testing::TestDatabase>();
    sql_ = &db_->sql();
    Status migrated = db_->migrate("media_gateway",
                          {DownloadLog::migration(), DownloadQuota::migration()});
    CPPUNIT_ASSERT_MESSAGE(migrated.message(), migrated.ok());
  }

  void tearDown() override {
    sql_ = nullptr;
    db_.reset();
  }

  void testPruneRemovesRowsOlderThanTheDays() {
    record("old", kNow - 400 * kDay);
    record("edge", kNow - 400 * kDay + 1);
    record("today", kNow);
    auto n = DownloadLog::prune(*sql_, 400, kNow);
    CPPUNIT_ASSERT(n.ok());
    CPPUNIT_ASSERT_EQUAL(1, *n);
    auto rows = DownloadLog::recent(*sql_, 7, 10);
    CPPUNIT_ASSERT(rows.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, rows->size());
    CPPUNIT_ASSERT_EQUAL(std::string("today"), (*rows)[0].item_id);
    CPPUNIT_ASSERT_EQUAL(std::string("edge"), (*rows)[1].item_id);

    // A shorter retention takes more; nothing due, nothing taken.
    CPPUNIT_ASSERT_EQUAL(1, *DownloadLog::prune(*sql_, 1, kNow));
    CPPUNIT_ASSERT_EQUAL(0, *DownloadLog::prune(*sql_, 1, kNow));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, DownloadLog::recent(*sql_, 7, 10)->size());
  }

  // Three 200s of the same file within the hour: three rows, each with the file's bytes; the
  // range requests after the last one add to it, not to a row of their own.
  void testEachWholeFileIsADownloadOfItsOwn() {
    for (int i = 0; i < 3; ++i) {
      DownloadKey key{7, "v", "hd720", whole_file_bucket(std::string(7, '\x11') + char('a' + i))};
      auto started = DownloadLog::record(*sql_, key, 70600, 200, kNow + i);
      CPPUNIT_ASSERT(started.ok() && *started);
    }
    DownloadKey part{7, "v", "hd720", whole_file_bucket("\x22\x22\x22\x22\x22\x22\x22\x22")};
    auto joined = DownloadLog::record(*sql_, part, 100, 206, kNow + 5);
    CPPUNIT_ASSERT(joined.ok() && !*joined);
    auto rows = DownloadLog::recent(*sql_, 7, 10);
    CPPUNIT_ASSERT(rows.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{3}, rows->size());
    CPPUNIT_ASSERT_EQUAL(uint64_t{70700}, (*rows)[0].bytes);
    CPPUNIT_ASSERT_EQUAL(uint64_t{70600}, (*rows)[1].bytes);
    CPPUNIT_ASSERT_EQUAL(uint64_t{70600}, (*rows)[2].bytes);
    CPPUNIT_ASSERT(whole_file_bucket("\xff\xff\xff\xff\xff\xff\xff\xff") < 0);
    CPPUNIT_ASSERT(whole_file_bucket(std::string(8, '\0')) < 0);
  }

  // A past day's count goes; today's stays and still refuses what passes the quota.
  void testPruneRemovesPastDaysQuotaCounts() {
    CPPUNIT_ASSERT(*DownloadQuota::reserve(*sql_, 7, 500, 1000, kNow - kDay));
    CPPUNIT_ASSERT(*DownloadQuota::reserve(*sql_, 8, 900, 1000, kNow));
    auto n = DownloadQuota::prune(*sql_, kNow);
    CPPUNIT_ASSERT(n.ok());
    CPPUNIT_ASSERT_EQUAL(1, *n);
    CPPUNIT_ASSERT_EQUAL(0, *DownloadQuota::prune(*sql_, kNow));
    CPPUNIT_ASSERT(!*DownloadQuota::reserve(*sql_, 8, 200, 1000, kNow));
    CPPUNIT_ASSERT(*DownloadQuota::reserve(*sql_, 7, 1000, 1000, kNow));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DownloadLogTest);

}  // namespace
}  // namespace natomedia::media_gateway
