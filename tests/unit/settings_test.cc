#include <cppunit/extensions/HelperMacros.h>

#include "core/settings.h"

namespace natomedia::core {
namespace {

class SettingsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SettingsTest);
  CPPUNIT_TEST(testBasePath);
  CPPUNIT_TEST(testPublicUrl);
  CPPUNIT_TEST(testSecondsAndBytes);
  CPPUNIT_TEST(testMailTransport);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testBasePath() {
    CPPUNIT_ASSERT_EQUAL(std::string(""), *check_base_path("/"));
    CPPUNIT_ASSERT_EQUAL(std::string("/portal"), *check_base_path("/portal"));
    for (const char* bad : {"portal", "/portal/", "//x", "/a/../b", "/a b", "/a?x", "/a%2f"})
      CPPUNIT_ASSERT_MESSAGE(bad, !check_base_path(bad).ok());
  }

  void testPublicUrl() {
    CPPUNIT_ASSERT_EQUAL(std::string("https://media.example.org"),
                         *check_public_url("https://media.example.org/"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:8080/p"),
                         *check_public_url("http://127.0.0.1:8080/p"));
    for (const char* bad : {"ftp://x", "media.example.org", "https://", "https:///x",
                            "https://x/?a=b", "javascript:alert(1)"})
      CPPUNIT_ASSERT_MESSAGE(bad, !check_public_url(bad).ok());
  }

  void testSecondsAndBytes() {
    CPPUNIT_ASSERT_EQUAL(1800L, *check_seconds("1800", 30, 86400));
    CPPUNIT_ASSERT(!check_seconds("10", 30, 86400).ok());
    CPPUNIT_ASSERT(!check_seconds("1e3", 30, 86400).ok());
    CPPUNIT_ASSERT(!check_seconds("", 30, 86400).ok());
    CPPUNIT_ASSERT(!check_seconds("99999999999999999999", 30, 86400).ok());
    CPPUNIT_ASSERT(check_seconds("abc", 0, 10).status().message().find("whole number") !=
                   std::string::npos);
    CPPUNIT_ASSERT_EQUAL(uint64_t(10737418240ULL), *check_bytes("10737418240"));
    CPPUNIT_ASSERT(!check_bytes("0").ok());
    CPPUNIT_ASSERT(!check_bytes("-5").ok());
    CPPUNIT_ASSERT(!check_bytes("10G").ok());
  }

  void testMailTransport() {
    auto smtp = parse_mail_transport("smtp://127.0.0.1:2525");
    CPPUNIT_ASSERT(smtp.ok());
    CPPUNIT_ASSERT(smtp->kind == MailTransport::Kind::kSmtp);
    auto smtps = parse_mail_transport("smtps://user:pw@mail.example.org:465/");
    CPPUNIT_ASSERT(smtps.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("smtps://user:pw@mail.example.org:465"), smtps->url);
    auto file = parse_mail_transport("file:///tmp");
    CPPUNIT_ASSERT(file.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("/tmp"), file->dir);
    CPPUNIT_ASSERT(!parse_mail_transport("file://relative").ok());
    CPPUNIT_ASSERT(!parse_mail_transport("file:///nonexistent-dir-xyz").ok());
    CPPUNIT_ASSERT(!parse_mail_transport("mailto:x@y").ok());
    CPPUNIT_ASSERT(!parse_mail_transport("smtp://").ok());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SettingsTest);

}  // namespace
}  // namespace natomedia::core
