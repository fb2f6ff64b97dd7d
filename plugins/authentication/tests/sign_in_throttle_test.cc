// Tests of the sign-in throttle against an in-memory cache and a clock the test moves: an attempt
// takes its place before its password is checked, so the 6th attempt in flight is refused; places
// of failures stay taken for the window, right passwords and unchecked ones give theirs back;
// locks double from 1 to 15 minutes and end; clients (IPv4, IPv6 /64) are limited apart.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <natomedia/text.h>

#include "sign_in_throttle.h"

using namespace natomedia;
using natomedia::auth::lock_seconds;
using natomedia::auth::SignInThrottle;
using natomedia::auth::ThrottleLimits;

namespace {

using natomedia::testing::FakeCache;
using natomedia::testing::FakeClock;

void no_routes(natomedia::PluginHost*) {}

// The test kit's Context (natomedia/testing/kit.h) for a sign-in from 192.0.2.1, on a portal
// with no routes: the core's own request context around the kit's clock, cache and crypto.
struct FakeContext {
  FakeContext() { request_.client_ip = "192.0.2.1"; }
  operator Context&() { return *ctx; }  // NOLINT: passed where the throttle wants a Context
  const Request& request() const { return ctx->request(); }
  Crypto& crypto() { return ctx->crypto(); }

  natomedia::testing::TestPortal portal{"throttle_test", no_routes};
  std::unique_ptr<natomedia::testing::FakeContext> ctx = portal.context("POST", "/sign-in");
  Request& request_ = ctx->mutable_request();
  FakeClock& clock_ = portal.clock();
  FakeCache& cache_ = portal.cache();
  Crypto& crypto_ = portal.crypto();
  struct Logged {
    const natomedia::testing::TestPortal& portal;
    bool operator>(size_t n) const { return portal.log().size() > n; }
  } logged{portal};
};

}  // namespace

class SignInThrottleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SignInThrottleTest);
  CPPUNIT_TEST(testLockDoublesUpToFifteenMinutes);
  CPPUNIT_TEST(testSixthAttemptInFlightIsRefused);
  CPPUNIT_TEST(testRacingAttemptsGetFivePlaces);
  CPPUNIT_TEST(testFailuresHoldTheirPlacesForTheWindow);
  CPPUNIT_TEST(testFailuresSpreadOverTimeAreNotRefused);
  CPPUNIT_TEST(testLocksDoubleAndEnd);
  CPPUNIT_TEST(testLongLocksOutlastThePlaces);
  CPPUNIT_TEST(testSuccessGivesItsPlaceBack);
  CPPUNIT_TEST(testAbandonedAttemptGivesItsPlaceBack);
  CPPUNIT_TEST(testClearUnlocks);
  CPPUNIT_TEST(testIpLimit);
  CPPUNIT_TEST(testIpv6ClientCountedByItsSlash64);
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

  void testSixthAttemptInFlightIsRefused() {
    FakeContext ctx;
    SignInThrottle t;
    std::vector<SignInThrottle::Attempt> running;
    for (int i = 0; i < 5; ++i) {
      running.push_back(t.begin(ctx, "ann@example.org"));
      CPPUNIT_ASSERT(!running.back().refused());
    }
    // None of the five has been checked yet: no failure counted, no lock, but no place left.
    SignInThrottle::Attempt sixth = t.begin(ctx, "ann@example.org");
    CPPUNIT_ASSERT(sixth.refused());
    CPPUNIT_ASSERT(sixth.places.empty());
    CPPUNIT_ASSERT_EQUAL(300L, sixth.retry_after);
    CPPUNIT_ASSERT(!t.begin(ctx, "bob@example.org").refused());  // others unaffected
  }

  void testRacingAttemptsGetFivePlaces() {
    FakeContext ctx;
    SignInThrottle t;
    std::atomic<int> admitted{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 40; ++i)
      threads.emplace_back([&] {
        SignInThrottle::Attempt a = t.begin(ctx, "ann@example.org");
        if (a.refused()) {
          ++refused;
          return;
        }
        ++admitted;
        t.failed(ctx, a);
      });
    for (auto& th : threads) th.join();
    CPPUNIT_ASSERT_EQUAL(5, admitted.load());
    CPPUNIT_ASSERT_EQUAL(35, refused.load());
  }

  void testFailuresHoldTheirPlacesForTheWindow() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 5; ++i) {
      SignInThrottle::Attempt a = t.begin(ctx, "ann@example.org");
      CPPUNIT_ASSERT(!a.refused());
      t.failed(ctx, a);
      ctx.clock_.t += 10;
    }
    // The first lock is a minute, but the first place frees only 300 s after its attempt.
    CPPUNIT_ASSERT_EQUAL(250L, t.begin(ctx, "ann@example.org").retry_after);
    ctx.clock_.t += 60;
    CPPUNIT_ASSERT_EQUAL(190L, t.begin(ctx, "ann@example.org").retry_after);
    ctx.clock_.t += 190;
    SignInThrottle::Attempt a = t.begin(ctx, "ann@example.org");
    CPPUNIT_ASSERT(!a.refused());
    t.failed(ctx, a);
    CPPUNIT_ASSERT_EQUAL(10L, t.begin(ctx, "ann@example.org").retry_after);  // the 2nd frees
  }

  void testFailuresSpreadOverTimeAreNotRefused() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 20; ++i) {
      SignInThrottle::Attempt a = t.begin(ctx, "ann@example.org");
      CPPUNIT_ASSERT_MESSAGE(std::to_string(i), !a.refused());
      t.failed(ctx, a);
      ctx.clock_.t += 76;  // never 5 within 300 s
    }
  }

  void testLocksDoubleAndEnd() {
    FakeContext ctx;
    ThrottleLimits l;
    l.account_window = 30;  // places that free quickly, so the doubling lock shows alone
    SignInThrottle t(l);
    const long expected[] = {60, 120, 240, 480, 900, 900};
    for (long want : expected) {
      fail(ctx, t, "ann@example.org", 5);
      CPPUNIT_ASSERT_EQUAL(want, t.begin(ctx, "ann@example.org").retry_after);
      ctx.clock_.t += want;  // the lock ends on its own
      SignInThrottle::Attempt a = t.begin(ctx, "ann@example.org");
      CPPUNIT_ASSERT(!a.refused());
      t.abandoned(ctx, a);
    }
    // An hour of quiet after the last lock: the doubling starts over.
    ctx.clock_.t += 3600;
    fail(ctx, t, "ann@example.org", 5);
    CPPUNIT_ASSERT_EQUAL(60L, t.begin(ctx, "ann@example.org").retry_after);
  }

  void testLongLocksOutlastThePlaces() {
    FakeContext ctx;
    SignInThrottle t;
    // 5 failures every time the account may try again: 5 minutes while the places are what
    // holds it, then the doubling lock (8, 15, 15 minutes) once it is the longer.
    const long expected[] = {300, 300, 300, 480, 900, 900};
    for (long want : expected) {
      fail(ctx, t, "ann@example.org", 5);
      CPPUNIT_ASSERT_EQUAL(want, t.begin(ctx, "ann@example.org").retry_after);
      ctx.clock_.t += want;
    }
    CPPUNIT_ASSERT(!t.begin(ctx, "ann@example.org").refused());  // never permanent
  }

  void testSuccessGivesItsPlaceBack() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 20; ++i) {  // right passwords never run out of places
      SignInThrottle::Attempt a = t.begin(ctx, "ann@example.org");
      CPPUNIT_ASSERT(!a.refused());
      t.succeeded(ctx, a);
    }
    fail(ctx, t, "ann@example.org", 4);
    SignInThrottle::Attempt right = t.begin(ctx, "ann@example.org");
    CPPUNIT_ASSERT(!right.refused());
    t.succeeded(ctx, right);
    // The 4 failures keep their places (one is left) but are forgiven for the lock.
    fail(ctx, t, "ann@example.org", 1);
    CPPUNIT_ASSERT_EQUAL(300L, t.begin(ctx, "ann@example.org").retry_after);
    CPPUNIT_ASSERT(ctx.cache_.get(lock_key(ctx, t)).outcome == CacheOutcome::kMiss);
  }

  void testAbandonedAttemptGivesItsPlaceBack() {
    FakeContext ctx;
    SignInThrottle t;
    for (int round = 0; round < 3; ++round) {
      std::vector<SignInThrottle::Attempt> running;
      for (int i = 0; i < 5; ++i) running.push_back(t.begin(ctx, "ann@example.org"));
      CPPUNIT_ASSERT(t.begin(ctx, "ann@example.org").refused());
      for (const auto& a : running) {
        CPPUNIT_ASSERT(!a.refused());
        t.abandoned(ctx, a);  // every hash slot was busy: nothing was checked
      }
    }
    CPPUNIT_ASSERT(!t.begin(ctx, "ann@example.org").refused());
  }

  void testClearUnlocks() {
    FakeContext ctx;
    SignInThrottle t;
    fail(ctx, t, "ann@example.org", 5);
    CPPUNIT_ASSERT(t.begin(ctx, "ann@example.org").refused());
    t.clear(ctx, "ann@example.org");
    CPPUNIT_ASSERT(!t.begin(ctx, "ann@example.org").refused());
  }

  void testIpLimit() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 10; ++i) fail(ctx, t, "user" + std::to_string(i) + "@x.org", 1);
    CPPUNIT_ASSERT_EQUAL(60L, t.begin(ctx, "someone-new@example.org").retry_after);
    ctx.request_.client_ip = "198.51.100.7";
    CPPUNIT_ASSERT(!t.begin(ctx, "someone-new@example.org").refused());
  }

  void testIpv6ClientCountedByItsSlash64() {
    FakeContext ctx;
    SignInThrottle t;
    for (int i = 0; i < 10; ++i) {  // a new address of the same /64 for every attempt
      ctx.request_.client_ip = "2001:db8:7:8::" + std::to_string(i + 1);
      t.begin(ctx, "user" + std::to_string(i) + "@x.org");
    }
    ctx.request_.client_ip = "2001:db8:7:8:ffff:1:2:3";
    CPPUNIT_ASSERT(t.begin(ctx, "someone-new@example.org").refused());
    ctx.request_.client_ip = "2001:db8:7:9::1";  // the next /64 is another client
    CPPUNIT_ASSERT(!t.begin(ctx, "someone-new@example.org").refused());
  }

  void testCacheDownLetsThrough() {
    FakeContext ctx;
    SignInThrottle t;
    ctx.cache_.down = true;
    for (int i = 0; i < 20; ++i) fail(ctx, t, "ann@example.org", 1);
    CPPUNIT_ASSERT(!t.begin(ctx, "ann@example.org").refused());
    CPPUNIT_ASSERT(ctx.logged > 0);
  }

 private:
  // `n` attempts for `email` whose passwords were wrong.
  static void fail(FakeContext& ctx, const SignInThrottle& t, const std::string& email, int n) {
    for (int i = 0; i < n; ++i) {
      SignInThrottle::Attempt a = t.begin(ctx, email);
      CPPUNIT_ASSERT(!a.refused());
      t.failed(ctx, a);
    }
  }

  // The lock entry of ann@example.org as the throttle names it.
  static std::string lock_key(FakeContext& ctx, const SignInThrottle&) {
    const std::string id =
        natomedia::text::hex_encode(ctx.crypto_.hmac("auth.throttle", "a:ann@example.org"));
    return "auth:a:" + id.substr(0, 32) + ":l";
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignInThrottleTest);
