// What the shared-memory session cache believes (session_cache.h), on a fake socache and clock:
// an entry for its lifetime only; nothing of a session or account once it ended, including when
// the end races a request that is filling the cache from SQL; nothing when the cache is down.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/doubles.h>

#include <string>

#include "session_cache.h"

namespace natomedia::auth {
namespace {

using natomedia::testing::FakeClock;
using natomedia::testing::FakeServerCache;

// Fresh random values must differ: a counter stands for the CSPRNG.
class CountingCrypto : public natomedia::testing::FakeCrypto {
 public:
  std::string random_token(size_t) override { return "n" + std::to_string(++made_); }

 private:
  int made_ = 0;
};

constexpr long kLifetime = 2;

CachedSession session_of(int64_t id, const std::string& email) {
  CachedSession s;
  s.account.id = id;
  s.account.email = email;
  s.account.state = "verified";
  s.account.lang = "fr";
  s.account.credential_epoch = 7;
  s.created_at = 1699990000;
  s.last_seen = 1699999000;
  return s;
}

class SessionCacheTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SessionCacheTest);
  CPPUNIT_TEST(testAFilledSessionIsFoundWithItsAccount);
  CPPUNIT_TEST(testBelievedForItsLifetimeOnly);
  CPPUNIT_TEST(testEndedSessionIsGoneOthersStay);
  CPPUNIT_TEST(testEndedAccountLosesEverySession);
  CPPUNIT_TEST(testFillRacingAnEndBeforeItsStoreKeepsNothing);
  CPPUNIT_TEST(testFillRacingAnEndAfterItsStoreKeepsNothing);
  CPPUNIT_TEST(testLostGenerationIsNeverBelievedAgain);
  CPPUNIT_TEST(testOnlyVerifiedAccountsAreKept);
  CPPUNIT_TEST(testCacheDownOrOffMeansSql);
  CPPUNIT_TEST(testAnotherSiteDoesNotBelieveIt);
  CPPUNIT_TEST(testEntryFormat);
  CPPUNIT_TEST_SUITE_END();

  FakeClock clock_;
  CountingCrypto crypto_;
  std::unique_ptr<FakeServerCache> store_;

  SessionCache cache(long lifetime = kLifetime) {
    return SessionCache(store_.get(), clock_, crypto_, lifetime);
  }
  void fill(const std::string& hash, const CachedSession& s) {
    SessionCache c = cache();
    auto before = c.begin_fill();
    c.fill(before, hash, s);
  }

 public:
  void setUp() override { store_ = std::make_unique<FakeServerCache>(clock_); }

