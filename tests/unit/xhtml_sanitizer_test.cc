// The feed body sanitizer: only the allow-list survives, everything else becomes escaped text.
#include "core/xhtml_sanitizer.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

namespace natomedia {
namespace core {
namespace {

std::string clean(const std::string& fragment) { return sanitize_xhtml_string(fragment); }

class XhtmlSanitizerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(XhtmlSanitizerTest);
  CPPUNIT_TEST(testAllowedTagsKept);
  CPPUNIT_TEST(testScriptAndStyleDropped);
  CPPUNIT_TEST(testAttributesDropped);
  CPPUNIT_TEST(testLinks);
  CPPUNIT_TEST(testRemovedElementsKeepText);
  CPPUNIT_TEST(testEscaping);
  CPPUNIT_TEST(testNotWellFormedIsEscapedText);
  CPPUNIT_TEST(testWholeDocument);
  CPPUNIT_TEST(testOtherNamespaces);
  CPPUNIT_TEST(testNull);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testAllowedTagsKept() {
    CPPUNIT_ASSERT_EQUAL(std::string("<p>a<br>b</p>"), clean("<p>a<br/>b</p>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<ul><li><strong>a</strong> <em>b</em></li></ul>"),
                         clean("<ul><li><strong>a</strong> <em>b</em></li></ul>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<ol><li><blockquote><p>q</p></blockquote></li></ol>"),
                         clean("<ol><li><blockquote><p>q</p></blockquote></li></ol>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<h2>T</h2><h3>S</h3>"), clean("<h2>T</h2><h3>S</h3>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<p></p>"), clean("<p/>"));
  }

  void testScriptAndStyleDropped() {
    CPPUNIT_ASSERT_EQUAL(std::string("<p>ab</p>"), clean("<p>a<script>alert(1)</script>b</p>"));
    CPPUNIT_ASSERT_EQUAL(std::string("x"), clean("<style>p{color:red}</style>x"));
    CPPUNIT_ASSERT_EQUAL(std::string(""),
                         clean("<script><![CDATA[document.cookie]]><p>in</p></script>"));
    // Case matters in XHTML: <SCRIPT> is not script, but its text is only escaped text then.
    CPPUNIT_ASSERT_EQUAL(std::string("alert(1)"), clean("<SCRIPT>alert(1)</SCRIPT>"));
  }

  void testAttributesDropped() {
    CPPUNIT_ASSERT_EQUAL(std::string("<p>x</p>"),
                         clean("<p onclick=\"alert(1)\" style=\"x\" class=\"c\" id=\"i\">x</p>"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), clean("<img src=\"x\" onerror=\"alert(1)\"/>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<em>y</em>"),
                         clean("<em xmlns:e=\"urn:e\" e:onmouseover=\"alert(1)\">y</em>"));
  }

  void testLinks() {
    CPPUNIT_ASSERT_EQUAL(std::string("<a href=\"https://www.nato.int/\">NATO</a>"),
                         clean("<a href=\"https://www.nato.int/\" onclick=\"x()\" "
                               "target=\"_blank\">NATO</a>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<a href=\"HTTP://example.org/?a=1&amp;b=&quot;2&quot;\">"
                                     "x</a>"),
                         clean("<a href=\" HTTP://example.org/?a=1&amp;b=&quot;2&quot;\">x</a>"));
    const char* bad[] = {"javascript:alert(1)",
                         "JaVaScRiPt:alert(1)",
                         " javascript:alert(1)",
                         "java&#x09;script:alert(1)",
                         "data:text/html,&lt;script&gt;",
                         "vbscript:x",
                         "//evil.example/",
                         "/relative",
                         "mailto:a@b.c",
                         "",
                         "http://a b/",
                         "https://x/&#10;y"};
    for (const char* href : bad) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(href, std::string("<p>click</p>"),
                                   clean(std::string("<p><a href=\"") + href + "\">click</a></p>"));
    }
    CPPUNIT_ASSERT_EQUAL(std::string("no href"), clean("<a>no href</a>"));
  }

  void testRemovedElementsKeepText() {
    CPPUNIT_ASSERT_EQUAL(std::string("hi there"), clean("<div><span>hi</span> there</div>"));
    CPPUNIT_ASSERT_EQUAL(std::string("Title<p>x</p>"), clean("<h1>Title</h1><p>x</p>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<p>cell</p>"),
                         clean("<table><tr><td><p>cell</p></td></tr></table>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<p>ab</p>"), clean("<p>a<!-- comment -->b<?pi x?></p>"));
    CPPUNIT_ASSERT_EQUAL(std::string("txt"),
                         clean("<iframe src=\"https://evil.example/\">txt</iframe>"));
  }

  void testEscaping() {
    CPPUNIT_ASSERT_EQUAL(std::string("<p>a &lt; b &amp; &quot;c&quot; &#39;d&#39; &gt;</p>"),
                         clean("<p>a &lt; b &amp; \"c\" 'd' &gt;</p>"));
    CPPUNIT_ASSERT_EQUAL(std::string("&lt;script&gt;alert(1)&lt;/script&gt;"),
                         clean("<![CDATA[<script>alert(1)</script>]]>"));
    CPPUNIT_ASSERT_EQUAL(std::string("<p>é €</p>"), clean("<p>&#233; &#x20AC;</p>"));
  }

  void testNotWellFormedIsEscapedText() {
    CPPUNIT_ASSERT_EQUAL(std::string("&lt;p&gt;unclosed"), clean("<p>unclosed"));
    CPPUNIT_ASSERT_EQUAL(std::string("a&amp;nbsp;b"), clean("a&nbsp;b"));
    CPPUNIT_ASSERT_EQUAL(std::string("&lt;/body&gt;&lt;script&gt;x&lt;/script&gt;&lt;body&gt;"),
                         clean("</body><script>x</script><body>"));
    CPPUNIT_ASSERT_EQUAL(std::string("&lt;img src=x onerror=alert(1)&gt;"),
                         clean("<img src=x onerror=alert(1)>"));
  }

  void testWholeDocument() {
    CPPUNIT_ASSERT_EQUAL(std::string("<p>x</p>"),
                         clean("<html><head><title>T</title><script>s()</script></head>"
                               "<body><p>x</p></body></html>"));
  }

  void testOtherNamespaces() {
    CPPUNIT_ASSERT_EQUAL(std::string("t"), clean("<x:p xmlns:x=\"urn:other\">t</x:p>"));
    CPPUNIT_ASSERT_EQUAL(std::string("u"), clean("<p xmlns=\"\">u</p>"));
    CPPUNIT_ASSERT_EQUAL(std::string(""),
                         clean("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x</script>"
                               "</svg>"));
  }

  void testNull() { CPPUNIT_ASSERT_EQUAL(std::string(""), sanitize_xhtml(nullptr)); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(XhtmlSanitizerTest);

}  // namespace
}  // namespace core
}  // namespace natomedia
