// Tests of the password policy: each rule alone, the limits, the deny list, the rule messages.
#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "password_policy.h"

using natomedia::auth::check_password;
using natomedia::auth::DenyList;
using natomedia::auth::load_deny_list;
using natomedia::auth::PasswordRule;
using natomedia::auth::rule_message_key;

namespace {

const DenyList kNoDeny;
const std::string kGood = "Correct-Horse7";  // 14 characters, every class

bool breaks(const std::string& password, PasswordRule rule, const std::string& email = "",
            const DenyList& deny = kNoDeny) {
  auto broken = check_password(password, email, deny);
  return std::find(broken.begin(), broken.end(), rule) != broken.end();
}

}  // namespace

class PasswordPolicyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PasswordPolicyTest);
  CPPUNIT_TEST(testGoodPasswordPasses);
  CPPUNIT_TEST(testLengthLimits);
  CPPUNIT_TEST(testLengthCountsCharactersNotBytes);
  CPPUNIT_TEST(testWhitespace);
  CPPUNIT_TEST(testClasses);
  CPPUNIT_TEST(testEveryFailureIsNamed);
  CPPUNIT_TEST(testLocalPart);
  CPPUNIT_TEST(testDenyList);
  CPPUNIT_TEST(testDenyListFile);
  CPPUNIT_TEST(testMessageKeysAreDistinct);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testGoodPasswordPasses() {
    CPPUNIT_ASSERT(check_password(kGood, "ann@example.org", kNoDeny).empty());
    CPPUNIT_ASSERT(check_password("Aa1!Aa1!Aa1!", "", kNoDeny).empty());  // exactly 12
  }

  void testLengthLimits() {
    CPPUNIT_ASSERT(breaks("Aa1!Aa1!Aa1", PasswordRule::kTooShort));  // 11
    CPPUNIT_ASSERT(!breaks("Aa1!Aa1!Aa1!", PasswordRule::kTooShort));
    std::string max = "Aa1!" + std::string(124, 'x');  // 128: accepted
    CPPUNIT_ASSERT(check_password(max, "", kNoDeny).empty());
    std::string over = max + "y";  // 129: refused, never truncated
    auto broken = check_password(over, "", kNoDeny);
    CPPUNIT_ASSERT_EQUAL(size_t(1), broken.size());
    CPPUNIT_ASSERT(broken[0] == PasswordRule::kTooLong);
  }

  void testLengthCountsCharactersNotBytes() {
    // 11 characters but 16 bytes: still too short.
    CPPUNIT_ASSERT(
        breaks("Aa1\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x82\xAC\xE2\x82\xAC"
               "bb",
               PasswordRule::kTooShort));
    // 128 characters of which many are two bytes: not too long.
    std::string accents;
    for (int i = 0; i < 125; ++i) accents += "\xC3\xA9";
    CPPUNIT_ASSERT(!breaks("Aa1" + accents, PasswordRule::kTooLong));
    CPPUNIT_ASSERT(breaks("Aa1\xC3\xA9" + accents, PasswordRule::kTooLong));
  }

  void testWhitespace() {
    CPPUNIT_ASSERT(breaks("Correct Horse7!", PasswordRule::kWhitespace));
    CPPUNIT_ASSERT(breaks("Correct\tHorse7!", PasswordRule::kWhitespace));
    CPPUNIT_ASSERT(breaks("Correct\xC2\xA0Horse7!", PasswordRule::kWhitespace));      // NBSP
    CPPUNIT_ASSERT(breaks("Correct\xE3\x80\x80Horse7!", PasswordRule::kWhitespace));  // U+3000
    CPPUNIT_ASSERT(!breaks(kGood, PasswordRule::kWhitespace));
  }

  void testClasses() {
    CPPUNIT_ASSERT(breaks("correct-horse7", PasswordRule::kNoUpper));
    CPPUNIT_ASSERT(breaks("CORRECT-HORSE7", PasswordRule::kNoLower));
    CPPUNIT_ASSERT(breaks("Correct-Horse!", PasswordRule::kNoDigit));
    CPPUNIT_ASSERT(breaks("CorrectHorse77", PasswordRule::kNoSymbol));
    CPPUNIT_ASSERT(!breaks("CorrectHorse7\xC3\xA9", PasswordRule::kNoSymbol));  // é counts
  }

  void testEveryFailureIsNamed() {
    auto broken = check_password("a b", "", kNoDeny);
    std::vector<PasswordRule> want = {PasswordRule::kTooShort, PasswordRule::kWhitespace,
                                      PasswordRule::kNoUpper, PasswordRule::kNoDigit,
                                      PasswordRule::kNoSymbol};
    CPPUNIT_ASSERT(broken == want);
  }

  void testLocalPart() {
    CPPUNIT_ASSERT(
        breaks("Xx1!Johnsmith99", PasswordRule::kContainsEmail, "johnsmith@example.org"));
    CPPUNIT_ASSERT(
        breaks("Xx1!JOHNSMITH99", PasswordRule::kContainsEmail, "johnsmith@example.org"));
    CPPUNIT_ASSERT(!breaks(kGood, PasswordRule::kContainsEmail, "johnsmith@example.org"));
    // A very short local part is not looked for.
    CPPUNIT_ASSERT(!breaks(kGood, PasswordRule::kContainsEmail, "co@example.org"));
    CPPUNIT_ASSERT(!breaks(kGood, PasswordRule::kContainsEmail, ""));
  }

  void testDenyList() {
    DenyList deny = {"correct-horse7"};
    CPPUNIT_ASSERT(breaks(kGood, PasswordRule::kDenied, "", deny));
    CPPUNIT_ASSERT(!breaks("Correct-Horse8", PasswordRule::kDenied, "", deny));
  }

  void testDenyListFile() {
    char path[] = "/tmp/nm-deny-XXXXXX";
    int fd = mkstemp(path);
    CPPUNIT_ASSERT(fd >= 0);
    close(fd);
    {
      std::ofstream out(path);
      out << "# a comment\r\nPassword123!\r\n\nLetMeIn-2024!\n";
    }
    auto list = load_deny_list(path);
    std::remove(path);
    CPPUNIT_ASSERT(list.ok());
    CPPUNIT_ASSERT_EQUAL(size_t(2), (*list)->size());
    CPPUNIT_ASSERT((*list)->count("password123!"));
    CPPUNIT_ASSERT((*list)->count("letmein-2024!"));
    CPPUNIT_ASSERT(load_deny_list("").ok());
    CPPUNIT_ASSERT(!load_deny_list("/nonexistent/deny.txt").ok());
  }

  void testMessageKeysAreDistinct() {
    const PasswordRule all[] = {
        PasswordRule::kTooShort, PasswordRule::kTooLong,       PasswordRule::kWhitespace,
        PasswordRule::kNoUpper,  PasswordRule::kNoLower,       PasswordRule::kNoDigit,
        PasswordRule::kNoSymbol, PasswordRule::kContainsEmail, PasswordRule::kDenied};
    for (size_t i = 0; i < 9; ++i)
      for (size_t j = i + 1; j < 9; ++j)
        CPPUNIT_ASSERT(std::string(rule_message_key(all[i])) != rule_message_key(all[j]));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PasswordPolicyTest);
