// resolve_session and the session ends with the server's session cache (the kit's
// FakeServerCache), on the kit's SQLite with the plugin's migrations: a session read from SQL is
// then answered from the cache; the idle and absolute lifetimes still apply to a cached answer;
// sign-out and account_sessions_ended drop what the cache holds; without a cache every answer
// is SQL's.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/plugin.h>
#include <natomedia/testing/kit.h>

#include <string>

#include "sessions.h"

namespace natomedia::auth {
namespace {

using natomedia::testing::TestPortal;

class SessionsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SessionsTest);
  CPPUNIT_TEST(testReadOnceThenFromTheCache);
  CPPUNIT_TEST(testLifetimesApplyToCachedAnswers);
  CPPUNIT_TEST(testEndsDropTheCachedSessions);
  CPPUNIT_TEST(testWithoutCacheEveryAnswerIsSql);
  CPPUNIT_TEST_SUITE_END();

  std::unique_ptr<TestPortal> portal_;
  int64_t account_ = 0;

  void make_portal(bool cache) {
    TestPortal::Options options;
    options.fake_identity = false;  // the plugin's own SessionIdentity answers
    options.server_cache = cache;
    portal_ = std::make_unique<TestPortal>(natomedia_plugin_entry(), options);
    auto r = portal_->sql().exec(
        "INSERT INTO accounts (email, password_hash, state, created_at, lang) "
        "VALUES ('ann@example.org', 'x', 'verified', 1, 'en')");
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    account_ = portal_->sql().query("SELECT id FROM accounts")->integer(0, "id");
  }

  // A session row for a fresh token, as start_session writes it; returns the token.
  std::string session(const std::string& token, long long age = 0, long long idle = 0) {
    const long long now = portal_->clock().now();
    auto r = portal_->sql().exec(
        "INSERT INTO account_sessions (id_hash, account_id, created_at, last_seen) "
        "VALUES (%s, %s, %s, %s)",
        {portal_->crypto().sha256_hex(token), std::to_string(account_), std::to_string(now - age),
         std::to_string(now - idle)});
    CPPUNIT_ASSERT(r.ok());
    return token;
  }

  std::optional<Account> resolve(const std::string& token) {
    portal_->cookies()["nm_session"] = token;
    auto ctx = portal_->context("GET", "/account/");
    auto r = resolve_session(*ctx);
    CPPUNIT_ASSERT(r.ok());
    return *r;
  }

  void drop_rows() { CPPUNIT_ASSERT(portal_->sql().exec("DELETE FROM account_sessions").ok()); }
  uint64_t hits() { return portal_->counter("natomedia_session_cache_hits_total"); }

  // 22 base64url characters: 16 bytes, as the plugin's tokens are.
  static std::string token(char c) { return std::string(21, c) + "A"; }

 public:
  void testReadOnceThenFromTheCache() {
    make_portal(true);
    const std::string t = session(token('a'));
    auto first = resolve(t);
    CPPUNIT_ASSERT(first);
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"), first->email);
    CPPUNIT_ASSERT_EQUAL(uint64_t(0), hits());
    // The row gone behind the portal's back (natomedia-admin): still believed from the cache
    // for the lifetime (NatoMediaSessionCacheTimeout, 2 s), then not.
    drop_rows();
    auto second = resolve(t);
    CPPUNIT_ASSERT(second);
    CPPUNIT_ASSERT_EQUAL(first->id, second->id);
    CPPUNIT_ASSERT_EQUAL(uint64_t(1), hits());
    portal_->clock().t += portal_->config().session_cache_lifetime;
    CPPUNIT_ASSERT(!resolve(t));
    // Never the token itself in the cache: only its hash.
    CPPUNIT_ASSERT(!portal_->server_cache().get("session:" + t));
  }

  void testLifetimesApplyToCachedAnswers() {
    make_portal(true);
    // A read that finds last_seen a minute old or more writes it anew (the request is activity),
    // so a cached session is at most a minute from its last activity: the idle rule can only
    // bite inside the cache's lifetime with the shortest idle lifetime, 60 s. (The kit's
    // configuration is its own object, set here as NatoMediaSessionIdle 60 would.)
    SiteConfig& config = const_cast<SiteConfig&>(portal_->config());
    config.session_idle = 60;
    // One second from idle: cached now, idle one second later, inside the cache's lifetime.
    const std::string idle = session(token('b'), 0, config.session_idle - 1);
    CPPUNIT_ASSERT(resolve(idle));
    // One second from the absolute lifetime.
    const std::string old = session(token('c'), config.session_max - 1, 0);
    CPPUNIT_ASSERT(resolve(old));
    portal_->clock().t += 1;
    CPPUNIT_ASSERT(!resolve(idle));
    CPPUNIT_ASSERT(!resolve(old));
    // Both refused sessions were deleted on sight, and their entries dropped.
    CPPUNIT_ASSERT(portal_->sql().query("SELECT id_hash FROM account_sessions")->empty());
    CPPUNIT_ASSERT(!portal_->server_cache().get("session:" + portal_->crypto().sha256_hex(idle)));
  }

  void testEndsDropTheCachedSessions() {
    make_portal(true);
    const std::string mine = session(token('d'));
    const std::string other = session(token('e'));
    CPPUNIT_ASSERT(resolve(mine));
    CPPUNIT_ASSERT(resolve(other));
    const std::string key = "session:" + portal_->crypto().sha256_hex(mine);
    CPPUNIT_ASSERT(portal_->server_cache().get(key));
    // Sign-out: the row and the entry go.
    portal_->cookies()["nm_session"] = mine;
    auto ctx = portal_->context("POST", "/account/logout");
    end_session(*ctx);
    CPPUNIT_ASSERT(!portal_->server_cache().get(key));
    CPPUNIT_ASSERT(!resolve(mine));
    // An account-wide end: the other session's entry is no longer believed, although it is
    // still in the cache (and its row too: here only the cache is asked to forget).
    const uint64_t before = hits();
    auto any = portal_->context("GET", "/");
    account_sessions_ended(*any, account_);
    CPPUNIT_ASSERT(resolve(other));  // read from SQL again
    CPPUNIT_ASSERT_EQUAL(before, hits());
    drop_rows();
    CPPUNIT_ASSERT(resolve(other));  // that fresh read is cached again
    CPPUNIT_ASSERT_EQUAL(before + 1, hits());
  }

  void testWithoutCacheEveryAnswerIsSql() {
    make_portal(false);
    const std::string t = session(token('f'));
    CPPUNIT_ASSERT(resolve(t));
    drop_rows();
    CPPUNIT_ASSERT(!resolve(t));
    CPPUNIT_ASSERT_EQUAL(uint64_t(0), hits());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SessionsTest);

}  // namespace
}  // namespace natomedia::auth
