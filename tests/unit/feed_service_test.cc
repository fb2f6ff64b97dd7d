// FeedService: reload on change without restart, last good feed kept on a broken file; in
// shared mode, one last good version for every process of a server.
#include "core/feed_service.h"

#include <cppunit/extensions/HelperMacros.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/feed_snapshot_file.h"
#include "feed_fixtures.h"

namespace natomedia {
namespace core {
namespace {

using testing::feed_xml;
using testing::ItemSpec;

const char kSchemaPath[] = NM_SOURCE_DIR "/schemas/natomedia-feed.xsd";

std::string feed_with(const std::vector<std::string>& ids) {
  std::vector<ItemSpec> items;
  for (const std::string& id : ids) {
    ItemSpec s;
    s.id = id;
    items.push_back(s);
  }
  return feed_xml(items);
}

class FeedServiceTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FeedServiceTest);
  CPPUNIT_TEST(testLoadNow);
  CPPUNIT_TEST(testReloadOnChange);
  CPPUNIT_TEST(testAtomicRenameReplacement);
  CPPUNIT_TEST(testBrokenFileKeepsLastGood);
  CPPUNIT_TEST(testBrokenAtStartUp);
  CPPUNIT_TEST(testNoFeedConfigured);
  CPPUNIT_TEST(testConcurrentReaders);
  CPPUNIT_TEST(testWatchedRequestsNeverLoad);
  CPPUNIT_TEST(testWatcherLoadsWithoutRequests);
  CPPUNIT_TEST(testSharedModeParsesOncePerVersion);
  CPPUNIT_TEST(testEveryServedSnapshotIsDerivedFirst);
  CPPUNIT_TEST(testSharedSnapshotOfAnotherVersionIgnored);
  CPPUNIT_TEST(testBrokenSharedSnapshotMeansAParse);
  CPPUNIT_TEST(testRefusedFileLeavesEveryProcessOnTheLastGoodVersion);
  CPPUNIT_TEST(testNewProcessTakesTheLastGoodVersionNotARefusedFile);
  CPPUNIT_TEST(testRefusalAtStartIsNotRepeatedByTheChildren);
  CPPUNIT_TEST(testGoneFileMeansTheLastGoodVersion);
  CPPUNIT_TEST(testStartUpVersionBecomesTheServersWithoutAParse);
  CPPUNIT_TEST(testHostileSharedFilesAreNotFollowed);
  CPPUNIT_TEST(testProcessLockReplacesTheLockFile);
  CPPUNIT_TEST(testProcessLockRefusedMeansLoadingAlone);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    auto schema = FeedSchema::load(kSchemaPath);
    CPPUNIT_ASSERT(schema.ok());
    schema_ = schema.value();
    char dir[] = "/tmp/nm_feed_service_XXXXXX";
    CPPUNIT_ASSERT(mkdtemp(dir) != nullptr);
    dir_ = dir;
    path_ = dir_ + "/feed.xml";
    now_ = 1000;
    logs_.clear();
  }

  void tearDown() override { std::filesystem::remove_all(dir_); }

  void testLoadNow() {
    write(feed_with({"a", "b"}));
    auto service = make();
    CPPUNIT_ASSERT(service->load_now().ok());
    auto snap = service->snapshot();
    CPPUNIT_ASSERT_EQUAL(size_t{2}, snap->items.size());
    CPPUNIT_ASSERT_EQUAL(std::time_t{1000}, snap->loaded_at);
    CPPUNIT_ASSERT(snap->modified > 0);
    CPPUNIT_ASSERT(!snap->version.empty());
    CPPUNIT_ASSERT(logs_.empty());
  }

