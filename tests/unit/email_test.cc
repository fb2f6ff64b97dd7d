// Tests of address normalisation and validation.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include <natomedia/email.h>

using natomedia::email_local_part;
using natomedia::normalize_email;

class EmailAddressTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(EmailAddressTest);
  CPPUNIT_TEST(testNormalises);
  CPPUNIT_TEST(testAccepts);
  CPPUNIT_TEST(testRefuses);
  CPPUNIT_TEST(testLocalPart);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testNormalises() {
    CPPUNIT_ASSERT_EQUAL(std::string("ann.lee@example.org"),
                         *normalize_email("  Ann.Lee@Example.ORG \t"));
    CPPUNIT_ASSERT(*normalize_email("ANN@EXAMPLE.ORG") == *normalize_email("ann@example.org"));
  }

  void testAccepts() {
    for (const char* ok : {"a@b.co", "first.last+tag@mail.example.org", "x_y-z@a-b.example",
                           "o'brien@example.ie", "1234@123.example"})
      CPPUNIT_ASSERT_MESSAGE(ok, normalize_email(ok).has_value());
  }

  void testRefuses() {
    for (const char* bad : {"",
                            "plain",
                            "@example.org",
                            "ann@",
                            "ann@@example.org",
                            "a@b@example.org",
                            "ann@localhost",
                            ".ann@example.org",
                            "ann.@example.org",
                            "an..n@example.org",
                            "ann@-example.org",
                            "ann@example-.org",
                            "ann@exa_mple.org",
                            "ann@example..org",
                            "ann lee@example.org",
                            "ann@exam ple.org",
                            "\"ann\"@example.org",
                            "ann@exam\nple.org",
                            "anne\xC3\xA9@example.org",
                            "ann@.example.org"})
      CPPUNIT_ASSERT_MESSAGE(bad, !normalize_email(bad).has_value());
    CPPUNIT_ASSERT(!normalize_email(std::string(65, 'a') + "@example.org"));
    CPPUNIT_ASSERT(normalize_email(std::string(64, 'a') + "@example.org"));
    std::string long_domain;
    for (int i = 0; i < 5; ++i) long_domain += std::string(60, 'd') + ".";
    CPPUNIT_ASSERT(!normalize_email("a@" + long_domain + "org"));
  }

  void testLocalPart() {
    CPPUNIT_ASSERT_EQUAL(std::string("ann"), email_local_part("ann@example.org"));
    CPPUNIT_ASSERT_EQUAL(std::string(), email_local_part("nothing"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EmailAddressTest);
