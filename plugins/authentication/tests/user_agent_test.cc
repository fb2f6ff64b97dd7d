// Tests of the sessions page's readable User-Agent: real browsers' headers, the order that
// tells Edge from Chrome and Android from Linux, and the shortened fallback.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "user_agent.h"

using natomedia::auth::kShortAgentChars;
using natomedia::auth::readable_agent;

namespace {

std::string said(const std::string& ua) {
  auto a = readable_agent(ua);
  return a.browser + " on " + a.os;
}

}  // namespace

class UserAgentTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(UserAgentTest);
  CPPUNIT_TEST(testKnownBrowsers);
  CPPUNIT_TEST(testUnknownIsShortened);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testKnownBrowsers() {
    CPPUNIT_ASSERT_EQUAL(std::string("Firefox on Linux"),
        said("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"));
    CPPUNIT_ASSERT_EQUAL(std::string("Chrome on Android"),
        said("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Mobile Safari/537.36"));
    CPPUNIT_ASSERT_EQUAL(std::string("Chrome on Linux"),
        said("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "HeadlessChrome/126.0.0.0 Safari/537.36"));
    CPPUNIT_ASSERT_EQUAL(std::string("Edge on Windows"),
        said("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"));
    CPPUNIT_ASSERT_EQUAL(std::string("Safari on iOS"),
        said("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"));
    CPPUNIT_ASSERT_EQUAL(std::string("Safari on macOS"),
        said("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"));
    CPPUNIT_ASSERT_EQUAL(std::string("Firefox on iOS"),
        said("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15"));
  }

  void testUnknownIsShortened() {
    auto a = readable_agent("python-requests/2.31.0");
    CPPUNIT_ASSERT(a.browser.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("python-requests/2.31.0"), a.shortened);
    // Long: cut at kShortAgentChars characters (not bytes) with an ellipsis.
    std::string accents;
    for (int i = 0; i < 50; ++i) accents += "\xC3\xA9";
    auto b = readable_agent(accents);
    CPPUNIT_ASSERT_EQUAL(kShortAgentChars * 2 + 3, b.shortened.size());
    CPPUNIT_ASSERT_EQUAL(std::string("\xE2\x80\xA6"), b.shortened.substr(b.shortened.size() - 3));
    // curl names no system: not "curl on ".
    auto c = readable_agent("curl/8.5.0");
    CPPUNIT_ASSERT_EQUAL(std::string("curl"), c.browser);
    CPPUNIT_ASSERT(c.os.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UserAgentTest);