  void testReloadOnChange() {
    write(feed_with({"a"}));
    auto service = make();
    CPPUNIT_ASSERT(service->load_now().ok());
    auto first = service->snapshot();
    write(feed_with({"a", "b", "c"}));
    // Within the same second the file is not looked at again.
    CPPUNIT_ASSERT_EQUAL(size_t{1}, service->snapshot()->items.size());
    now_ += 1;
    auto second = service->snapshot();
    CPPUNIT_ASSERT_EQUAL(size_t{3}, second->items.size());
    CPPUNIT_ASSERT_EQUAL(std::time_t{1001}, second->loaded_at);
    CPPUNIT_ASSERT(first->version != second->version);
    // The old snapshot a request still holds is untouched.
    CPPUNIT_ASSERT_EQUAL(size_t{1}, first->items.size());
    // No change: the same snapshot object is served.
    now_ += 5;
    CPPUNIT_ASSERT(second == service->snapshot());
    CPPUNIT_ASSERT(logs_.empty());
  }

  void testAtomicRenameReplacement() {
    write(feed_with({"a"}));
    auto service = make();
    CPPUNIT_ASSERT(service->load_now().ok());
    std::ofstream(dir_ + "/new.xml") << feed_with({"z"});
    CPPUNIT_ASSERT_EQUAL(0, rename((dir_ + "/new.xml").c_str(), path_.c_str()));
    now_ += 2;
    service->check_for_change();
    auto snap = service->snapshot();
    CPPUNIT_ASSERT(snap->find("z") != nullptr);
    CPPUNIT_ASSERT(snap->find("a") == nullptr);
  }

  void testBrokenFileKeepsLastGood() {
    write(feed_with({"a", "b"}));
    auto service = make();
    CPPUNIT_ASSERT(service->load_now().ok());
    auto good = service->snapshot();

    std::string broken = feed_with({"a", "b"});
    broken.replace(broken.find("</itemMeta>"), 11, "</itemMetaX>");  // line 13
    write(broken);
    now_ += 1;
    CPPUNIT_ASSERT(good == service->snapshot());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logs_.size());
    CPPUNIT_ASSERT_MESSAGE(logs_[0], logs_[0].find(path_ + ":13:") != std::string::npos);
    // The reasons only: the owner of the service says what they are about, once (issue 18).
    CPPUNIT_ASSERT_MESSAGE(logs_[0], logs_[0].rfind(path_ + ":13:", 0) == 0);
    CPPUNIT_ASSERT_MESSAGE(logs_[0], logs_[0].find("feed " + path_) == std::string::npos);