  void testAFilledSessionIsFoundWithItsAccount() {
    CPPUNIT_ASSERT(!cache().find("h1"));
    fill("h1", session_of(5, "ann@example.org"));
    auto found = cache().find("h1");
    CPPUNIT_ASSERT(found);
    CPPUNIT_ASSERT_EQUAL(int64_t(5), found->account.id);
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"), found->account.email);
    CPPUNIT_ASSERT_EQUAL(std::string("verified"), found->account.state);
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), found->account.lang);
    CPPUNIT_ASSERT_EQUAL(int64_t(7), found->account.credential_epoch);
    CPPUNIT_ASSERT_EQUAL(1699990000LL, found->created_at);
    CPPUNIT_ASSERT_EQUAL(1699999000LL, found->last_seen);
    CPPUNIT_ASSERT(!cache().find("h2"));
    // The key is the hash given, never anything else of the session.
    CPPUNIT_ASSERT(store_->get("session:h1"));
  }

  void testBelievedForItsLifetimeOnly() {
    fill("h1", session_of(5, "ann@example.org"));
    clock_.t += kLifetime - 1;
    CPPUNIT_ASSERT(cache().find("h1"));
    clock_.t += 1;
    CPPUNIT_ASSERT(!cache().find("h1"));
    // Even where the store keeps entries longer than it was asked to.
    fill("h2", session_of(5, "ann@example.org"));
    CPPUNIT_ASSERT(cache(kLifetime).find("h2"));
    clock_.t += kLifetime;
    store_->put("session:h2",
                SessionCache::encode({session_of(5, "x@example.org"), clock_.t - kLifetime,
                                      *store_->get("account:5")}),
                clock_.t + 100);
    CPPUNIT_ASSERT(!cache().find("h2"));
    // A clock stepped back: an entry read "in the future" is not believed.
    fill("h3", session_of(5, "ann@example.org"));
    clock_.t -= 10;
    CPPUNIT_ASSERT(!cache().find("h3"));
  }

  void testEndedSessionIsGoneOthersStay() {
    fill("h1", session_of(5, "ann@example.org"));
    fill("h2", session_of(5, "ann@example.org"));
    fill("h3", session_of(6, "bob@example.org"));
    CPPUNIT_ASSERT(cache().forget_session("h1"));
    CPPUNIT_ASSERT(!cache().find("h1"));
    CPPUNIT_ASSERT(cache().find("h2"));
    CPPUNIT_ASSERT(cache().find("h3"));
  }

  void testEndedAccountLosesEverySession() {
    fill("h1", session_of(5, "ann@example.org"));
    fill("h2", session_of(5, "ann@example.org"));
    fill("h3", session_of(6, "bob@example.org"));
    CPPUNIT_ASSERT(cache().forget_account(5));
    CPPUNIT_ASSERT(!cache().find("h1"));
    CPPUNIT_ASSERT(!cache().find("h2"));
    CPPUNIT_ASSERT(cache().find("h3"));
    // A session read from SQL after the end is kept again (under a new generation).
    fill("h4", session_of(5, "ann@example.org"));
    CPPUNIT_ASSERT(cache().find("h4"));
    CPPUNIT_ASSERT(!cache().find("h1"));
  }

  // Request A misses and reads SQL (the row still there); request B signs out (SQL, then the
  // cache); A then stores what it read. A must not leave a believed entry behind.
  void testFillRacingAnEndBeforeItsStoreKeepsNothing() {
    for (int account_wide = 0; account_wide < 2; ++account_wide) {
      setUp();
      SessionCache a = cache();
      auto before = a.begin_fill();
      // ... A's SQL read happens here, then B's end:
      if (account_wide)
        cache().forget_account(5);
      else
        cache().forget_session("h1");
      a.fill(before, "h1", session_of(5, "ann@example.org"));
      CPPUNIT_ASSERT_MESSAGE(account_wide ? "account" : "session", !cache().find("h1"));
    }
  }

  // The same with B's end landing between A's store and A's last look.
  void testFillRacingAnEndAfterItsStoreKeepsNothing() {
    for (int account_wide = 0; account_wide < 2; ++account_wide) {
      setUp();
      SessionCache a = cache();
      auto before = a.begin_fill();
      bool ended = false;
      store_->on_get = [&](const std::string& key) {
        // A's look at the "ends" nonce after it stored the entry.
        if (key == "ends:" && store_->size() >= 3 && !ended) {
          ended = true;
          if (account_wide)
            cache().forget_account(5);
          else
            cache().forget_session("h1");
        }
      };
      a.fill(before, "h1", session_of(5, "ann@example.org"));
      store_->on_get = nullptr;
      CPPUNIT_ASSERT(ended);
      CPPUNIT_ASSERT_MESSAGE(account_wide ? "account" : "session", !cache().find("h1"));
    }
  }

  // A full socache evicts: an account generation that vanished, then was made again, never
  // matches the entries of before.
  void testLostGenerationIsNeverBelievedAgain() {
    fill("h1", session_of(5, "ann@example.org"));
    store_->remove("account:5");
    CPPUNIT_ASSERT(!cache().find("h1"));
    fill("h2", session_of(5, "ann@example.org"));
    CPPUNIT_ASSERT(cache().find("h2"));
    CPPUNIT_ASSERT(!cache().find("h1"));
    // The "ends" nonce evicted: the next fill starts a new one and is kept.
    store_->remove("ends:");
    fill("h3", session_of(5, "ann@example.org"));
    CPPUNIT_ASSERT(cache().find("h3"));
  }

  void testOnlyVerifiedAccountsAreKept() {
    CachedSession s = session_of(5, "ann@example.org");
    s.account.state = "disabled";
    fill("h1", s);
    CPPUNIT_ASSERT(!cache().find("h1"));
    CPPUNIT_ASSERT(!store_->get("session:h1"));
  }

  void testCacheDownOrOffMeansSql() {
    fill("h1", session_of(5, "ann@example.org"));
    store_->down = true;
    CPPUNIT_ASSERT(!cache().find("h1"));
    CPPUNIT_ASSERT(!cache().forget_session("h1"));  // the caller logs it
    fill("h2", session_of(5, "ann@example.org"));
    store_->down = false;
    CPPUNIT_ASSERT(!cache().find("h2"));
    // No cache (NatoMediaSessionCache none): a null store, or a lifetime of 0.
    SessionCache none(nullptr, clock_, crypto_, kLifetime);
    CPPUNIT_ASSERT(!none.enabled());
    auto before = none.begin_fill();
    none.fill(before, "h5", session_of(5, "ann@example.org"));
    CPPUNIT_ASSERT(!none.find("h5"));
    CPPUNIT_ASSERT(none.forget_account(5));
    CPPUNIT_ASSERT(!cache(0).enabled());
    CPPUNIT_ASSERT(!cache(0).find("h1"));
  }

  // Two virtual hosts of one server may use two databases: a session read for one is not the
  // other's, but an end in either drops it.
  void testAnotherSiteDoesNotBelieveIt() {
    SessionCache a(store_.get(), clock_, crypto_, kLifetime, "main");
    SessionCache b(store_.get(), clock_, crypto_, kLifetime, "vhosts.conf:12");
    a.fill(a.begin_fill(), "h1", session_of(5, "ann@example.org"));
    CPPUNIT_ASSERT(a.find("h1"));
    CPPUNIT_ASSERT(!b.find("h1"));
    b.fill(b.begin_fill(), "h1", session_of(9, "other@example.org"));
    CPPUNIT_ASSERT_EQUAL(int64_t(9), b.find("h1")->account.id);
    CPPUNIT_ASSERT(!a.find("h1"));
    b.forget_session("h1");
    CPPUNIT_ASSERT(!b.find("h1"));
  }

  void testEntryFormat() {
    SessionCache::Entry e{session_of(42, "o'brien+tag@example.org"), 1700000000, "gen",
                          "site.conf:3"};
    auto back = SessionCache::decode(SessionCache::encode(e));
    CPPUNIT_ASSERT(back);
    CPPUNIT_ASSERT_EQUAL(std::string("o'brien+tag@example.org"), back->session.account.email);
    CPPUNIT_ASSERT_EQUAL(int64_t(42), back->session.account.id);
    CPPUNIT_ASSERT_EQUAL(1700000000LL, back->read_at);
    CPPUNIT_ASSERT_EQUAL(std::string("gen"), back->generation);
    CPPUNIT_ASSERT_EQUAL(std::string("site.conf:3"), back->site);
    for (const char* bad :
         {"", "s2", "s1\t1\tg\tm\t1\t1\t1\t1\ten\ta@b", "s2\tx\tg\tm\t1\t1\t1\t1\ten\ta@b",
          "s2\t1\t\tm\t1\t1\t1\t1\ten\ta@b", "s2\t1\tg\t\t1\t1\t1\t1\ten\ta@b",
          "s2\t1\tg\tm\t1\t1\t1\t1\ten\t", "s2\t1\tg\tm\t1\t1\t1\ten\ta@b"})
      CPPUNIT_ASSERT_MESSAGE(bad, !SessionCache::decode(bad));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SessionCacheTest);

}  // namespace
}  // namespace natomedia::auth
