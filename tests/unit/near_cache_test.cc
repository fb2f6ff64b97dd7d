// Tests of core/near_cache.h: two NearCaches over one shared cache and one set of versions stand
// for two processes of a server.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/near_cache.h"

using natomedia::core::NearCache;

namespace {

// The shared cache: a map that counts its reads and can run something in the middle of one.
class FarCache : public natomedia::ServerCache {
 public:
  std::optional<std::string> get(const std::string& key) override {
    std::optional<std::string> value;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++reads;
      auto it = map_.find(key);
      if (it != map_.end()) value = it->second;
    }
    if (during_read) {
      auto hook = std::move(during_read);
      during_read = nullptr;
      hook();
    }
    return value;
  }
  bool put(const std::string& key, const std::string& value, std::time_t) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (refuse_puts) return false;
    map_[key] = value;
    return true;
  }
  bool remove(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    map_.erase(key);
    return true;
  }
  std::atomic<int> reads{0};
  bool refuse_puts = false;
  std::function<void()> during_read;  // runs once, after the next read took its value

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> map_;
};

struct Server {
  explicit Server(size_t groups = 64)
      : memory(new char[NearCache::shared_bytes(groups)]),
        versions(NearCache::make_versions(memory.get(), groups)),
        groups(groups) {}
  std::unique_ptr<char[]> memory;
  NearCache::Versions* versions;
  size_t groups;
  FarCache far;
};

}  // namespace

class NearCacheTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(NearCacheTest);
  CPPUNIT_TEST(testASecondReadIsNear);
  CPPUNIT_TEST(testAnAbsentKeyIsAskedAgain);
  CPPUNIT_TEST(testARemoveInOneProcessIsSeenByTheOther);
  CPPUNIT_TEST(testAPutInOneProcessIsSeenByTheOther);
  CPPUNIT_TEST(testAChangeDuringARead);
  CPPUNIT_TEST(testAFailedPutStillMovesTheVersion);
  CPPUNIT_TEST(testAKeyOfTheSameGroup);
  CPPUNIT_TEST(testMaxAge);
  CPPUNIT_TEST(testMaxEntries);
  CPPUNIT_TEST(testNoThreadSeesARemovedValue);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testASecondReadIsNear() {
    Server s;
    NearCache a(s.far, s.versions, s.groups);
    s.far.put("session:1", "one", 0);
    CPPUNIT_ASSERT_EQUAL(std::string("one"), *a.get("session:1"));
    CPPUNIT_ASSERT_EQUAL(std::string("one"), *a.get("session:1"));
    CPPUNIT_ASSERT_EQUAL(1, s.far.reads.load());
    CPPUNIT_ASSERT_EQUAL(size_t(1), a.copies());
  }

  void testAnAbsentKeyIsAskedAgain() {
    Server s;
    NearCache a(s.far, s.versions, s.groups);
    CPPUNIT_ASSERT(!a.get("session:1"));
    s.far.put("session:1", "one", 0);  // as another server's cache might: no version moved
    CPPUNIT_ASSERT_EQUAL(std::string("one"), *a.get("session:1"));
    CPPUNIT_ASSERT_EQUAL(2, s.far.reads.load());
  }

  void testARemoveInOneProcessIsSeenByTheOther() {
    Server s;
    NearCache a(s.far, s.versions, s.groups), b(s.far, s.versions, s.groups);
    CPPUNIT_ASSERT(b.put("session:1", "one", 0));
    CPPUNIT_ASSERT_EQUAL(std::string("one"), *a.get("session:1"));
    CPPUNIT_ASSERT(b.remove("session:1"));
    CPPUNIT_ASSERT(!a.get("session:1"));
    CPPUNIT_ASSERT(!b.get("session:1"));
  }

  void testAPutInOneProcessIsSeenByTheOther() {
    Server s;
    NearCache a(s.far, s.versions, s.groups), b(s.far, s.versions, s.groups);
    b.put("account:7", "g1", 0);
    CPPUNIT_ASSERT_EQUAL(std::string("g1"), *a.get("account:7"));
    b.put("account:7", "g2", 0);
    CPPUNIT_ASSERT_EQUAL(std::string("g2"), *a.get("account:7"));
    CPPUNIT_ASSERT_EQUAL(std::string("g2"), *b.get("account:7"));
  }

  // B removes the key while A's read of the shared cache is under way (A got the old value):
  // A's answer is the old one, as if it had read first, but its copy is never believed.
  void testAChangeDuringARead() {
    Server s;
    NearCache a(s.far, s.versions, s.groups), b(s.far, s.versions, s.groups);
    s.far.put("session:1", "one", 0);
    s.far.during_read = [&] { b.remove("session:1"); };
    CPPUNIT_ASSERT_EQUAL(std::string("one"), *a.get("session:1"));
    CPPUNIT_ASSERT(!a.get("session:1"));
  }

  void testAFailedPutStillMovesTheVersion() {
    Server s;
    NearCache a(s.far, s.versions, s.groups), b(s.far, s.versions, s.groups);
    s.far.put("ends:", "n1", 0);
    CPPUNIT_ASSERT_EQUAL(std::string("n1"), *a.get("ends:"));
    s.far.refuse_puts = true;
    CPPUNIT_ASSERT(!b.put("ends:", "n2", 0));
    const int reads = s.far.reads.load();
    a.get("ends:");
    CPPUNIT_ASSERT_EQUAL(reads + 1, s.far.reads.load());  // asked again
  }

  // One group for every key: a change to one key makes the others be read again, never wrong.
  void testAKeyOfTheSameGroup() {
    Server s(1);
    NearCache a(s.far, s.versions, s.groups), b(s.far, s.versions, s.groups);
    s.far.put("session:1", "one", 0);
    s.far.put("session:2", "two", 0);
    a.get("session:1");
    b.remove("session:2");
    CPPUNIT_ASSERT_EQUAL(std::string("one"), *a.get("session:1"));
    CPPUNIT_ASSERT_EQUAL(2, s.far.reads.load());
    CPPUNIT_ASSERT(!a.get("session:2"));
  }

  void testMaxAge() {
    Server s;
    auto t = std::chrono::steady_clock::time_point();
    NearCache a(s.far, s.versions, s.groups, std::chrono::milliseconds(1000), 16,
                [&] { return t; });
    s.far.put("session:1", "one", 0);
    a.get("session:1");
    t += std::chrono::milliseconds(999);
    a.get("session:1");
    CPPUNIT_ASSERT_EQUAL(1, s.far.reads.load());
    t += std::chrono::milliseconds(1);
    a.get("session:1");
    CPPUNIT_ASSERT_EQUAL(2, s.far.reads.load());
  }

  void testMaxEntries() {
    Server s;
    NearCache a(s.far, s.versions, s.groups, std::chrono::seconds(1), 3);
    for (int i = 0; i < 10; ++i) {
      s.far.put("k" + std::to_string(i), "v", 0);
      a.get("k" + std::to_string(i));
      CPPUNIT_ASSERT(a.copies() <= 3);
    }
    CPPUNIT_ASSERT(a.copies() >= 1);
  }

  // Eight threads of one process read a key while another process removes it: every read that
  // starts after the remove returned finds nothing.
  void testNoThreadSeesARemovedValue() {
    Server s;
    NearCache a(s.far, s.versions, s.groups), b(s.far, s.versions, s.groups);
    s.far.put("session:1", "one", 0);
    std::atomic<bool> removed{false}, stop{false};
    std::atomic<int> late_hits{0}, reads_after{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 8; ++i)
      readers.emplace_back([&] {
        while (!stop.load()) {
          const bool after = removed.load();
          auto value = a.get("session:1");
          if (after) {
            ++reads_after;
            if (value) ++late_hits;
          }
        }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    b.remove("session:1");
    removed = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;
    for (auto& t : readers) t.join();
    CPPUNIT_ASSERT(reads_after.load() > 0);
    CPPUNIT_ASSERT_EQUAL(0, late_hits.load());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NearCacheTest);
