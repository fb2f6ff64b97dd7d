// FeedService: reload on change without restart, last good feed kept on a broken file.
#include "core/feed_service.h"

#include <cppunit/extensions/HelperMacros.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

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
  CPPUNIT_TEST(testBackgroundReloadDoesNotBlockTheCaller);
  CPPUNIT_TEST(testSharedModeParsesOncePerVersion);
  CPPUNIT_TEST(testSharedSnapshotOfAnotherVersionIgnored);
  CPPUNIT_TEST(testBrokenSharedSnapshotMeansAParse);
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
    CPPUNIT_ASSERT(logs_[0].find("last good") != std::string::npos);

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
  std::unique_ptr<FeedService> make(
      FeedService::ReloadMode mode = FeedService::ReloadMode::kInline) {
    return std::make_unique<FeedService>(
        path_, schema_,
        [this](const std::string& m) {
          std::lock_guard<std::mutex> lock(logs_mutex_);
          logs_.push_back(m);
        },
        [this] { return now_.load(); }, LoadOptions(), mode);
  }

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

  // What httpd uses: the caller gets the old snapshot at once and a thread of its own loads the
  // new file; the next callers get the new one when it is ready.
  void testBackgroundReloadDoesNotBlockTheCaller() {
    std::vector<std::string> ids;
    for (int i = 0; i < 2000; ++i) ids.push_back("item" + std::to_string(i));
    write(feed_with({"a"}));
    auto service = make(FeedService::ReloadMode::kBackground);
    CPPUNIT_ASSERT(service->load_now().ok());
    write(feed_with(ids));
    now_ += 1;
    auto during = service->snapshot();  // starts the reload, returns the old snapshot
    CPPUNIT_ASSERT_EQUAL(size_t{1}, during->items.size());
    bool loaded = false;
    for (int i = 0; i < 200 && !loaded; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      loaded = service->current()->items.size() == ids.size();
    }
    CPPUNIT_ASSERT(loaded);
    // A broken version is logged once, from the reload thread, and the last good one stays.
    write("<newsMessage");
    auto logged = [this] {
      std::lock_guard<std::mutex> lock(logs_mutex_);
      return logs_.size();
    };
    // The reload thread lingers a second to free the old snapshot; until then the change waits.
    for (int i = 0; i < 200 && logged() == 0; ++i) {
      now_ += 1;
      service->snapshot();
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    CPPUNIT_ASSERT_EQUAL(size_t{1}, logged());
    CPPUNIT_ASSERT_EQUAL(ids.size(), service->snapshot()->items.size());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FeedServiceTest);

}  // namespace
}  // namespace core
}  // namespace natomedia
