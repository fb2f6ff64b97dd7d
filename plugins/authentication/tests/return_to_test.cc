// Tests of the plugin's return_to check: local paths pass, every way out falls back to "/".
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "return_to.h"

using natomedia::auth::safe_return_to;

class ReturnToTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReturnToTest);
  CPPUNIT_TEST(testAcceptsLocalPaths);
  CPPUNIT_TEST(testRefusesOtherOrigins);
  CPPUNIT_TEST(testRefusesEncodedVariants);
  CPPUNIT_TEST(testRefusesOddBytes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testAcceptsLocalPaths() {
    for (const char* ok : {"/", "/videos/abc", "/news/?page=2", "/account/", "/a%20b",
                           "/videos/x?lang=fr#top", "/a/b//c"})
      CPPUNIT_ASSERT_EQUAL(std::string(ok), safe_return_to(ok));
  }

  void testRefusesOtherOrigins() {
    for (const char* bad :
         {"//evil", "//evil.example/x", "https://evil", "http://evil/", "/\\evil", "\\\\evil",
          "javascript:alert(1)", "evil", "", "./x", "data:text/html,x", "\\/evil"})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, std::string("/"), safe_return_to(bad));
  }

  void testRefusesEncodedVariants() {
    for (const char* bad : {"/%2Fevil", "/%2fevil", "/%5Cevil", "/%5cevil", "/%252Fevil",
                            "/%25252Fevil", "%2F%2Fevil", "/%09/evil", "/%0d%0aLocation:x", "/%zz",
                            "/%", "/%2525252525252Fx", "/%00"})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, std::string("/"), safe_return_to(bad));
  }

  void testRefusesOddBytes() {
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to("/\t/evil"));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to("/a b"));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to("/caf\xC3\xA9"));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to(std::string("/a\0b", 4)));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to("/" + std::string(3000, 'a')));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReturnToTest);
