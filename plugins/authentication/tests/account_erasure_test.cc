// The one erasure (AccountService::erase) with the plugin test kit: every plugin's account-deleted
// listener runs inside its transaction, a third-party plugin's too; a listener that throws rolls
// the whole erasure back (nothing erased anywhere) and is named; after a success the account, its
// sessions and grants are gone and the other account is untouched. And the plugin's part of the
// export: the account and its sessions, without a secret.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/json.h>
#include <natomedia/providers.h>
#include <natomedia/testing/kit.h>

#include <stdexcept>
#include <string>

extern "C" const natomedia_plugin_info* natomedia_plugin_entry(void);

namespace {

using natomedia::Context;
using natomedia::testing::TestPortal;

bool g_fail = false;

// A third-party plugin: its own rows about accounts, erased on kDeleted; a second listener that
// throws when told to, after the first has deleted.
void third_party(natomedia::PluginHost* host) {
  host->migration({1,
                   "third-party rows",
                   {"CREATE TABLE third_rows (account_id BIGINT NOT NULL, note TEXT NOT NULL)"},
                   {}});
  host->on(natomedia::AccountEvent::kDeleted,
           [](Context& ctx, const natomedia::AccountEventData& e) {
             auto r = ctx.sql().exec("DELETE FROM third_rows WHERE account_id = %s",
                                     {std::to_string(e.account.id)});
             if (!r.ok()) throw std::runtime_error(r.status().message());
           });
  host->on(natomedia::AccountEvent::kDeleted, [](Context&, const natomedia::AccountEventData&) {
    if (g_fail) throw std::runtime_error("the disk is full");
  });
}

class AccountErasureTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AccountErasureTest);
  CPPUNIT_TEST(testFailingListenerRollsEverythingBack);
  CPPUNIT_TEST(testErasesEveryPluginsRows);
  CPPUNIT_TEST(testExportWithoutSecrets);
  CPPUNIT_TEST_SUITE_END();

  std::unique_ptr<TestPortal> portal_;

  int64_t account(const std::string& email) {
    auto r = portal_->sql().exec(
        "INSERT INTO accounts (email, password_hash, state, created_at, verified_at) "
        "VALUES (%s, '$argon2id$secret-hash', 'verified', 1800000000, 1800000060)",
        {email});
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    const int64_t id =
        portal_->sql().query("SELECT id FROM accounts WHERE email = %s", {email})->integer(0, "id");
    const std::string sid = std::to_string(id);
    CPPUNIT_ASSERT(portal_->sql()
                       .exec("INSERT INTO account_sessions (id_hash, account_id, created_at, "
                             "last_seen, user_agent) VALUES (%s, %s, 1800000000, 1800000100, "
                             "'Agent/1')",
                             {"session-hash-" + sid, sid})
                       .ok());
    CPPUNIT_ASSERT(portal_->sql()
                       .exec("INSERT INTO third_rows (account_id, note) VALUES (%s, 'x')", {sid})
                       .ok());
    return id;
  }

  int count(const std::string& sql) {
    auto r = portal_->sql().query(sql, {});
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    return static_cast<int>(r->integer(0, "n"));
  }

  std::shared_ptr<natomedia::AccountService> service(Context& ctx) {
    auto s = natomedia::find_provider<natomedia::AccountService>(
        ctx, natomedia::kAccountServiceName, natomedia::kAccountServiceVersion);
    CPPUNIT_ASSERT(s);
    return s;
  }

 public:
  void setUp() override {
    g_fail = false;
    natomedia::testing::PortalOptions options;
    options.fake_identity = false;  // the plugin under test is the identity provider
    portal_ = std::make_unique<TestPortal>(
        "authentication", natomedia_plugin_entry()->setup, options,
        std::vector<std::pair<std::string, TestPortal::Setup>>{{"third", third_party}});
  }

  void tearDown() override { portal_.reset(); }

  void testFailingListenerRollsEverythingBack() {
    const int64_t ann = account("ann@example.org");
    auto ctx = portal_->context("GET", "/");
    auto found = service(*ctx)->find_by_id(*ctx, ann);
    CPPUNIT_ASSERT(found.ok());
    g_fail = true;
    auto erased = service(*ctx)->erase(*ctx, *found);
    CPPUNIT_ASSERT(!erased.ok());
    CPPUNIT_ASSERT(erased.status().message().find("plugin third") != std::string::npos);
    CPPUNIT_ASSERT(erased.status().message().find("the disk is full") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM accounts"));
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM account_sessions"));
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM third_rows"));  // rolled back
  }

  void testErasesEveryPluginsRows() {
    const int64_t ann = account("ann@example.org");
    const int64_t bob = account("bob@example.org");
    auto ctx = portal_->context("GET", "/");
    auto found = service(*ctx)->find_by_id(*ctx, ann);
    CPPUNIT_ASSERT(found.ok());
    auto erased = service(*ctx)->erase(*ctx, *found);
    CPPUNIT_ASSERT_MESSAGE(erased.ok() ? "" : erased.status().message(), erased.ok());
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, erased->sessions);
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, erased->reset_grants);
    const std::string b = std::to_string(bob);
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM accounts"));
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM accounts WHERE id = " + b));
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM account_sessions"));
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM third_rows WHERE account_id = " + b));
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM third_rows"));
    // Twice: the account is gone, NotFound, nothing else touched.
    auto again = service(*ctx)->erase(*ctx, *found);
    CPPUNIT_ASSERT(!again.ok());
    CPPUNIT_ASSERT(again.status().code() == natomedia::Status::Code::kNotFound);
    CPPUNIT_ASSERT_EQUAL(1, count("SELECT COUNT(*) AS n FROM third_rows"));
  }

  void testExportWithoutSecrets() {
    const int64_t ann = account("ann@example.org");
    account("bob@example.org");
    auto ctx = portal_->context("GET", "/");
    auto found = service(*ctx)->find_by_id(*ctx, ann);
    auto data = ctx->account_data(*found);
    CPPUNIT_ASSERT_MESSAGE(data.ok() ? "" : data.status().message(), data.ok());
    const natomedia::Value& auth = data->at("authentication");
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"),
                         auth.map().at("account").map().at("email").str());
    CPPUNIT_ASSERT_EQUAL(std::string("2027-01-15T08:01:00Z"),
                         auth.map().at("account").map().at("verified").str());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, auth.map().at("sessions").list().size());
    const std::string json = natomedia::json::write(natomedia::Value(*data));
    CPPUNIT_ASSERT(json.find("Agent/1") != std::string::npos);
    CPPUNIT_ASSERT(json.find("secret-hash") == std::string::npos);
    CPPUNIT_ASSERT(json.find("session-hash") == std::string::npos);
    CPPUNIT_ASSERT(json.find("bob@") == std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AccountErasureTest);

}  // namespace
