// MemcachedCache against real memcached processes: outcomes, conflicts, odd keys, a server that
// dies and comes back, and a two-server ring that loses a member.
#include <arpa/inet.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include "local_server.h"
#include <libmemcached/memcached.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/memcached_cache.h"

using natomedia::CacheEntry;
using natomedia::CacheOutcome;
using natomedia::Status;
using natomedia::core::check_memcached_config;
using natomedia::core::MemcachedCache;
using Clock = std::chrono::steady_clock;

namespace {

using natomedia::testing::free_port;
using natomedia::testing::LocalServer;

// One memcached process on 127.0.0.1, killed by its PID.
class MemcachedServer {
 public:
  MemcachedServer()
      : port_(free_port()),
        process_({"/usr/bin/memcached", "-l", "127.0.0.1", "-p", std::to_string(port_), "-U", "0",
                  "-u", "nobody"},
                 port_) {}

  int port() const { return port_; }
  bool start() { return process_.start(); }
  void stop() { process_.stop(/*hard=*/true); }

  // Whether `key` (as stored) is held by this very server, asked without the cache's ring.
  bool holds(const std::string& stored_key) const {
    memcached_st* memc = memcached_create(nullptr);
    memcached_server_add(memc, "127.0.0.1", static_cast<in_port_t>(port_));
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char* value = memcached_get(memc, stored_key.data(), stored_key.size(), &len, &flags, &rc);
    free(value);
    memcached_free(memc);
    return rc == MEMCACHED_SUCCESS;
  }

 private:
  int port_;
  LocalServer process_;
};

std::string server_config(const MemcachedServer& s) {
  return "--SERVER=127.0.0.1:" + std::to_string(s.port());
}

}  // namespace

class MemcachedCacheTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MemcachedCacheTest);
  CPPUNIT_TEST(testConfigCheck);
  CPPUNIT_TEST(testNotStarted);
  CPPUNIT_TEST(testHitMiss);
  CPPUNIT_TEST(testTtl);
  CPPUNIT_TEST(testErrorIsNotMiss);
  CPPUNIT_TEST(testAddConflict);
  CPPUNIT_TEST(testCas);
  CPPUNIT_TEST(testIncrement);
  CPPUNIT_TEST(testIncrementConcurrent);
  CPPUNIT_TEST(testOddKeys);
  CPPUNIT_TEST(testRestart);
  CPPUNIT_TEST(testTwoServersOneFails);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    server_.reset(new MemcachedServer());
    CPPUNIT_ASSERT(server_->start());
    cache_.reset(new MemcachedCache("  " + server_config(*server_) + "\n"));
    errors_ = 0;
    cache_->on_error = [this] { ++errors_; };
    Status s = cache_->start();
    CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
  }

  void tearDown() override {
    cache_.reset();
    server_.reset();  // kills the process by PID
  }

  void testConfigCheck() {
    CPPUNIT_ASSERT(check_memcached_config(" --SERVER=127.0.0.1:11211 ").ok());
    CPPUNIT_ASSERT(check_memcached_config("--SERVER=10.0.0.1:11211 --SERVER=10.0.0.2:11211 "
                                          "--DISTRIBUTION=consistent --CONNECT-TIMEOUT=100")
                       .ok());
    Status bad = check_memcached_config("--SERVR=127.0.0.1");
    CPPUNIT_ASSERT(bad.code() == Status::Code::kInvalid);
    CPPUNIT_ASSERT_MESSAGE(bad.message(),
                           bad.message().find("--SERVER=127.0.0.1:11211") != std::string::npos);
    CPPUNIT_ASSERT(check_memcached_config("").code() == Status::Code::kInvalid);
    Status no_server = check_memcached_config("--CONNECT-TIMEOUT=100");
    CPPUNIT_ASSERT(no_server.code() == Status::Code::kInvalid);
    CPPUNIT_ASSERT(no_server.message().find("no server") != std::string::npos);
    // A real port, a well-formed option list; the message names the option at fault and never
    // carries libmemcached's parser internals (a pointer, its source file and line).
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"--SERVER=127.0.0.1:99999", "`99999` is not a port (1 to 65535)"},
        {"--SERVER=127.0.0.1:0", "`0` is not a port"},
        {"--SERVER=127.0.0.1:", "no port after `:`"},
        {"--SERVER= 127.0.0.1:11211", "names no server"},
        {"--SERVER=127.0.0.1:11211 SERVER=10.0.0.2", "`SERVER=10.0.0.2` is not an option"},
        {"--SERVER=127.0.0.1:11211 --FROB=1", "libmemcached does not accept `--FROB=1`"},
        {"--SERVER=[::1]:11211", "no IPv6 address"},
        {"--SERVER=h/st:11211", "is not a host name or address"},
    };
    for (const auto& [config, reason] : refused) {
      Status s = check_memcached_config(config);
      CPPUNIT_ASSERT_MESSAGE(config, s.code() == Status::Code::kInvalid);
      CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find(reason) != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(s.message(),
                             s.message().find("\"--SERVER=127.0.0.1:11211\"") != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find("0x") == std::string::npos &&
                                              s.message().find(".cc:") == std::string::npos);
    }
    for (const char* good : {"\t--SERVER=cache.example.org\n", "--SERVER=127.0.0.1:1",
                             "--SERVER=127.0.0.1:65535/?2 --SERVER=10.0.0.2:11211/?1"})
      CPPUNIT_ASSERT_MESSAGE(good, check_memcached_config(good).ok());
    MemcachedCache broken("--SERVR=x");
    CPPUNIT_ASSERT(broken.start().code() == Status::Code::kInvalid);
  }

  void testNotStarted() {
    MemcachedCache idle(server_config(*server_));
    CacheEntry e = idle.get("k");
    CPPUNIT_ASSERT(e.outcome == CacheOutcome::kError);
    CPPUNIT_ASSERT(idle.set("k", "v", 10).code() == Status::Code::kUnavailable);
  }

  void testHitMiss() {
    CPPUNIT_ASSERT(cache_->set("greeting", "hello", 60).ok());
    CacheEntry hit = cache_->get("greeting");
    CPPUNIT_ASSERT(hit.outcome == CacheOutcome::kHit);
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), hit.value);
    CPPUNIT_ASSERT(hit.cas != 0);
    CacheEntry miss = cache_->get("absent");
    CPPUNIT_ASSERT(miss.outcome == CacheOutcome::kMiss);
    std::string binary("a\0b\r\nEND\r\n", 10);
    CPPUNIT_ASSERT(cache_->set("binary", binary, 60).ok());
    CPPUNIT_ASSERT(cache_->get("binary").value == binary);
    CPPUNIT_ASSERT(cache_->set("empty", "", 60).ok());
    CacheEntry empty = cache_->get("empty");
    CPPUNIT_ASSERT(empty.outcome == CacheOutcome::kHit && empty.value.empty());
    CPPUNIT_ASSERT(server_->holds("nm:greeting"));  // stored under the prefix
    CPPUNIT_ASSERT(cache_->remove("greeting").ok());
    CPPUNIT_ASSERT(cache_->get("greeting").outcome == CacheOutcome::kMiss);
    CPPUNIT_ASSERT(cache_->remove("greeting").code() == Status::Code::kNotFound);
    CPPUNIT_ASSERT_EQUAL(0, errors_.load());
  }

  void testTtl() {
    CPPUNIT_ASSERT(cache_->set("short-lived", "x", 1).ok());
    CPPUNIT_ASSERT(cache_->get("short-lived").outcome == CacheOutcome::kHit);
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    CPPUNIT_ASSERT(cache_->get("short-lived").outcome == CacheOutcome::kMiss);
  }

  void testErrorIsNotMiss() {
    CPPUNIT_ASSERT(cache_->set("k", "v", 60).ok());
    server_->stop();
    for (int i = 0; i < 5; ++i) {
      CacheEntry e = cache_->get("k");
      CPPUNIT_ASSERT_MESSAGE("attempt " + std::to_string(i), e.outcome == CacheOutcome::kError);
      CPPUNIT_ASSERT(!e.error.empty());
      CacheEntry other = cache_->get("never-set");
      CPPUNIT_ASSERT(other.outcome == CacheOutcome::kError);
    }
    CPPUNIT_ASSERT(cache_->set("k", "v", 60).code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(cache_->add("k2", "v", 60).code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(cache_->remove("k").code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(cache_->cas("k", "v", 60, 1).code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(cache_->increment("n", 1, 60).status().code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(errors_.load() >= 15);
  }

  void testAddConflict() {
    CPPUNIT_ASSERT(cache_->add("once", "first", 60).ok());
    Status again = cache_->add("once", "second", 60);
    CPPUNIT_ASSERT(again.code() == Status::Code::kConflict);
    CPPUNIT_ASSERT_EQUAL(std::string("first"), cache_->get("once").value);
    CPPUNIT_ASSERT(cache_->remove("once").ok());
    CPPUNIT_ASSERT(cache_->add("once", "third", 60).ok());
    CPPUNIT_ASSERT_EQUAL(0, errors_.load());
  }

  void testCas() {
    CPPUNIT_ASSERT(cache_->set("code", "tries=0", 60).ok());
    CacheEntry read = cache_->get("code");
    CPPUNIT_ASSERT(read.outcome == CacheOutcome::kHit);
    // A racing writer changes the entry: our stale cas must lose.
    CacheEntry racer = cache_->get("code");
    CPPUNIT_ASSERT(cache_->cas("code", "tries=1 (racer)", 60, racer.cas).ok());
    Status stale = cache_->cas("code", "tries=1", 60, read.cas);
    CPPUNIT_ASSERT(stale.code() == Status::Code::kConflict);
    CPPUNIT_ASSERT_EQUAL(std::string("tries=1 (racer)"), cache_->get("code").value);
    CacheEntry fresh = cache_->get("code");
    CPPUNIT_ASSERT(fresh.cas != read.cas);
    CPPUNIT_ASSERT(cache_->remove("code").ok());
    Status gone = cache_->cas("code", "tries=2", 60, fresh.cas);
    CPPUNIT_ASSERT(gone.code() == Status::Code::kNotFound);
    CPPUNIT_ASSERT_EQUAL(0, errors_.load());
  }

  void testIncrement() {
    auto first = cache_->increment("count", 5, 60);
    CPPUNIT_ASSERT_MESSAGE(first.status().message(), first.ok());
    CPPUNIT_ASSERT_EQUAL(uint64_t{5}, *first);
    auto second = cache_->increment("count", 3, 60);
    CPPUNIT_ASSERT(second.ok());
    CPPUNIT_ASSERT_EQUAL(uint64_t{8}, *second);
    CPPUNIT_ASSERT_EQUAL(std::string("8"), cache_->get("count").value);
    CPPUNIT_ASSERT(cache_->set("text", "abc", 60).ok());
    CPPUNIT_ASSERT(!cache_->increment("text", 1, 60).ok());
  }

  void testIncrementConcurrent() {
    const int threads = 8;
    const int each = 100;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < each; ++i)
          if (!cache_->increment("shared-counter", 1, 60).ok()) ++failures;
      });
    }
    for (auto& t : pool) t.join();
    CPPUNIT_ASSERT_EQUAL(0, failures.load());
    CPPUNIT_ASSERT_EQUAL(std::to_string(threads * each), cache_->get("shared-counter").value);
  }

  void testOddKeys() {
    const std::vector<std::string> keys = {
        "with space",
        std::string("nul\0key", 7),
        "tab\tkey",
        "line\nbreak",
        std::string(300, 'x'),
        std::string(197, 'y'),
        "h:looks-hashed",
        "caf\xc3\xa9",
        "",
    };
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string value = "value-" + std::to_string(i);
      CPPUNIT_ASSERT_MESSAGE(std::to_string(i), cache_->set(keys[i], value, 60).ok());
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      CacheEntry e = cache_->get(keys[i]);
      CPPUNIT_ASSERT_MESSAGE(std::to_string(i), e.outcome == CacheOutcome::kHit);
      CPPUNIT_ASSERT_EQUAL("value-" + std::to_string(i), e.value);
      std::string stored = cache_->storage_key(keys[i]);
      CPPUNIT_ASSERT(stored.size() <= 250);
      CPPUNIT_ASSERT(server_->holds(stored));
    }
    CPPUNIT_ASSERT_EQUAL(std::string(3 + 197, 'y').replace(0, 3, "nm:"),
                         cache_->storage_key(std::string(197, 'y')));
    CPPUNIT_ASSERT_EQUAL(size_t{3 + 2 + 64}, cache_->storage_key(std::string(198, 'y')).size());
    CPPUNIT_ASSERT_EQUAL(std::string("nm:h:"), cache_->storage_key("with space").substr(0, 5));
    CPPUNIT_ASSERT_EQUAL(std::string("nm:h:"), cache_->storage_key("h:x").substr(0, 5));
    CPPUNIT_ASSERT(cache_->storage_key("with space") != cache_->storage_key("with  space"));
    CPPUNIT_ASSERT_EQUAL(0, errors_.load());
  }

  void testRestart() {
    CPPUNIT_ASSERT(cache_->set("before", "1", 60).ok());
    server_->stop();
    // A long outage, polled all along: long enough for the server to be marked dead and ejected
    // (two failures a retry timeout apart) and for the ejection to be retried.
    auto outage_end = Clock::now() + std::chrono::milliseconds(5500);
    while (Clock::now() < outage_end) {
      CPPUNIT_ASSERT(cache_->get("before").outcome == CacheOutcome::kError);
      CPPUNIT_ASSERT(!cache_->set("during", "x", 60).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CPPUNIT_ASSERT(server_->start());  // same port, empty memory
    // The same cache object recovers once the retry timeout (2 s) has passed.
    auto deadline = Clock::now() + std::chrono::seconds(6);
    bool recovered = false;
    while (!recovered && Clock::now() < deadline) {
      recovered = cache_->set("after", "2", 60).ok();
      if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CPPUNIT_ASSERT(recovered);
    CPPUNIT_ASSERT_EQUAL(std::string("2"), cache_->get("after").value);
    CPPUNIT_ASSERT(cache_->get("before").outcome == CacheOutcome::kMiss);
    CPPUNIT_ASSERT(cache_->add("after", "3", 60).code() == Status::Code::kConflict);
    auto n = cache_->increment("n", 1, 60);
    CPPUNIT_ASSERT(n.ok() && *n == 1);
  }

  void testTwoServersOneFails() {
    MemcachedServer second;
    CPPUNIT_ASSERT(second.start());
    MemcachedCache ring(server_config(*server_) + " " + server_config(second));
    std::atomic<int> ring_errors{0};
    ring.on_error = [&] { ++ring_errors; };
    CPPUNIT_ASSERT(ring.start().ok());

    std::vector<std::string> on_first, on_second;
    for (int i = 0; i < 60; ++i) {
      std::string key = "key-" + std::to_string(i);
      CPPUNIT_ASSERT(ring.set(key, "v" + std::to_string(i), 300).ok());
      if (server_->holds(ring.storage_key(key))) on_first.push_back(key);
      if (second.holds(ring.storage_key(key))) on_second.push_back(key);
    }
    CPPUNIT_ASSERT_EQUAL(size_t{60}, on_first.size() + on_second.size());
    CPPUNIT_ASSERT(!on_first.empty() && !on_second.empty());  // the ring spreads keys

    second.stop();
    // Keys of the surviving server never move in a consistent ring: every read still hits.
    for (const auto& key : on_first)
      CPPUNIT_ASSERT_MESSAGE(key, ring.get(key).outcome == CacheOutcome::kHit);
    // Keys of the dead one fail over at once to their stand-in on the survivor, which answers
    // for them: a miss there is authoritative (never an error, never a false hit), and every
    // fail-over is counted as a memcached error.
    for (const auto& key : on_second) {
      CacheEntry e = ring.get(key);
      CPPUNIT_ASSERT_MESSAGE(key + ": " + e.error, e.outcome == CacheOutcome::kMiss);
    }
    CPPUNIT_ASSERT(ring_errors.load() >= static_cast<int>(on_second.size()));
    // Writes of those keys land on the stand-in and read back, from this connection and from
    // another client of the same ring (another node): both walk the same fall-back chain.
    MemcachedCache other(server_config(*server_) + " " + server_config(second));
    CPPUNIT_ASSERT(other.start().ok());
    for (const auto& key : on_second) {
      CPPUNIT_ASSERT(ring.set(key, "moved", 300).ok());
      CPPUNIT_ASSERT_EQUAL(std::string("moved"), other.get(key).value);
      CPPUNIT_ASSERT(other.add(key, "x", 300).code() == Status::Code::kConflict);
    }
    // Across the dead server's retry timeout (2 s) nothing fails either.
    auto deadline = Clock::now() + std::chrono::seconds(3);
    for (int i = 0; Clock::now() < deadline; ++i) {
      Status s = ring.set("probe-" + std::to_string(i), "p", 300);
      CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
      CPPUNIT_ASSERT(ring.get(on_first[i % on_first.size()]).outcome == CacheOutcome::kHit);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Every new write lands on the survivor.
    for (int i = 0; i < 40; ++i) {
      std::string key = "new-" + std::to_string(i);
      Status s = ring.set(key, "n", 300);
      CPPUNIT_ASSERT_MESSAGE(key + ": " + s.message(), s.ok());
      CPPUNIT_ASSERT(server_->holds(ring.storage_key(key)));
    }
    for (const auto& key : on_first)
      CPPUNIT_ASSERT_MESSAGE(key, ring.get(key).outcome == CacheOutcome::kHit);
  }

 private:
  std::unique_ptr<MemcachedServer> server_;
  std::unique_ptr<MemcachedCache> cache_;
  std::atomic<int> errors_{0};
};

CPPUNIT_TEST_SUITE_REGISTRATION(MemcachedCacheTest);
