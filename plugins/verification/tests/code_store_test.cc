// CodeStore over an in-memory cache with memcached's add/CAS/increment semantics: single use
// (also under racing threads), wrong-entry limits, expiry, cooldown, hourly limits, outages.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/doubles.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "code_store.h"

#include <natomedia/text.h>

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

using natomedia::testing::FakeCache;
using natomedia::testing::FakeClock;
using natomedia::testing::FakeCrypto;

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
  CPPUNIT_TEST(testChangeCodesApartAndBound);
  CPPUNIT_TEST(testOutage);
  CPPUNIT_TEST(testCooldown);
  CPPUNIT_TEST(testHourlyLimits);
  CPPUNIT_TEST(testRacingRightSubmissions);
  CPPUNIT_TEST(testBindingComesBackWithTheCode);
  CPPUNIT_TEST(testBindingMustBeAToken);
  CPPUNIT_TEST(testDecoyAnswersAsARealCode);
  CPPUNIT_TEST(testDecoyKillsTheLiveCode);
  CPPUNIT_TEST(testFormatWithoutBindingRead);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { store_ = std::make_unique<CodeStore>(cache_, crypto_, limits_); }

  void testRightCodeOnce() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->check(kVerify, "bob@example.org", "123456", clock_.t) ==
                   CodeCheck::kDead);  // never issued
  }

  void testTypedSpacesAndDashes() {
    CPPUNIT_ASSERT_EQUAL(std::string("123456"), clean_typed_code(" 123 - 456\t"));
    CPPUNIT_ASSERT_EQUAL(std::string("123456"), clean_typed_code("123\xE2\x80\x93" "456"));
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    CPPUNIT_ASSERT(check("123-456") == CodeCheck::kOk);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "654321", clock_.t + 100).ok());
    clock_.t += 100;
    CPPUNIT_ASSERT(check(" 654 321 ") == CodeCheck::kOk);
  }

  void testFifthWrongKills() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    for (int i = 0; i < 5; ++i) CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
  }

  void testFourWrongThenRight() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT(check("12345") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
  }

  void testExpiry() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    clock_.t += limits_.lifetime - 1;
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    clock_.t += 1;
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
  }

  void testNewCodeKillsOldKeepsHourlyCount() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "111111", clock_.t).ok());
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "222222", clock_.t).ok());
    CPPUNIT_ASSERT(check("111111") == CodeCheck::kWrong);  // the old code is dead: 5 wrong
    for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "333333", clock_.t).ok());
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);  // the 10th this hour
    CPPUNIT_ASSERT(check("333333") == CodeCheck::kDead);
    // A later hour starts a new count.
    clock_.t += 3600;
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "444444", clock_.t).ok());
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("444444") == CodeCheck::kOk);
  }

  void testVanishedCounterRefuses() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    cache_.evict("codes:w:");
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "654321", clock_.t).ok());
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kWrong);
    cache_.evict("codes:w:");
    CPPUNIT_ASSERT(check("000000") == CodeCheck::kDead);
    CPPUNIT_ASSERT(check("654321") == CodeCheck::kDead);
  }

  void testPurposesAndAddressesApart() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    CPPUNIT_ASSERT(store_->check(CodePurpose::kResetPassword, kEmail, "123456", clock_.t) ==
                   CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->check(kVerify, "other@example.org", "123456", clock_.t) ==
                   CodeCheck::kDead);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
  }

  // The change-of-address code (kChangeEmail): its own entries, bound to the account that asked,
  // gone with forget().
  void testChangeCodesApartAndBound() {
    const CodePurpose change = CodePurpose::kChangeEmail;
    CPPUNIT_ASSERT(store_->store(change, kEmail, "123456", clock_.t, "a42.3").ok());
    CPPUNIT_ASSERT(store_->check(kVerify, kEmail, "123456", clock_.t) == CodeCheck::kDead);
    CPPUNIT_ASSERT(store_->check(CodePurpose::kResetPassword, kEmail, "123456", clock_.t) ==
                   CodeCheck::kDead);
    std::string binding;
    CPPUNIT_ASSERT(store_->check(change, kEmail, "123456", clock_.t, &binding) == CodeCheck::kOk);
    CPPUNIT_ASSERT_EQUAL(std::string("a42.3"), binding);
    CPPUNIT_ASSERT(store_->store(change, kEmail, "654321", clock_.t, "a42.3").ok());
    CPPUNIT_ASSERT(store_->forget(kEmail).ok());
    CPPUNIT_ASSERT(store_->check(change, kEmail, "654321", clock_.t) == CodeCheck::kDead);
  }

  void testOutage() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    cache_.down = true;
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kUnavailable);
    CPPUNIT_ASSERT(!store_->store(kVerify, kEmail, "123456", clock_.t).ok());
    CPPUNIT_ASSERT(store_->admit(kVerify, kEmail, "10.0.0.1", clock_.t).outcome ==
                   CodeIssue::Outcome::kUnavailable);
    cache_.down = false;
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kOk);
  }

  void testCooldown() {
    CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
    clock_.t += 20;
    CodeIssue again = admit(kEmail, "10.0.0.1");
    CPPUNIT_ASSERT(again.outcome == CodeIssue::Outcome::kCooldown);
    CPPUNIT_ASSERT_EQUAL(40L, again.retry_after);
    clock_.t += 40;
    CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
  }

  void testHourlyLimits() {
    clock_.t = 1700000000 - 1700000000 % 3600;  // the start of an hour
    for (int i = 0; i < 5; ++i) {
      CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
      clock_.t += 61;
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
    clock_.t += 3600;
    CPPUNIT_ASSERT(admit(kEmail, "10.0.0.1").outcome == CodeIssue::Outcome::kSent);
  }

  void testRacingRightSubmissions() {
    for (int round = 0; round < 200; ++round) {
      CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t).ok());
      std::atomic<int> ok{0}, dead{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
          CodeCheck c = store_->check(kVerify, kEmail, "123456", clock_.t);
          (c == CodeCheck::kOk ? ok : dead)++;
        });
      for (auto& t : threads) t.join();
      CPPUNIT_ASSERT_EQUAL(1, ok.load());
      CPPUNIT_ASSERT_EQUAL(3, dead.load());
    }
  }

  void testBindingComesBackWithTheCode() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t, "reg1").ok());
    std::string binding = "unset";
    CPPUNIT_ASSERT(store_->check(kVerify, kEmail, "000000", clock_.t, &binding) ==
                   CodeCheck::kWrong);
    CPPUNIT_ASSERT_EQUAL(std::string("unset"), binding);  // only a right code tells
    // A later registration's code replaces it: the earlier one is just wrong now.
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "654321", clock_.t, "reg2").ok());
    CPPUNIT_ASSERT(store_->check(kVerify, kEmail, "123456", clock_.t, &binding) ==
                   CodeCheck::kWrong);
    CPPUNIT_ASSERT(store_->check(kVerify, kEmail, "654321", clock_.t, &binding) == CodeCheck::kOk);
    CPPUNIT_ASSERT_EQUAL(std::string("reg2"), binding);
    // No binding: "" comes back.
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "111222", clock_.t).ok());
    CPPUNIT_ASSERT(store_->check(kVerify, kEmail, "111222", clock_.t, &binding) == CodeCheck::kOk);
    CPPUNIT_ASSERT_EQUAL(std::string(), binding);
  }

  void testBindingMustBeAToken() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t, "a b").code() ==
                   Status::Code::kInvalid);
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kDead);  // nothing stored
  }

  void testDecoyAnswersAsARealCode() {
    // The same sequence as testFifthWrongKills, whatever is typed (even the digits the
    // CSPRNG would have given): 5 wrong, then dead.
    const std::string random(32, 'r');
    CPPUNIT_ASSERT(store_->store_decoy(kVerify, kEmail, clock_.t, random).ok());
    for (const char* typed : {"111111", "000000", "rrrrrr", "", "123456"})
      CPPUNIT_ASSERT(check(typed) == CodeCheck::kWrong);
    CPPUNIT_ASSERT(check("111111") == CodeCheck::kDead);
    // It expires as a code does.
    CPPUNIT_ASSERT(store_->store_decoy(kVerify, "bob@example.org", clock_.t, random).ok());
    clock_.t += limits_.lifetime;
    CPPUNIT_ASSERT(store_->check(kVerify, "bob@example.org", "000000", clock_.t) ==
                   CodeCheck::kDead);
    // The CSPRNG failed: nothing is stored.
    CPPUNIT_ASSERT(!store_->store_decoy(kVerify, kEmail, clock_.t, "").ok());
  }

  void testDecoyKillsTheLiveCode() {
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t, "reg1").ok());
    CPPUNIT_ASSERT(store_->store_decoy(kVerify, kEmail, clock_.t, std::string(32, 'r')).ok());
    CPPUNIT_ASSERT(check("123456") == CodeCheck::kWrong);
  }

  void testFormatWithoutBindingRead() {
    // An entry written before codes had bindings ("c1 ..."): a code bound to nothing.
    CPPUNIT_ASSERT(store_->store(kVerify, kEmail, "123456", clock_.t, "reg1").ok());
    const std::string key =
        "codes:c:verify:" +
        natomedia::text::hex_encode(crypto_.hmac("codes.key", kEmail)).substr(0, 32);
    CacheEntry e = cache_.get(key);
    CPPUNIT_ASSERT(e.outcome == CacheOutcome::kHit);
    std::string old = e.value.substr(0, e.value.rfind(' '));
    old.replace(0, 2, "c1");
    CPPUNIT_ASSERT(cache_.set(key, old, 600).ok());
    std::string binding = "unset";
    CPPUNIT_ASSERT(store_->check(kVerify, kEmail, "123456", clock_.t, &binding) == CodeCheck::kOk);
    CPPUNIT_ASSERT_EQUAL(std::string(), binding);
  }

 private:
  CodeCheck check(const std::string& typed) {
    return store_->check(kVerify, kEmail, typed, clock_.t);
  }
  CodeIssue admit(const std::string& email, const std::string& ip) {
    return store_->admit(kVerify, email, ip, clock_.t);
  }

  FakeClock clock_;
  FakeCache cache_{clock_};
  FakeCrypto crypto_;
  CodeLimits limits_;
  std::unique_ptr<CodeStore> store_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CodeStoreTest);
