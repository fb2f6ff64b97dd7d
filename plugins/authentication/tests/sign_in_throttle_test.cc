// Tests of the sign-in throttle against an in-memory cache and a clock the test moves: the 6th
// attempt is refused, locks double from 1 to 15 minutes, locks end, IPs are limited apart.
#include <cppunit/extensions/HelperMacros.h>

#include "support/fakes.h"

#include <map>
#include <string>

#include "sign_in_throttle.h"

using namespace natomedia;
using natomedia::auth::lock_seconds;
using natomedia::auth::SignInThrottle;
using natomedia::auth::ThrottleLimits;

namespace {

using natomedia::testing::FakeCache;
using natomedia::testing::FakeClock;
using natomedia::testing::FakeCrypto;

// Only what the throttle touches is real; the rest must not be called.
class FakeContext : public Context {
 public:
  FakeContext() : cache_(clock_) { request_.client_ip = "192.0.2.1"; }
  const Request& request() const override { return request_; }
  const SiteConfig& config() const override { return config_; }
  Sql& sql() override { throw std::logic_error("sql"); }
  Cache& cache() override { return cache_; }
  Outbox& outbox() override { throw std::logic_error("outbox"); }
  const Templates& templates() const override { throw std::logic_error("templates"); }
  const I18n& i18n() const override { throw std::logic_error("i18n"); }
  Crypto& crypto() override { return crypto_; }
  const Feed& feed() const override { throw std::logic_error("feed"); }
  Metrics& metrics() override { throw std::logic_error("metrics"); }
  const Clock& clock() const override { return clock_; }
  std::optional<Account> account() override { return std::nullopt; }
  void reset_account() override {}
  Response sign_in_required(const std::string&) override { return Response::Redirect("/"); }
  Response unavailable(long) override { return {}; }
  void emit(const AccountEventData&) override {}
  std::shared_ptr<void> provider(const std::string&, int) const override { return nullptr; }
  void set_cookie(const CookieSpec&) override {}
  std::optional<std::string> cookie(const std::string&) const override { return std::nullopt; }
  std::string csrf_token() override { return ""; }
  void rotate_csrf() override {}
  void log(LogLevel, const std::string&) override { ++logged; }
  Response page(int, const std::string&, Vars) override { return {}; }
  Response error(int, const std::string&) override { return {}; }

  Request request_;
  SiteConfig config_;
  FakeClock clock_;
  FakeCache cache_;
  FakeCrypto crypto_;
  int logged = 0;
};

}  // namespace

class SignInThrottleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SignInThrottleTest);
  CPPUNIT_TEST(testLockDoublesUpToFifteenMinutes);
  CPPUNIT_TEST(testSixthAttemptInFiveMinutesIsRefused);
  CPPUNIT_TEST(testFailuresSpreadOverTimeAreNotLocked);
  CPPUNIT_TEST(testLocksDoubleAndEnd);
  CPPUNIT_TEST(testSuccessForgivesFailures);
  CPPUNIT_TEST(testClearUnlocks);
  CPPUNIT_TEST(testIpLimit);
  CPPUNIT_TEST(testCacheDownLetsThrough);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testLockDoublesUpToFifteenMinutes() {
    ThrottleLimits l;
    CPPUNIT_ASSERT_EQUAL(60L, lock_seconds(l, 0));
    CPPUNIT_ASSERT_EQUAL(120L, lock_seconds(l, 1));
    CPPUNIT_ASSERT_EQUAL(240L, lock_seconds(l, 2));
    CPPUNIT_ASSERT_EQUAL(480L, lock_seconds(l, 3));
    CPPUNIT_ASSERT_EQUAL(900L, lock_seconds(l, 4));
    CPPUNIT_ASSERT_EQUAL(900L, lock_seconds(l, 1000000));
  }

  void testSixthAttemptInFiveMinutesIsRefused() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 5; ++i) {
      CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "ann@example.org"));
      t.record_failure(ctx, "ann@example.org");
      ctx.clock_.t += 50;
    }
    long wait = t.retry_after(ctx, "ann@example.org");
    CPPUNIT_ASSERT(wait > 0 && wait <= 60);
    CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "bob@example.org"));  // others unaffected
  }

  void testFailuresSpreadOverTimeAreNotLocked() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 12; ++i) {
      t.record_failure(ctx, "ann@example.org");
      ctx.clock_.t += 100;  // 4 failures a window at most
      if (i % 4 == 3) ctx.clock_.t += 300;
      CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "ann@example.org"));
    }
  }

  void testLocksDoubleAndEnd() {
    FakeContext ctx;
    SignInThrottle t;
    const long expected[] = {60, 120, 240, 480, 900, 900};
    for (long want : expected) {
      for (int i = 0; i < 5; ++i) t.record_failure(ctx, "ann@example.org");
      CPPUNIT_ASSERT_EQUAL(want, t.retry_after(ctx, "ann@example.org"));
      ctx.clock_.t += want;  // the lock ends on its own
      CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "ann@example.org"));
      ctx.request_.client_ip = "192.0.2." + std::to_string(want % 200);  // keep the IP apart
    }
    // An hour of quiet after the last lock: the doubling starts over.
    ctx.clock_.t += 3600;
    for (int i = 0; i < 5; ++i) t.record_failure(ctx, "ann@example.org");
    CPPUNIT_ASSERT_EQUAL(60L, t.retry_after(ctx, "ann@example.org"));
  }

  void testSuccessForgivesFailures() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 4; ++i) t.record_failure(ctx, "ann@example.org");
    t.record_success(ctx, "ann@example.org");
    for (int i = 0; i < 4; ++i) t.record_failure(ctx, "ann@example.org");
    CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "ann@example.org"));
  }

  void testClearUnlocks() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 5; ++i) t.record_failure(ctx, "ann@example.org");
    CPPUNIT_ASSERT(t.retry_after(ctx, "ann@example.org") > 0);
    t.clear(ctx, "ann@example.org");
    CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "ann@example.org"));
  }

  void testIpLimit() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 10; ++i) t.record_failure(ctx, "user" + std::to_string(i) + "@x.org");
    CPPUNIT_ASSERT_EQUAL(60L, t.retry_after(ctx, "someone-new@example.org"));
    ctx.request_.client_ip = "198.51.100.7";
    CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "someone-new@example.org"));
  }

  void testCacheDownLetsThrough() {
    FakeContext ctx;
    SignInThrottle t;
    ctx.cache_.down = true;
    for (int i = 0; i < 20; ++i) t.record_failure(ctx, "ann@example.org");
    CPPUNIT_ASSERT_EQUAL(0L, t.retry_after(ctx, "ann@example.org"));
    CPPUNIT_ASSERT(ctx.logged > 0);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignInThrottleTest);
