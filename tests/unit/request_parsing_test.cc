// Tests of core/request_parsing: forms, cookies, language choice, return_to.
#include "core/request_parsing.h"
#include <natomedia/return_to.h>

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using natomedia::Params;
using natomedia::Status;
using natomedia::core::parse_cookies;
using natomedia::core::parse_urlencoded;
using natomedia::core::ParseLimits;
using natomedia::core::pick_language;
using natomedia::safe_return_to;

class RequestParsingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RequestParsingTest);
  CPPUNIT_TEST(testFormBasics);
  CPPUNIT_TEST(testFormDecoding);
  CPPUNIT_TEST(testFormRejectsBadEncoding);
  CPPUNIT_TEST(testFormRejectsNul);
  CPPUNIT_TEST(testFormLimits);
  CPPUNIT_TEST(testFormErrorLeavesOutputAlone);
  CPPUNIT_TEST(testCookies);
  CPPUNIT_TEST(testCookiesSkipMalformed);
  CPPUNIT_TEST(testLanguageOrder);
  CPPUNIT_TEST(testAcceptLanguage);
  CPPUNIT_TEST(testReturnToAccepts);
  CPPUNIT_TEST(testReturnToRefuses);
  CPPUNIT_TEST(testHttpsFromHttpdOrTheProxyVariable);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFormBasics() {
    Params p;
    CPPUNIT_ASSERT(parse_urlencoded("email=a%40b.org&password=x&&flag&=v&email=second", p).ok());
    CPPUNIT_ASSERT_EQUAL(size_t(5), p.size());
    CPPUNIT_ASSERT_EQUAL(std::string("a@b.org"), *p.get("email"));  // the first one
    CPPUNIT_ASSERT_EQUAL(std::string("x"), *p.get("password"));
    CPPUNIT_ASSERT(p.has("flag"));
    CPPUNIT_ASSERT_EQUAL(std::string(), *p.get("flag"));
    CPPUNIT_ASSERT_EQUAL(std::string("v"), *p.get(""));
    CPPUNIT_ASSERT_EQUAL(std::string("second"), p.items()[4].second);

    Params empty;
    CPPUNIT_ASSERT(parse_urlencoded("", empty).ok());
    CPPUNIT_ASSERT(parse_urlencoded("&&&", empty).ok());
    CPPUNIT_ASSERT_EQUAL(size_t(0), empty.size());
  }

  void testFormDecoding() {
    Params p;
    CPPUNIT_ASSERT(parse_urlencoded("q=caf%C3%A9+cr%C3%A8me&eq=a%3Db%26c&raw=été&v=1=2", p).ok());
    CPPUNIT_ASSERT_EQUAL(std::string("café crème"), *p.get("q"));
    CPPUNIT_ASSERT_EQUAL(std::string("a=b&c"), *p.get("eq"));
    CPPUNIT_ASSERT_EQUAL(std::string("été"), *p.get("raw"));
    CPPUNIT_ASSERT_EQUAL(std::string("1=2"), *p.get("v"));
    Params plus;
    CPPUNIT_ASSERT(parse_urlencoded("a+b=%2B", plus).ok());
    CPPUNIT_ASSERT_EQUAL(std::string("+"), *plus.get("a b"));
  }

  void testFormRejectsBadEncoding() {
    const char* bad[] = {"a=%",      "a=%4",        "a=%zz",  "%=1",    "a=%C3",
                         "a=%C0%AF", "a=%ED%A0%80", "a=\xff", "n\xC3=1"};
    for (const char* input : bad) {
      Params p;
      Status s = parse_urlencoded(input, p);
      CPPUNIT_ASSERT_MESSAGE(input, !s.ok());
      CPPUNIT_ASSERT(s.code() == Status::Code::kInvalid);
      CPPUNIT_ASSERT(!s.message().empty());
    }
  }

  void testFormRejectsNul() {
    Params p;
    CPPUNIT_ASSERT(!parse_urlencoded("a=%00", p).ok());
    CPPUNIT_ASSERT(!parse_urlencoded("a%00=1", p).ok());
    CPPUNIT_ASSERT(!parse_urlencoded(std::string("a=b\0c", 5), p).ok());
    CPPUNIT_ASSERT(parse_urlencoded("a=%20", p).ok());
  }

  void testFormLimits() {
    ParseLimits limits;
    limits.max_body = 20;
    limits.max_fields = 3;
    limits.max_field_bytes = 5;
    Params p;
    CPPUNIT_ASSERT(parse_urlencoded("a=1&b=2&c=3", p, limits).ok());
    CPPUNIT_ASSERT(!parse_urlencoded("a=1&b=2&c=3&d=4", p, limits).ok());
    CPPUNIT_ASSERT(parse_urlencoded("a=1&&&&b=2", p, limits).ok());  // empty pairs don't count
    CPPUNIT_ASSERT(!parse_urlencoded("a=123456", p, limits).ok());
    CPPUNIT_ASSERT(parse_urlencoded("a=%41%42%43%44%45", p, limits).ok());  // 5 decoded bytes
    std::string big(21, 'x');
    Status s = parse_urlencoded(big, p, limits);
    CPPUNIT_ASSERT(!s.ok());
    CPPUNIT_ASSERT(natomedia::core::exceeds_body_limit(big, limits));
    CPPUNIT_ASSERT(!natomedia::core::exceeds_body_limit("a=1", limits));

    // The defaults: 64 KiB and 256 fields.
    std::string many;
    for (int i = 0; i < 257; ++i) many += "f=1&";
    CPPUNIT_ASSERT(!parse_urlencoded(many, p).ok());
    CPPUNIT_ASSERT(!parse_urlencoded("a=" + std::string(65536, 'x'), p).ok());
    CPPUNIT_ASSERT(parse_urlencoded("a=" + std::string(65000, 'x'), p).ok());
  }

  void testFormErrorLeavesOutputAlone() {
    Params p;
    p.add("keep", "1");
    CPPUNIT_ASSERT(!parse_urlencoded("x=1&y=%zz", p).ok());
    CPPUNIT_ASSERT_EQUAL(size_t(1), p.size());
    CPPUNIT_ASSERT(parse_urlencoded("x=1", p).ok());
    CPPUNIT_ASSERT_EQUAL(size_t(2), p.size());
  }

  void testCookies() {
    Params c;
    parse_cookies(" session=abc-123_x ; lang=fr;empty=; quoted=\"v w\";  __Host-csrf=t0k ", c);
    CPPUNIT_ASSERT_EQUAL(std::string("abc-123_x"), *c.get("session"));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), *c.get("lang"));
    CPPUNIT_ASSERT_EQUAL(std::string(), *c.get("empty"));
    CPPUNIT_ASSERT_EQUAL(std::string("v w"), *c.get("quoted"));
    CPPUNIT_ASSERT_EQUAL(std::string("t0k"), *c.get("__Host-csrf"));
    CPPUNIT_ASSERT_EQUAL(size_t(5), c.size());
    Params pct;
    parse_cookies("a=%41", pct);  // cookie values are never percent-decoded
    CPPUNIT_ASSERT_EQUAL(std::string("%41"), *pct.get("a"));
  }

  void testCookiesSkipMalformed() {
    Params c;
    std::string header = std::string("novalue; =nameless; bad name=1; a\xff=2; b=\xC0\xAF; ") +
                         "c=x\x01y; d=" + std::string(1, '\0') + "; good=yes;;;";
    parse_cookies(header, c);
    CPPUNIT_ASSERT_EQUAL(size_t(1), c.size());
    CPPUNIT_ASSERT_EQUAL(std::string("yes"), *c.get("good"));

    Params many;
    std::string flood;
    for (int i = 0; i < 1000; ++i) flood += "k" + std::to_string(i) + "=v;";
    parse_cookies(flood, many);
    CPPUNIT_ASSERT_EQUAL(size_t(256), many.size());
  }

  void testLanguageOrder() {
    CPPUNIT_ASSERT_EQUAL(std::string("fr"),
                         pick_language(std::string("fr"), std::string("en"), "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("en"),
                         pick_language(std::string("EN"), std::string("fr"), "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), pick_language(std::nullopt, std::string("fr"), "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"),
                         pick_language(std::string("de"), std::string("fr"), "en"));
    // The catalogue's languages (a site's natomedia.de.strings) widen the choice.
    const std::vector<std::string> with_de{"en", "de", "fr"};
    CPPUNIT_ASSERT_EQUAL(std::string("de"),
                         pick_language(std::string("de"), std::string("fr"), "en", with_de));
    CPPUNIT_ASSERT_EQUAL(std::string("de"),
                         pick_language(std::nullopt, std::nullopt, "de-AT, fr;q=0.5", with_de));
    CPPUNIT_ASSERT_EQUAL(std::string("en"),
                         pick_language(std::string("it"), std::nullopt, "it", with_de));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"),
                         pick_language(std::string("xx"), std::string("<x>"), "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), pick_language(std::string("fr-CA"), std::nullopt, ""));
    CPPUNIT_ASSERT_EQUAL(std::string("en"), pick_language(std::nullopt, std::nullopt, ""));
    CPPUNIT_ASSERT_EQUAL(std::string("en"), pick_language(std::string(""), std::string(""), "de"));
  }

  void testAcceptLanguage() {
    auto al = [](const char* header) { return pick_language(std::nullopt, std::nullopt, header); };
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), al("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), al("en;q=0.5, fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), al("de, fr;q=0.3, en;q=0.2"));
    CPPUNIT_ASSERT_EQUAL(std::string("en"), al("de, en;q=0.3, fr;q=0.2"));
    CPPUNIT_ASSERT_EQUAL(std::string("en"), al("en, fr"));  // tie: first listed
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), al("FR-be;Q=1.0"));
    CPPUNIT_ASSERT_EQUAL(std::string("en"), al("fr;q=0"));      // not acceptable
    CPPUNIT_ASSERT_EQUAL(std::string("en"), al("fr;q=2, de"));  // bad q ignored
    CPPUNIT_ASSERT_EQUAL(std::string("en"), al("fr;level=1"));  // not a q parameter
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), al("*;q=0.1, fr;q=0.2"));
    CPPUNIT_ASSERT_EQUAL(std::string("en"), al(",,;;;q=,=,fr;q=0.x"));
  }

  void testReturnToAccepts() {
    const char* good[] = {"/",
                          "/videos/613342",
                          "/account/?tab=downloads&x=1#top",
                          "/news/%C3%A9t%C3%A9",
                          "/a/b/../c",
                          "/https://evil",
                          "/search?q=a%2Fb"};
    for (const char* path : good) CPPUNIT_ASSERT_EQUAL(std::string(path), safe_return_to(path));
  }

  void testReturnToRefuses() {
    const char* bad[] = {"",
                         "https://evil",
                         "http:/evil",
                         "javascript:alert(1)",
                         "//evil",
                         "///evil",
                         "/\\evil",
                         "\\\\evil",
                         "/a\\b",
                         "/\tevil",
                         "/\t/evil",
                         "/a\r\nSet-Cookie: x=1",
                         "/%2F%2Fevil",
                         "/%2fevil",
                         "/%5Cevil",
                         "/%5cevil",
                         "/%09/evil",
                         "/%0d%0aLocation:x",
                         "/%252F%252Fevil",
                         "/%25252F%25252Fevil",
                         "/%2",
                         "/a b",
                         "/caf\xC3\xA9",
                         "evil.example/path",
                         "?x=/y"};
    for (const char* path : bad)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(path, std::string("/"), safe_return_to(path));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to("/" + std::string(3000, 'a')));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), safe_return_to(std::string("/a\0b", 4)));
  }

  void testHttpsFromHttpdOrTheProxyVariable() {
    using natomedia::core::connection_is_https;
    CPPUNIT_ASSERT(connection_is_https("https", nullptr));  // mod_ssl
    CPPUNIT_ASSERT(connection_is_https("http", "on"));      // SetEnvIf behind a TLS proxy
    CPPUNIT_ASSERT(connection_is_https("http", "On"));
    CPPUNIT_ASSERT(connection_is_https(nullptr, "on"));
    CPPUNIT_ASSERT(!connection_is_https("http", nullptr));
    CPPUNIT_ASSERT(!connection_is_https("http", "off"));
    CPPUNIT_ASSERT(!connection_is_https("http", ""));
    CPPUNIT_ASSERT(!connection_is_https("http", "1"));
    CPPUNIT_ASSERT(!connection_is_https(nullptr, nullptr));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestParsingTest);
