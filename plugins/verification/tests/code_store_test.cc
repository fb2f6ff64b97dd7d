// CodeStore over an in-memory cache with memcached's add/CAS/increment semantics: single use
// (also under racing threads), wrong-entry limits, expiry, cooldown, hourly limits, outages.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "code_store.h"

using natomedia::CacheEntry;
using natomedia::CacheOutcome;
using natomedia::CodeCheck;
using natomedia::CodeIssue;
using natomedia::CodePurpose;
using natomedia::Result;
using natomedia::Status;
using natomedia::verification::clean_typed_code;
using natomedia::verification::CodeLimits;
using natomedia::verification::CodeStore;

namespace {

// memcached in a map: entries expire by the test's clock; every change bumps the CAS value.
class FakeCache : public natomedia::Cache {
 public:
  CacheEntry get(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    CacheEntry e;
    if (down) return e;
    auto it = live(key);
    if (it == items_.end()) {
      e.outcome = CacheOutcome::kMiss;
      return e;
    }
    e.outcome = CacheOutcome::kHit;
    e.value = it->second.value;
    e.cas = it->second.cas;
    return e;
  }
  Status set(const std::string& key, const std::string& value, long ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    put(key, value, ttl);
    return Status::Ok();
  }
  Status add(const std::string& key, const std::string& value, long ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    if (live(key) != items_.end()) return Status::Conflict("exists");
    put(key, value, ttl);
    return Status::Ok();
  }
  Status cas(const std::string& key, const std::string& value, long ttl, uint64_t cas) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    auto it = live(key);
    if (it == items_.end()) return Status::NotFound("gone");
    if (it->second.cas != cas) return Status::Conflict("changed");
    put(key, value, ttl);
    return Status::Ok();
  }
  Status remove(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    return items_.erase(key) ? Status::Ok() : Status::NotFound("none");
  }
  Result<uint64_t> increment(const std::string& key, uint64_t delta, long ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    auto it = live(key);
    uint64_t n = (it == items_.end() ? 0 : std::stoull(it->second.value)) + delta;
    if (it == items_.end())
      put(key, std::to_string(n), ttl);
    else
      it->second.value = std::to_string(n), it->second.cas = ++next_cas_;
    return n;
  }
  // Drops every entry whose key starts with `prefix` (an eviction).
  void evict(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = items_.begin(); it != items_.end();)
      it = it->first.rfind(prefix, 0) == 0 ? items_.erase(it) : std::next(it);
  }

  std::atomic<bool> down{false};
  std::time_t now = 1700000000;

 private:
  struct Item {
    std::string value;
    uint64_t cas;
    std::time_t expires;
  };
  std::map<std::string, Item>::iterator live(const std::string& key) {
    auto it = items_.find(key);
    if (it != items_.end() && it->second.expires <= now) {
      items_.erase(it);
      return items_.end();
    }
    return it;
  }
  void put(const std::string& key, const std::string& value, long ttl) {
    items_[key] = Item{value, ++next_cas_, now + ttl};
  }
  std::mutex mu_;
  std::map<std::string, Item> items_;
  uint64_t next_cas_ = 0;
};

// Deterministic stand-in: the store only needs hmac() to be a keyed function and equal().
class FakeCrypto : public natomedia::Crypto {
 public:
  std::string random_bytes(size_t) override { return {}; }
  std::string random_digits(size_t) override { return {}; }
  std::string random_token(size_t) override { return {}; }
  std::string hmac(const std::string& purpose, const std::string& data) const override {
    return std::to_string(std::hash<std::string>()("k|" + purpose + "|" + data));
  }
  std::string sign(const std::string&, const std::string&) const override { return {}; }
  bool verify(const std::string&, const std::string&, const std::string&) const override {
    return false;
  }
  bool equal(const std::string& a, const std::string& b) const override { return a == b; }
  std::string sha256_hex(const std::string&) const override { return {}; }
  Result<std::string> password_hash(const std::string&) override { return std::string(); }
  Result<bool> password_verify(const std::string&, const std::string&) override { return false; }
  bool password_needs_rehash(const std::string&) const override { return false; }
};

constexpr CodePurpose kVerify = CodePurpose::kVerifyAccount;
const std::string kEmail = "ann@example.org";

}  // namespace

class CodeStoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CodeStoreTest);
  CPPUNIT_TEST(testRightCodeOnce);
  CPPUNIT_TEST(testTypedSpacesAndDashes);
  CPPUNIT_TEST(testFifthWrongKills);
  CPPUNIT_TEST(testFourWrongThenRight);
  CPPUNIT_TEST(testExpiry);
  CPPUNIT_TEST(testNewCodeKillsOldKeepsHourlyCount);
  CPPUNIT_TEST(testVanishedCounterRefuses);
  CPPUNIT_TEST(testPurposesAndAddressesApart);
  CPPUNIT_TEST(testOutage);
  CPPUNIT_TEST(testCooldown);
  CPPUNIT_TEST(testHourlyLimits);
  CPPUNIT_TEST(testRacingRightSubmissions);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { store_ = std::make_unique<CodeStore>(cache_, crypto_, limits_); }

  void testRightCodeOnce() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->check(kVerify, "bob@example.org", "123456", cache_.now) ==
                   CodeCheck::kDead);  // never issued
  }

  void testTypedSpacesAndDashes() {
    CPPUNIT_ASSERT_EQUAL(std::string("123456"), clean_typed_code(" 123 - 456\t"));
    CPPUNIT_ASSERT_EQUAL(std::string("123456"), clean_typed_code("123\xE2\x80\x93" "456"));
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    CPPUNIT_ASSERT(check("123-456") == CodeCheck::kOk);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "654321", cache_.now + 100).ok());
    cache_.now += 100;
    CPPUNIT_ASSERT(check(" 654 321 ") == CodeCheck::kOk);
  }

  void testFifthWrongKills() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    for (int i = 0; i < 5; ++i) CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
  }

  void testFourWrongThenRight() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT(check("12345") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
  }

  void testExpiry() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    cache_.now += limits_.lifetime - 1;
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    cache_.now += 1;
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
  }

  void testNewCodeKillsOldKeepsHourlyCount() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "111111", cache_.now).ok());
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "222222", cache_.now).ok());
    CPPUNIT_ASSERT(check("111111") == CodeCheck::kWrong);  // the old code is dead: 5 wrong
    for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "333333", cache_.now).ok());
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);  // the 10th this hour
    CPPUNIT_ASSERT(check("333333") == CodeCheck::kDead);
    // A later hour starts a new count.
    cache_.now += 3600;
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "444444", cache_.now).ok());
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("444444") == CodeCheck::kOk);
  }

  void testVanishedCounterRefuses() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    cache_.evict("codes:w:");
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "654321", cache_.now).ok());
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    cache_.evict("codes:w:");
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kDead);
    CPPUNIT_ASSERT(check("654321") == CodeCheck::kDead);
  }

  void testPurposesAndAddressesApart() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    CPPUNIT_ASSERT(store_->check(CodePurpose::kResetPassword, kEmail, "123456", cache_.now) ==
                   CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->check(kVerify, "other@example.org", "123456", cache_.now) ==
                   CodeCheck::kDead);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
  }

  void testOutage() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    cache_.down = true;
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kUnavailable);
    CPPUNIT_ASSERT(!store_->store(kVerify, kEmail, "123456", cache_.now).ok());
    CPPUNIT_ASSERT(store_->admit(kVerify, kEmail, "10.0.0.1", cache_.now).outcome ==
                   CodeIssue::Outcome::kUnavailable);
    cache_.down = false;
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
  }

  void testCooldown() {
    CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
    cache_.now += 20;
    CodeIssue again = admit(kEmail, "10.0.0.1");
    CPPUNIT_ASSERT(again.outcome == CodeIssue::Outcome::kCooldown);
    CPPUNIT_ASSERT_EQUAL(40L, again.retry_after);
    cache_.now += 40;
    CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
  }

  void testHourlyLimits() {
    cache_.now = 1700000000 - 1700000000 % 3600;  // the start of an hour
    for (int i = 0; i < 5; ++i) {
      CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
      cache_.now += 61;
    }
    CodeIssue sixth = admit(kEmail, "10.0.0.1");
    CPPUNIT_ASSERT(sixth.outcome == CodeIssue::Outcome::kRateLimited);
    CPPUNIT_ASSERT_EQUAL(3600L - 5 * 61, sixth.retry_after);
    // 20 codes an hour from one client IP, whatever the addresses (5 counted above).
    for (int i = 0; i < 15; ++i)
      CPPUNIT_ASSERT(admit("u" + std::to_string(i) + "@example.org", "10.0.0.1").outcome ==
                     CodeIssue::Outcome::kSent);
    CPPUNIT_ASSERT(admit("last@example.org", "10.0.0.1").outcome ==
                   CodeIssue::Outcome::kRateLimited);
    CPPUNIT_ASSERT(admit("last@example.org", "10.0.0.2").outcome ==
                   CodeIssue::Outcome::kCooldown);  // its cooldown began with the refusal
    cache_.now += 3600;
    CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
  }

  void testRacingRightSubmissions() {
    for (int round = 0; round < 200; ++round) {
      CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", cache_.now).ok());
      std::atomic<int> ok{0}, dead{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
          CodeCheck c = store_->check(kVerify, kEmail, "123456", cache_.now);
          (c == CodeCheck::kOk ? ok : dead)++;
        });
      for (auto& t : threads) t.join();
      CPPUNIT_ASSERT_EQUAL(1, ok.load());
      CPPUNIT_ASSERT_EQUAL(3, dead.load());
    }
  }

 private:
  CodeCheck check(const std::string& typed) {
    return store_->check(kVerify, kEmail, typed, cache_.now);
  }
  CodeIssue admit(const std::string& email, const std::string& ip) {
    return store_->admit(kVerify, email, ip, cache_.now);
  }

  FakeCache cache_;
  FakeCrypto crypto_;
  CodeLimits limits_;
  std::unique_ptr<CodeStore> store_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CodeStoreTest);