    // The same broken file is not re-parsed nor logged again every second.
    now_ += 1;
    CPPUNIT_ASSERT(good == service->snapshot());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logs_.size());

    // Valid XML that breaks a rule of ours: also refused, with its line.
    write(feed_with({"a", "a"}));
    now_ += 1;
    CPPUNIT_ASSERT(good == service->snapshot());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, logs_.size());
    CPPUNIT_ASSERT_MESSAGE(
        logs_[1], logs_[1].find(path_ + ":19: element newsItem: id a") != std::string::npos);

    // A deleted file keeps the last good feed too, silently until it comes back.
    unlink(path_.c_str());
    now_ += 1;
    CPPUNIT_ASSERT(good == service->snapshot());
    write(feed_with({"c"}));
    now_ += 1;
    CPPUNIT_ASSERT(service->snapshot()->find("c") != nullptr);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, logs_.size());
  }

  void testBrokenAtStartUp() {
    write("<newsMessage>");
    auto service = make();
    Status status = service->load_now();
    CPPUNIT_ASSERT(!status.ok());
    CPPUNIT_ASSERT(status.message().find(path_ + ":1:") != std::string::npos);
    auto snap = service->snapshot();
    CPPUNIT_ASSERT(snap != nullptr);
    CPPUNIT_ASSERT(snap->items.empty());
    write(feed_with({"a"}));
    now_ += 1;
    CPPUNIT_ASSERT_EQUAL(size_t{1}, service->snapshot()->items.size());
  }

  void testNoFeedConfigured() {
    FeedService service("", schema_, nullptr, [] { return std::time_t{0}; });
    CPPUNIT_ASSERT(service.snapshot() != nullptr);
    CPPUNIT_ASSERT(service.snapshot()->items.empty());
    CPPUNIT_ASSERT(!service.load_now().ok());
  }

  void testConcurrentReaders() {
    write(feed_with({"a"}));
    std::atomic<std::time_t> clock{1000};
    FeedService service(
        path_, schema_, [](const std::string&) {}, [&clock] { return clock.load(); });
    CPPUNIT_ASSERT(service.load_now().ok());
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
      readers.emplace_back([&] {
        while (!stop) {
          auto snap = service.snapshot();
          size_t n = snap->items.size();
          if (n != 1 && n != 2) ++bad;
          for (const NewsItem& item : snap->items)
            if (item.headline.get("en").text == nullptr) ++bad;
        }
      });
    }
    for (int round = 0; round < 20; ++round) {
      std::ofstream(dir_ + "/new.xml") << (round % 2 ? feed_with({"a"}) : feed_with({"a", "b"}));
      rename((dir_ + "/new.xml").c_str(), path_.c_str());
      clock += 1;
      usleep(5000);
    }
    stop = true;
    for (auto& t : readers) t.join();
    CPPUNIT_ASSERT_EQUAL(0, bad.load());
    clock += 1;
    CPPUNIT_ASSERT_EQUAL(size_t{1}, service.snapshot()->items.size());  // round 19 wrote {"a"}
  }

 private:
  std::unique_ptr<FeedService> make() {
    return std::make_unique<FeedService>(
        path_, schema_,
        [this](const std::string& m) {
          std::lock_guard<std::mutex> lock(logs_mutex_);
          logs_.push_back(m);
        },
        [this] { return now_.load(); });
  }

  // A service as an httpd child is: forked from a parent that loaded the file (or tried to) at
  // start-up, in shared mode.
  std::unique_ptr<FeedService> make_sharing() {
    auto service = make();
    service->load_now();
    service->share_loads_in(shared_dir());
    return service;
  }

  size_t logged() {
    std::lock_guard<std::mutex> lock(logs_mutex_);
    return logs_.size();
  }

  // The id of the one item of a snapshot of feed_with({id}).
  static std::string only_id(const std::shared_ptr<const FeedSnapshot>& snap) {
    if (snap->items.size() == 1) return snap->items[0].id;
    return "(" + std::to_string(snap->items.size()) + " items)";
  }

  static std::string broken_feed() { return feed_with({"dup", "dup"}); }  // one id twice

  void write(const std::string& content) { std::ofstream(path_, std::ios::trunc) << content; }

  std::string shared_dir() const { return dir_ + "/shared"; }

  // Two services on one file (already written) and one shared directory, as two httpd children
  // are: both loaded at start-up, then in shared mode.
  std::pair<std::unique_ptr<FeedService>, std::unique_ptr<FeedService>> two_sharing_services() {
    std::filesystem::create_directory(shared_dir());
    auto first = make(), second = make();
    CPPUNIT_ASSERT(first->load_now().ok() && second->load_now().ok());
    first->share_loads_in(shared_dir());
    second->share_loads_in(shared_dir());
    return {std::move(first), std::move(second)};
  }

  std::string only_snapshot_file(const std::string& dir) {
    std::string found;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().string();
      if (name.size() > 9 && name.compare(name.size() - 9, 9, ".snapshot") == 0) {
        CPPUNIT_ASSERT(found.empty());
        found = name;
      }
    }
    CPPUNIT_ASSERT(!found.empty());
    return found;
  }

  // httpd's module passes its `natomedia-feed` mutex: the processes take turns on it, and no
  // lock file is made.
  struct CountingLock : ProcessLock {
    bool grant = true;
    int locks = 0, unlocks = 0, held = 0, max_held = 0;
    bool lock() override {
      ++locks;
      if (!grant) return false;
      max_held = std::max(max_held, ++held);
      return true;
    }
    void unlock() override {
      ++unlocks;
      --held;
    }
  };

  void testProcessLockReplacesTheLockFile() {
    write(feed_with({"a"}));
    std::filesystem::create_directory(shared_dir());
    auto lock = std::make_shared<CountingLock>();
    auto first = make(), second = make();
    CPPUNIT_ASSERT(first->load_now().ok() && second->load_now().ok());
    first->share_loads_in(shared_dir(), lock);
    second->share_loads_in(shared_dir(), lock);
    write(feed_with({"a", "b"}));
    now_ += 1;
    first->check_for_change();   // parses under the lock, writes the snapshot
    second->check_for_change();  // reads it under the lock
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, second->shared_loads());
    CPPUNIT_ASSERT_EQUAL(std::string("(2 items)"), only_id(second->snapshot()));
    CPPUNIT_ASSERT(lock->locks >= 2);
    CPPUNIT_ASSERT_EQUAL(lock->locks, lock->unlocks);
    CPPUNIT_ASSERT_EQUAL(0, lock->held);
    CPPUNIT_ASSERT_EQUAL(1, lock->max_held);
    for (const auto& entry : std::filesystem::directory_iterator(shared_dir()))
      CPPUNIT_ASSERT(entry.path().extension() != ".lock");
  }

  void testProcessLockRefusedMeansLoadingAlone() {
    write(feed_with({"a"}));
    std::filesystem::create_directory(shared_dir());
    auto lock = std::make_shared<CountingLock>();
    lock->grant = false;
    auto service = make();
    CPPUNIT_ASSERT(service->load_now().ok());
    service->share_loads_in(shared_dir(), lock);
    write(feed_with({"a", "b", "c"}));
    now_ += 1;
    service->check_for_change();
    CPPUNIT_ASSERT(lock->locks >= 1);
    CPPUNIT_ASSERT_EQUAL(0, lock->unlocks);
    CPPUNIT_ASSERT_EQUAL(std::string("(3 items)"), only_id(service->snapshot()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, service->shared_loads());
    CPPUNIT_ASSERT(std::filesystem::is_empty(shared_dir()));  // nothing written without the lock
  }

  void testSharedModeParsesOncePerVersion() {
    write(feed_with({"a"}));
    auto [first, second] = two_sharing_services();
    write(feed_with({"a", "b", "c"}));
    now_ += 1;
    first->check_for_change();  // parses, and writes the snapshot
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, first->parses());
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, first->shared_loads());
    second->check_for_change();  // reads it
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, second->parses());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, second->shared_loads());
    auto a = first->snapshot(), b = second->snapshot();
    CPPUNIT_ASSERT_EQUAL(size_t{3}, b->items.size());
    CPPUNIT_ASSERT_EQUAL(a->version, b->version);
    CPPUNIT_ASSERT_EQUAL(a->modified, b->modified);
    CPPUNIT_ASSERT_EQUAL(std::time_t{1001}, b->loaded_at);
    for (const char* id : {"a", "b", "c"}) CPPUNIT_ASSERT(b->find(id) != nullptr);
    CPPUNIT_ASSERT(logs_.empty());
  }

  // derive_with runs on each snapshot before it is served, parsed or read from the shared
  // directory, and what it makes stays with that snapshot.
  void testEveryServedSnapshotIsDerivedFirst() {
    write(feed_with({"a"}));
    auto [first, second] = two_sharing_services();
    std::atomic<int> derived{0};
    for (auto* service : {first.get(), second.get()})
      service->derive_with([&derived](const FeedSnapshot& snapshot) {
        ++derived;
        snapshot.derived->by_name["test.count"] =
            std::make_shared<const size_t>(snapshot.items.size());
      });
    write(feed_with({"a", "b", "c"}));
    now_ += 1;
    first->check_for_change();   // parses
    second->check_for_change();  // reads the shared snapshot
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, second->shared_loads());
    CPPUNIT_ASSERT_EQUAL(2, derived.load());
    for (auto* service : {first.get(), second.get()}) {
      auto snap = service->snapshot();
      auto count = snap->derived_as<size_t>("test.count");
      CPPUNIT_ASSERT(count != nullptr);
      CPPUNIT_ASSERT_EQUAL(size_t{3}, *count);
      CPPUNIT_ASSERT(snap->derived_as<size_t>("test.other") == nullptr);
    }
    now_ += 5;  // no change: nothing derived again
    first->check_for_change();
    CPPUNIT_ASSERT_EQUAL(2, derived.load());
  }

  void testSharedSnapshotOfAnotherVersionIgnored() {
    write(feed_with({"a"}));
    auto [first, second] = two_sharing_services();
    write(feed_with({"a", "b"}));
    now_ += 1;
    first->check_for_change();  // the snapshot of version 2
    write(feed_with({"x", "y", "z"}));
    now_ += 1;
    second->check_for_change();  // version 3: the snapshot is not of it
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, second->shared_loads());
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, second->parses());
    auto b = second->snapshot();
    CPPUNIT_ASSERT_EQUAL(size_t{3}, b->items.size());
    CPPUNIT_ASSERT(b->find("x") != nullptr && b->find("a") == nullptr);
    first->check_for_change();  // and version 3's snapshot, which second wrote, serves first
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, first->shared_loads());
    CPPUNIT_ASSERT(first->snapshot()->find("z") != nullptr);
  }

  void testBrokenSharedSnapshotMeansAParse() {
    write(feed_with({"a"}));
    auto [first, second] = two_sharing_services();
    write(feed_with({"a", "b"}));
    now_ += 1;
    first->check_for_change();
    const std::string snapshot = only_snapshot_file(shared_dir());
    std::filesystem::resize_file(snapshot, std::filesystem::file_size(snapshot) - 3);
    second->check_for_change();
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, second->shared_loads());
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, second->parses());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, second->snapshot()->items.size());
    CPPUNIT_ASSERT(logs_.empty());
  }

  std::shared_ptr<const FeedSchema> schema_;
  std::string dir_, path_;
  std::atomic<std::time_t> now_{0};  // read by reload threads too
  std::mutex logs_mutex_;
  std::vector<std::string> logs_;  // guarded by logs_mutex_ when reloads run in the background

  // Replaces the feed file by a rename (a new inode), as feed tools do: every write is then a
  // new version even within one clock tick.
  void replace(const std::string& content) {
    std::ofstream(dir_ + "/new.xml", std::ios::trunc) << content;
    CPPUNIT_ASSERT_EQUAL(0, rename((dir_ + "/new.xml").c_str(), path_.c_str()));
  }

  FeedFileInfo file_info(const std::string& path) {
    struct stat st;
    CPPUNIT_ASSERT_EQUAL(0, stat(path.c_str(), &st));
    return feed_file_info(st);
  }

  // "DIR/feed-KEY" of the files a sync left in the shared directory.
  std::string shared_base() {
    for (const auto& entry : std::filesystem::directory_iterator(shared_dir())) {
      const std::string name = entry.path().string();
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0)
        return name.substr(0, name.size() - 5);
    }
    CPPUNIT_FAIL("no lock file in the shared directory");
    return "";
  }

  // What httpd's children use: once watched, snapshot() never looks at the disk, so no
  // request waits for a load; the watcher does.
  void testWatchedRequestsNeverLoad() {
    replace(feed_with({"a"}));
    auto service = make();
    CPPUNIT_ASSERT(service->load_now().ok());
    CPPUNIT_ASSERT(service->start_watching(std::chrono::hours(1)).ok());
    replace(feed_with({"b"}));
    for (int i = 0; i < 3; ++i) {
      now_ += 1;
      CPPUNIT_ASSERT_EQUAL(std::string("a"), only_id(service->snapshot()));
    }
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, service->parses());
    service->stop_watching();
    now_ += 1;
    CPPUNIT_ASSERT_EQUAL(std::string("b"), only_id(service->snapshot()));  // inline again
  }

  // Two processes that get no request at all both serve a change, and a refused file is
  // refused once for both, which stay on the last good version.
  void testWatcherLoadsWithoutRequests() {
    replace(feed_with({"a"}));
    auto [first, second] = two_sharing_services();
    CPPUNIT_ASSERT(first->start_watching(std::chrono::milliseconds(20)).ok());
    CPPUNIT_ASSERT(second->start_watching(std::chrono::milliseconds(20)).ok());
    auto both_serve = [&](const std::string& id) {
      for (int i = 0; i < 300; ++i) {
        if (only_id(first->current()) == id && only_id(second->current()) == id) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return false;
    };
    replace(feed_with({"b"}));
    CPPUNIT_ASSERT(both_serve("b"));
    // Two parses at start-up, one of "b" for both.
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, first->parses() + second->parses());
    replace(broken_feed());
    for (int i = 0; i < 300 && logged() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // several periods more
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
    CPPUNIT_ASSERT_EQUAL(uint64_t{4}, first->parses() + second->parses());
    CPPUNIT_ASSERT(both_serve("b"));
    replace(feed_with({"c"}));
    CPPUNIT_ASSERT(both_serve("c"));
    first->stop_watching();
    second->stop_watching();
  }

  // A process that had not taken the last good version yet when a refused file came takes that
  // version, not the older one it had; the refusal is parsed and logged once for the server.
  void testRefusedFileLeavesEveryProcessOnTheLastGoodVersion() {
    replace(feed_with({"v1"}));
    auto [first, second] = two_sharing_services();
    replace(feed_with({"v2"}));
    first->sync_now();  // v2 is now the server's last good version
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(first->current()));
    CPPUNIT_ASSERT_EQUAL(std::string("v1"), only_id(second->current()));  // not looked yet
    replace(broken_feed());
    second->sync_now();  // refuses the file and takes v2, not its own v1
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(second->current()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, second->parses());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, second->shared_loads());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
    CPPUNIT_ASSERT_MESSAGE(logs_[0], logs_[0].find("id dup") != std::string::npos);
    first->sync_now();  // the refusal is the server's: no parse, no second message
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(first->current()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, first->parses());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
    // The next good version is loaded once and served by both.
    replace(feed_with({"v3"}));
    second->sync_now();
    first->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v3"), only_id(first->current()));
    CPPUNIT_ASSERT_EQUAL(std::string("v3"), only_id(second->current()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, first->parses());
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, second->parses());
  }

  // httpd restarted on a refused file: its parent loads nothing, and a new child serves the
  // server's last good version without parsing or logging the refused file again.
  void testNewProcessTakesTheLastGoodVersionNotARefusedFile() {
    std::filesystem::create_directory(shared_dir());
    replace(feed_with({"v1"}));
    auto first = make_sharing();
    replace(feed_with({"v2"}));
    first->sync_now();
    replace(broken_feed());
    first->sync_now();
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
    auto fresh = make_sharing();  // its parent's load_now() refused the file
    CPPUNIT_ASSERT(fresh->current()->items.empty());
    CPPUNIT_ASSERT(fresh->start_watching(std::chrono::hours(1)).ok());
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(fresh->snapshot()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, fresh->parses());  // the parent's
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, fresh->shared_loads());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
  }

  // A first start on a refused file (no last good version anywhere): the parent's refusal, which
  // the module logs once, is the server's; no child parses or logs it again.
  void testRefusalAtStartIsNotRepeatedByTheChildren() {
    std::filesystem::create_directory(shared_dir());
    replace(broken_feed());
    auto child = make_sharing();  // forked from a parent whose load_now() refused the file
    CPPUNIT_ASSERT(child->start_watching(std::chrono::hours(1)).ok());
    CPPUNIT_ASSERT(child->current()->items.empty());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, child->parses());  // the parent's
    CPPUNIT_ASSERT_EQUAL(size_t{0}, logged());
    auto other = make();  // a process that has not tried this version itself
    other->share_loads_in(shared_dir());
    other->sync_now();
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, other->parses());
    CPPUNIT_ASSERT_EQUAL(size_t{0}, logged());
    // The next version is loaded and served as usual; a new broken one is logged once.
    replace(feed_with({"v1"}));
    child->sync_now();
    other->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v1"), only_id(child->current()));
    CPPUNIT_ASSERT_EQUAL(std::string("v1"), only_id(other->current()));
    replace(broken_feed());
    other->sync_now();
    child->sync_now();
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
    CPPUNIT_ASSERT_EQUAL(std::string("v1"), only_id(child->current()));
    child->stop_watching();
  }

  // A feed file that is gone (or not there yet) is never a reason to serve an older version.
  void testGoneFileMeansTheLastGoodVersion() {
    replace(feed_with({"v1"}));
    auto [first, second] = two_sharing_services();
    replace(feed_with({"v2"}));
    first->sync_now();
    CPPUNIT_ASSERT_EQUAL(0, unlink(path_.c_str()));
    second->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(second->current()));
    auto fresh = make_sharing();
    fresh->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(fresh->current()));
    CPPUNIT_ASSERT_EQUAL(size_t{0}, logged());
  }

  // A graceful restart on a new good file: the version the parent loaded becomes the server's
  // at the first child's start, without a parse, and the older processes take it.
  void testStartUpVersionBecomesTheServersWithoutAParse() {
    replace(feed_with({"v1"}));
    auto [first, second] = two_sharing_services();
    replace(feed_with({"v2"}));
    first->sync_now();
    replace(feed_with({"v3"}));
    auto fresh = make_sharing();
    fresh->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v3"), only_id(fresh->current()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, fresh->parses());
    const uint64_t parsed = first->parses() + second->parses();
    first->sync_now();
    second->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v3"), only_id(first->current()));
    CPPUNIT_ASSERT_EQUAL(std::string("v3"), only_id(second->current()));
    CPPUNIT_ASSERT_EQUAL(parsed, first->parses() + second->parses());
  }

  // The shared files are opened without following a symbolic link: one planted there (to a
  // snapshot of other content, or to a record that refuses a good file) is not believed.
  void testHostileSharedFilesAreNotFollowed() {
    replace(feed_with({"v1"}));
    auto [first, second] = two_sharing_services();
    first->sync_now();  // makes the lock and the snapshot
    const std::string base = shared_base();
    replace(feed_with({"v2"}));
    auto evil = load_feed_memory(feed_with({"evil"}), *schema_, LoadOptions());
    CPPUNIT_ASSERT(evil.ok());
    std::ofstream(dir_ + "/evil.snapshot") << encode_feed_snapshot(*evil.value(), file_info(path_));
    CPPUNIT_ASSERT_EQUAL(0, unlink((base + ".snapshot").c_str()));
    CPPUNIT_ASSERT_EQUAL(0,
                         symlink((dir_ + "/evil.snapshot").c_str(), (base + ".snapshot").c_str()));
    second->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v2"), only_id(second->current()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, second->parses());
    replace(feed_with({"v3"}));
    std::ofstream(dir_ + "/refused") << encode_refused_version(file_info(path_));
    CPPUNIT_ASSERT_EQUAL(0, symlink((dir_ + "/refused").c_str(), (base + ".refused").c_str()));
    first->sync_now();
    CPPUNIT_ASSERT_EQUAL(std::string("v3"), only_id(first->current()));
    CPPUNIT_ASSERT_EQUAL(size_t{0}, logged());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FeedServiceTest);

}  // namespace
}  // namespace core
}  // namespace natomedia
