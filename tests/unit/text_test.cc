// Tests of include/natomedia/text.h: escaping, percent codec, UTF-8, base64url, hex.
#include <cppunit/extensions/HelperMacros.h>
#include <natomedia/text.h>

#include <string>

namespace text = natomedia::text;

class TextTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TextTest);
  CPPUNIT_TEST(testHtmlEscape);
  CPPUNIT_TEST(testUrlEncode);
  CPPUNIT_TEST(testUrlDecode);
  CPPUNIT_TEST(testUrlRoundTrip);
  CPPUNIT_TEST(testValidUtf8Accepts);
  CPPUNIT_TEST(testValidUtf8Rejects);
  CPPUNIT_TEST(testTrimAndLower);
  CPPUNIT_TEST(testBase64UrlVectors);
  CPPUNIT_TEST(testBase64UrlRejects);
  CPPUNIT_TEST(testBase64Standard);
  CPPUNIT_TEST(testBase64UrlRoundTrip);
  CPPUNIT_TEST(testHex);
  CPPUNIT_TEST(testFill);
  CPPUNIT_TEST(testParseDecimal);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testHtmlEscape() {
    CPPUNIT_ASSERT_EQUAL(std::string("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
                         text::html_escape("<script>alert('x')</script>"));
    CPPUNIT_ASSERT_EQUAL(std::string("a &amp;amp; &quot;b&quot;"),
                         text::html_escape("a &amp; \"b\""));
    CPPUNIT_ASSERT_EQUAL(std::string("Élargissement"), text::html_escape("Élargissement"));
    CPPUNIT_ASSERT_EQUAL(std::string(), text::html_escape(""));
    std::string with_nul("a\0b", 3);
    CPPUNIT_ASSERT_EQUAL(with_nul, text::html_escape(with_nul));
  }

  void testUrlEncode() {
    CPPUNIT_ASSERT_EQUAL(std::string("AZaz09-._~"), text::url_encode("AZaz09-._~"));
    CPPUNIT_ASSERT_EQUAL(std::string("a%20b%2Bc%26d%3De%2F%3F%23"),
                         text::url_encode("a b+c&d=e/?#"));
    CPPUNIT_ASSERT_EQUAL(std::string("%C3%A9t%C3%A9"), text::url_encode("été"));
    CPPUNIT_ASSERT_EQUAL(std::string("%00%FF"), text::url_encode(std::string("\0\xff", 2)));
    CPPUNIT_ASSERT_EQUAL(std::string("user%40example.org"), text::url_encode("user@example.org"));
  }

  void testUrlDecode() {
    std::string out;
    CPPUNIT_ASSERT(text::url_decode("a+b%20c", out, true));
    CPPUNIT_ASSERT_EQUAL(std::string("a b c"), out);
    CPPUNIT_ASSERT(text::url_decode("a+b%20c", out, false));
    CPPUNIT_ASSERT_EQUAL(std::string("a+b c"), out);
    CPPUNIT_ASSERT(text::url_decode("%c3%A9", out, false));
    CPPUNIT_ASSERT_EQUAL(std::string("é"), out);
    CPPUNIT_ASSERT(text::url_decode("", out, true));
    CPPUNIT_ASSERT_EQUAL(std::string(), out);
    CPPUNIT_ASSERT(text::url_decode("%00", out, true));
    CPPUNIT_ASSERT_EQUAL(std::string(1, '\0'), out);
    CPPUNIT_ASSERT(!text::url_decode("%", out, true));
    CPPUNIT_ASSERT(!text::url_decode("ab%4", out, true));
    CPPUNIT_ASSERT(!text::url_decode("%G1", out, true));
    CPPUNIT_ASSERT(!text::url_decode("%1G", out, true));
    CPPUNIT_ASSERT(!text::url_decode("x%%41", out, true));
  }

  void testUrlRoundTrip() {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    std::string back;
    CPPUNIT_ASSERT(text::url_decode(text::url_encode(all), back, true));
    CPPUNIT_ASSERT(back == all);
  }

  void testValidUtf8Accepts() {
    CPPUNIT_ASSERT(text::valid_utf8(""));
    CPPUNIT_ASSERT(text::valid_utf8("plain ascii"));
    CPPUNIT_ASSERT(text::valid_utf8("Türkiye – “quoted” — Élargissement"));
    CPPUNIT_ASSERT(text::valid_utf8("\xC2\x80"));              // U+0080, smallest 2-byte
    CPPUNIT_ASSERT(text::valid_utf8("\xE0\xA0\x80"));          // U+0800, smallest 3-byte
    CPPUNIT_ASSERT(text::valid_utf8("\xED\x9F\xBF"));          // U+D7FF, below surrogates
    CPPUNIT_ASSERT(text::valid_utf8("\xEE\x80\x80"));          // U+E000, above surrogates
    CPPUNIT_ASSERT(text::valid_utf8("\xF0\x90\x80\x80"));      // U+10000
    CPPUNIT_ASSERT(text::valid_utf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
    CPPUNIT_ASSERT(text::valid_utf8(std::string("a\0b", 3)));  // NUL is valid UTF-8
  }

  void testValidUtf8Rejects() {
    CPPUNIT_ASSERT(!text::valid_utf8("\xC0\xAF"));          // overlong '/'
    CPPUNIT_ASSERT(!text::valid_utf8("\xC1\xBF"));          // overlong
    CPPUNIT_ASSERT(!text::valid_utf8("\xE0\x80\xAF"));      // overlong 3-byte
    CPPUNIT_ASSERT(!text::valid_utf8("\xF0\x80\x80\xAF"));  // overlong 4-byte
    CPPUNIT_ASSERT(!text::valid_utf8("\xED\xA0\x80"));      // U+D800
    CPPUNIT_ASSERT(!text::valid_utf8("\xED\xBF\xBF"));      // U+DFFF
    CPPUNIT_ASSERT(!text::valid_utf8("\xF4\x90\x80\x80"));  // U+110000
    CPPUNIT_ASSERT(!text::valid_utf8("\xF5\x80\x80\x80"));
    CPPUNIT_ASSERT(!text::valid_utf8("\xFF"));
    CPPUNIT_ASSERT(!text::valid_utf8("\x80"));      // lone continuation
    CPPUNIT_ASSERT(!text::valid_utf8("\xC3"));      // truncated
    CPPUNIT_ASSERT(!text::valid_utf8("\xE2\x82"));  // truncated
    CPPUNIT_ASSERT(!text::valid_utf8("\xC3\x28"));  // bad continuation
    CPPUNIT_ASSERT(!text::valid_utf8("ok\xE2\x28\xA1"));
  }

  void testTrimAndLower() {
    CPPUNIT_ASSERT_EQUAL(std::string("a b"), std::string(text::trim(" \t\r\na b \n")));
    CPPUNIT_ASSERT_EQUAL(std::string(), std::string(text::trim("  \t ")));
    CPPUNIT_ASSERT_EQUAL(std::string(), std::string(text::trim("")));
    CPPUNIT_ASSERT_EQUAL(std::string("x"), std::string(text::trim("x")));
    CPPUNIT_ASSERT_EQUAL(std::string("fr-ch Élan"), text::lower_ascii("FR-CH ÉLAN"));  // ASCII only
  }

  void testBase64UrlVectors() {
    // RFC 4648 section 10 vectors, unpadded, and bytes that need '-' and '_'.
    const char* vectors[][2] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    for (const auto& v : vectors) {
      CPPUNIT_ASSERT_EQUAL(std::string(v[1]), text::base64url_encode(v[0]));
      std::string back;
      CPPUNIT_ASSERT(text::base64url_decode(v[1], back));
      CPPUNIT_ASSERT_EQUAL(std::string(v[0]), back);
    }
    CPPUNIT_ASSERT_EQUAL(std::string("-_8"), text::base64url_encode("\xfb\xff"));
  }

  void testBase64UrlRejects() {
    std::string out;
    CPPUNIT_ASSERT(!text::base64url_decode("Zg==", out));    // padding
    CPPUNIT_ASSERT(!text::base64url_decode("Zm9v+g", out));  // standard alphabet
    CPPUNIT_ASSERT(!text::base64url_decode("Zm9v/g", out));
    CPPUNIT_ASSERT(!text::base64url_decode("Z", out));   // impossible length
    CPPUNIT_ASSERT(!text::base64url_decode("Zh", out));  // non-canonical trailing bits
    CPPUNIT_ASSERT(!text::base64url_decode("Zm9 v", out));
  }

  // The standard alphabet (PHC strings): the same rules, '+' and '/' for 62 and 63.
  void testBase64Standard() {
    CPPUNIT_ASSERT_EQUAL(std::string("Zm9vYmFy"), text::base64_encode_unpadded("foobar"));
    CPPUNIT_ASSERT_EQUAL(std::string("+/8"), text::base64_encode_unpadded("\xfb\xff"));
    std::string out;
    CPPUNIT_ASSERT(text::base64_decode_unpadded("+/8", out));
    CPPUNIT_ASSERT_EQUAL(std::string("\xfb\xff"), out);
    CPPUNIT_ASSERT(!text::base64_decode_unpadded("-_8", out));  // base64url's characters
    CPPUNIT_ASSERT(!text::base64_decode_unpadded("Zg==", out));
    CPPUNIT_ASSERT(!text::base64_decode_unpadded("Zh", out));
  }

  void testBase64UrlRoundTrip() {
    std::string data;
    for (int i = 0; i < 300; ++i) {
      data += static_cast<char>(i * 37 + 11);
      std::string back;
      CPPUNIT_ASSERT(text::base64url_decode(text::base64url_encode(data), back));
      CPPUNIT_ASSERT(back == data);
    }
  }

  void testParseDecimal() {
    long long v = 7;
    CPPUNIT_ASSERT(text::parse_decimal("0", v) && v == 0);
    CPPUNIT_ASSERT(text::parse_decimal("1700000000", v) && v == 1700000000LL);
    CPPUNIT_ASSERT(text::parse_decimal("9223372036854775807", v) && v == 9223372036854775807LL);
    v = 7;
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "x", "9223372036854775808",
                            "99999999999999999999", "0x10"})
      CPPUNIT_ASSERT_MESSAGE(bad, !text::parse_decimal(bad, v) && v == 7);
  }

  void testFill() {
    using text::fill;
    CPPUNIT_ASSERT_EQUAL(std::string("Please wait 30 seconds."),
                         fill("Please wait {n} seconds.", {{"n", "30"}}));
    CPPUNIT_ASSERT_EQUAL(std::string("Firefox on Linux"),
                         fill("{browser} on {os}", {{"browser", "Firefox"}, {"os", "Linux"}}));
    // Every occurrence, in one pass: a value that looks like a placeholder stays as it is.
    CPPUNIT_ASSERT_EQUAL(std::string("{os} and {os}, Linux"),
                         fill("{b} and {b}, {os}", {{"b", "{os}"}, {"os", "Linux"}}));
    // Braces that name nothing, unclosed or at the end, are kept.
    CPPUNIT_ASSERT_EQUAL(std::string("{x} {n {"), fill("{x} {n {", {{"n", "1"}}));
    CPPUNIT_ASSERT_EQUAL(std::string("1}"), fill("{n}}", {{"n", "1"}}));
    CPPUNIT_ASSERT_EQUAL(std::string(""), fill("", {{"n", "1"}}));
  }

  void testHex() {
    CPPUNIT_ASSERT_EQUAL(std::string("00ff10ab"),
                         text::hex_encode(std::string("\0\xff\x10\xab", 4)));
    CPPUNIT_ASSERT_EQUAL(std::string(), text::hex_encode(""));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TextTest);
