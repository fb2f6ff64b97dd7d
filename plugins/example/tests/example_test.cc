// The example plugin with the plugin test kit: its page rendered by the real template engine in
// both languages, its table migrated on SQLite, its counter, and CSRF on its form.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>

using natomedia::testing::TestPortal;

class ExampleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ExampleTest);
  CPPUNIT_TEST(testHelloCountsVisits);
  CPPUNIT_TEST(testFrenchAndEscaping);
  CPPUNIT_TEST(testFormNeedsItsToken);
  CPPUNIT_TEST(testBasePath);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testHelloCountsVisits() {
    TestPortal portal(natomedia_plugin_entry());
    auto first = portal.get("/example/hello");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(first.body(), 200, first.status());
    CPPUNIT_ASSERT(first.body().find("id=\"visits\">1<") != std::string::npos);
    CPPUNIT_ASSERT(portal.get("/example/hello").body().find("id=\"visits\">2<") !=
                   std::string::npos);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, portal.counter("natomedia_example_hellos_total"));
    auto rows = portal.sql().query("SELECT n FROM example_visits WHERE id = 1");
    CPPUNIT_ASSERT(rows.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("2"), rows->text(0, "n"));
  }

  void testFrenchAndEscaping() {
    TestPortal portal(natomedia_plugin_entry());
    auto fr = portal.get("/example/hello?name=%3Cb%3E", "fr");
    CPPUNIT_ASSERT(fr.body().find("Bonjour, &lt;b&gt;!") != std::string::npos);
    CPPUNIT_ASSERT(fr.body().find("lang=\"fr\"") != std::string::npos);
    // The language is remembered by its cookie, as in a browser.
    CPPUNIT_ASSERT(portal.get("/example/hello").body().find("Bonjour") != std::string::npos);
  }

  void testFormNeedsItsToken() {
    TestPortal portal(natomedia_plugin_entry());
    auto ok = portal.post("/example/hello", {{"text", "hi there"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(ok.body(), 200, ok.status());
    CPPUNIT_ASSERT(ok.body().find("hi there") != std::string::npos);
    auto forged = portal.post("/example/hello", {{"text", "x"}, {"csrf_token", "forged"}});
    CPPUNIT_ASSERT_EQUAL(403, forged.status());
  }

  void testBasePath() {
    natomedia::testing::PortalOptions options;
    options.base_path = "/portal";
    TestPortal portal(natomedia_plugin_entry(), options);
    auto page = portal.get("/example/hello");
    CPPUNIT_ASSERT_EQUAL(200, page.status());
    CPPUNIT_ASSERT(page.body().find("action=\"/portal/example/hello\"") != std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ExampleTest);
