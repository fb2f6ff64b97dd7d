#include <cppunit/extensions/HelperMacros.h>

#include "core/router.h"

namespace natomedia::core {
namespace {

Response ok(Context&) { return Response(); }

class RouterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RouterTest);
  CPPUNIT_TEST(testMatchesLiteralAndPlaceholders);
  CPPUNIT_TEST(testWrongMethodListsAllowed);
  CPPUNIT_TEST(testTrailingSlashIsDistinct);
  CPPUNIT_TEST(testOwnsFirstSegment);
  CPPUNIT_TEST(testRefusesDuplicatesAndBadPatterns);
  CPPUNIT_TEST_SUITE_END();

  Router router_;

 public:
  void setUp() override {
    router_ = Router();
    CPPUNIT_ASSERT(router_.add("p", "GET", "/news/", ok, {}).ok());
    CPPUNIT_ASSERT(router_.add("p", "GET", "/news/{id}", ok, {}).ok());
    CPPUNIT_ASSERT(router_.add("p", "GET", "/download/{id}/{rendition}", ok, {}).ok());
    CPPUNIT_ASSERT(router_.add("p", "POST", "/account/login", ok, {}).ok());
    CPPUNIT_ASSERT(router_.add("p", "GET", "/account/login", ok, {}).ok());
  }

  void testMatchesLiteralAndPlaceholders() {
    auto m = router_.match("GET", "/download/abc/hd1080");
    CPPUNIT_ASSERT(m.route);
    CPPUNIT_ASSERT_EQUAL(std::string("abc"), *m.params.get("id"));
    CPPUNIT_ASSERT_EQUAL(std::string("hd1080"), *m.params.get("rendition"));
    CPPUNIT_ASSERT(router_.match("HEAD", "/news/x").route);  // HEAD served by GET
    CPPUNIT_ASSERT(!router_.match("GET", "/download/abc").route);
    CPPUNIT_ASSERT(!router_.match("GET", "/download//x").route);  // empty segment never matches
  }

  void testWrongMethodListsAllowed() {
    auto m = router_.match("DELETE", "/account/login");
    CPPUNIT_ASSERT(!m.route);
    CPPUNIT_ASSERT_EQUAL(size_t(3), m.allowed.size());
    CPPUNIT_ASSERT_EQUAL(std::string("POST"), m.allowed[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("GET"), m.allowed[1]);
    CPPUNIT_ASSERT_EQUAL(std::string("HEAD"), m.allowed[2]);
    CPPUNIT_ASSERT(router_.match("GET", "/nowhere").allowed.empty());
  }

  void testTrailingSlashIsDistinct() {
    CPPUNIT_ASSERT(router_.match("GET", "/news/").route);
    CPPUNIT_ASSERT(!router_.match("GET", "/news").route);
  }

  void testOwnsFirstSegment() {
    CPPUNIT_ASSERT(router_.owns("/news/whatever/else"));
    CPPUNIT_ASSERT(router_.owns("/account"));
    CPPUNIT_ASSERT(!router_.owns("/static.txt"));
    CPPUNIT_ASSERT(!router_.owns("/"));
  }

  void testRefusesDuplicatesAndBadPatterns() {
    CPPUNIT_ASSERT(!router_.add("q", "GET", "/news/", ok, {}).ok());
    CPPUNIT_ASSERT(router_.add("q", "GET", "/news/", ok, {}).message().find("registered twice") !=
                   std::string::npos);
    CPPUNIT_ASSERT(!router_.add("q", "GET", "news", ok, {}).ok());
    CPPUNIT_ASSERT(!router_.add("q", "get", "/x", ok, {}).ok());
    CPPUNIT_ASSERT(!router_.add("q", "GET", "/x", Handler(), {}).ok());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouterTest);

}  // namespace
}  // namespace natomedia::core
