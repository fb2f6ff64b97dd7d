// The watchlist with the plugin test kit: sign-in required, the page in EN and FR through the
// real templates, the CSRF-checked form, the table and its migration, under a base path.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>

using natomedia::testing::TestPortal;

class WatchlistTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(WatchlistTest);
  CPPUNIT_TEST(testSignedOutVisitorIsSentToSignIn);
  CPPUNIT_TEST(testAddAndList);
  CPPUNIT_TEST(testForgedFormIsRefused);
  CPPUNIT_TEST(testBasePathAndSlash);
  CPPUNIT_TEST(testExportAndErasure);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSignedOutVisitorIsSentToSignIn() {
    TestPortal portal(natomedia_plugin_entry());
    auto page = portal.get("/watchlist/");
    CPPUNIT_ASSERT_EQUAL(303, page.status());
    CPPUNIT_ASSERT_EQUAL(std::string("/account/login?return_to=%2Fwatchlist%2F"),
                         page.header("Location"));
  }

  void testAddAndList() {
    TestPortal portal(natomedia_plugin_entry());
    portal.sign_in(natomedia::testing::account(7, "ann@example.org"));
    auto empty = portal.get("/watchlist/");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(empty.body(), 200, empty.status());
    CPPUNIT_ASSERT(empty.body().find("My watchlist") != std::string::npos);
    CPPUNIT_ASSERT(empty.body().find("Items: 0") != std::string::npos);
    auto added = portal.post("/watchlist/", {{"item", "urn:a<b>"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(added.body(), 303, added.status());
    portal.post("/watchlist/", {{"item", "urn:a<b>"}});  // twice: one row (the upsert)
    auto fr = portal.get("/watchlist/", "fr");
    CPPUNIT_ASSERT(fr.body().find("Ma liste à suivre") != std::string::npos);
    CPPUNIT_ASSERT(fr.body().find("urn:a&lt;b&gt;") != std::string::npos);
    CPPUNIT_ASSERT(fr.body().find("Éléments: 1") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, portal.counter("natomedia_watchlist_added_total"));
    auto rows = portal.sql().query("SELECT COUNT(*) AS n FROM watchlist_items");
    CPPUNIT_ASSERT_EQUAL(std::string("1"), rows->text(0, "n"));
  }

  void testForgedFormIsRefused() {
    TestPortal portal(natomedia_plugin_entry());
    portal.sign_in(natomedia::testing::account(7, "ann@example.org"));
    auto forged = portal.post("/watchlist/", {{"item", "x"}, {"csrf_token", "forged"}});
    CPPUNIT_ASSERT_EQUAL(403, forged.status());
    auto rows = portal.sql().query("SELECT COUNT(*) AS n FROM watchlist_items");
    CPPUNIT_ASSERT_EQUAL(std::string("0"), rows->text(0, "n"));
  }

  // The items are in the account's export and go with the account; another account's stay.
  void testExportAndErasure() {
    TestPortal portal(natomedia_plugin_entry());
    const natomedia::Account ann = natomedia::testing::account(7, "ann@example.org");
    portal.sign_in(ann);
    portal.post("/watchlist/", {{"item", "urn:one"}});
    portal.sign_in(natomedia::testing::account(8, "bob@example.org"));
    portal.post("/watchlist/", {{"item", "urn:two"}});
    auto ctx = portal.context("GET", "/");
    auto data = ctx->account_data(ann);
    CPPUNIT_ASSERT(data.ok());
    const natomedia::Value& items = data->at("watchlist").map().at("items");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, items.list().size());
    CPPUNIT_ASSERT_EQUAL(std::string("urn:one"), items.list()[0].map().at("item").str());
    CPPUNIT_ASSERT(ctx->emit({natomedia::AccountEvent::kDeleted, ann}).ok());
    auto rows = portal.sql().query("SELECT account_id FROM watchlist_items");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, rows->rows.size());
    CPPUNIT_ASSERT_EQUAL(std::string("8"), rows->text(0, "account_id"));
  }

  void testBasePathAndSlash() {
    natomedia::testing::PortalOptions options;
    options.base_path = "/p";
    TestPortal portal(natomedia_plugin_entry(), options);
    auto bare = portal.get("/watchlist?x=1");
    CPPUNIT_ASSERT_EQUAL(301, bare.status());
    CPPUNIT_ASSERT_EQUAL(std::string("/p/watchlist/?x=1"), bare.header("Location"));
    auto page = portal.get("/watchlist/");
    CPPUNIT_ASSERT_EQUAL(std::string("/p/account/login?return_to=%2Fwatchlist%2F"),
                         page.header("Location"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WatchlistTest);
