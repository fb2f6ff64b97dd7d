#include <cppunit/extensions/HelperMacros.h>

#include "core/mail_outbox.h"

namespace natomedia::core {
namespace {

class MailOutboxTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MailOutboxTest);
  CPPUNIT_TEST(testParseMailFrom);
  CPPUNIT_TEST(testComposeMultipart);
  CPPUNIT_TEST(testHeadersCannotBeInjected);
  CPPUNIT_TEST(testNonAsciiSubjectIsEncoded);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testParseMailFrom() {
    auto f = parse_mail_from("NATO Multimedia <noreply@example.org>");
    CPPUNIT_ASSERT(f.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("example.org"), f->domain);
    CPPUNIT_ASSERT_EQUAL(std::string("noreply@example.org"), f->address);
    CPPUNIT_ASSERT(parse_mail_from("a@b.c").ok());
    CPPUNIT_ASSERT(!parse_mail_from("nobody").ok());
    CPPUNIT_ASSERT(!parse_mail_from("Name <broken").ok());
    CPPUNIT_ASSERT(!parse_mail_from("x <a b@c>").ok());
  }

  void testComposeMultipart() {
    MailMessage m;
    m.to = "visitor@example.net";
    m.subject = "Your verification code";
    m.text = "Your code is 123456";
    m.html = "<p>Your code is <strong>123456</strong></p>";
    m.lang = "en";
    m.headers.push_back({"List-Unsubscribe", "<https://x/newsletter/unsubscribe?token=T>"});
    std::string mime = compose_mime(m, *parse_mail_from("Media <noreply@example.org>"), 0,
                                    "abc@example.org", "BOUNDARY");
    CPPUNIT_ASSERT(mime.find("From: Media <noreply@example.org>\r\n") == 0);
    CPPUNIT_ASSERT(mime.find("To: visitor@example.net\r\n") != std::string::npos);
    CPPUNIT_ASSERT(mime.find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != std::string::npos);
    CPPUNIT_ASSERT(mime.find("Message-ID: <abc@example.org>\r\n") != std::string::npos);
    CPPUNIT_ASSERT(mime.find("Content-Language: en\r\n") != std::string::npos);
    CPPUNIT_ASSERT(mime.find("List-Unsubscribe: <https://x/newsletter/unsubscribe?token=T>\r\n") !=
                   std::string::npos);
    CPPUNIT_ASSERT(mime.find("multipart/alternative; boundary=\"BOUNDARY\"") != std::string::npos);
    CPPUNIT_ASSERT(mime.find("--BOUNDARY\r\nContent-Type: text/plain; charset=UTF-8") !=
                   std::string::npos);
    CPPUNIT_ASSERT(mime.find("--BOUNDARY\r\nContent-Type: text/html; charset=UTF-8") !=
                   std::string::npos);
    CPPUNIT_ASSERT(mime.find("--BOUNDARY--\r\n") != std::string::npos);
    // base64 of "Your code is 123456"
    CPPUNIT_ASSERT(mime.find("WW91ciBjb2RlIGlzIDEyMzQ1Ng==") != std::string::npos);
  }

  void testHeadersCannotBeInjected() {
    MailMessage m;
    m.to = "a@b.c";
    m.subject = "Hi\r\nBcc: victim@example.org";
    m.text = "x";
    std::string mime = compose_mime(m, *parse_mail_from("a@b.c"), 0, "id@b.c", "B");
    CPPUNIT_ASSERT(mime.find("\r\nBcc:") == std::string::npos);
  }

  void testNonAsciiSubjectIsEncoded() {
    CPPUNIT_ASSERT_EQUAL(std::string("plain"), encode_header_value("plain"));
    std::string enc = encode_header_value("Votre code de vérification");
    CPPUNIT_ASSERT(enc.find("=?UTF-8?B?") == 0);
    CPPUNIT_ASSERT(enc.find("é") == std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailOutboxTest);

}  // namespace
}  // namespace natomedia::core
