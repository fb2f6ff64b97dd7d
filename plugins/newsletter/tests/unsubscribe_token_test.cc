// The unsubscribe token against the core's real CryptoService: round trip, tampering, another
// secret, a rotated secret, and input that is not a token at all.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include <natomedia/text.h>

#include "core/crypto_service.h"
#include "core/secret_keys.h"
#include "unsubscribe_token.h"

namespace natomedia::newsletter {
namespace {

const std::string kKeyA = "newsletter-key-A-0123456789-0123456789";
const std::string kKeyB = "newsletter-key-B-abcdefghij-abcdefghij";

core::CryptoService crypto_with(const std::string& secret_file_content) {
  auto keys = core::SecretKeys::parse(secret_file_content, "test");
  CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
  return core::CryptoService(*keys);
}

std::string packed(const std::string& token) {
  std::string out;
  CPPUNIT_ASSERT(text::base64url_decode(token, out));
  return out;
}

class UnsubscribeTokenTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(UnsubscribeTokenTest);
  CPPUNIT_TEST(testRoundTrip);
  CPPUNIT_TEST(testEveryAlteredByteIsRefused);
  CPPUNIT_TEST(testSwappedIdOrAddressIsRefused);
  CPPUNIT_TEST(testOtherSecretIsRefused);
  CPPUNIT_TEST(testOldKeyStillAcceptedAfterRotation);
  CPPUNIT_TEST(testGarbageIsRefused);
  CPPUNIT_TEST(testUrl);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRoundTrip() {
    auto crypto = crypto_with(kKeyA);
    const std::string token = make_unsubscribe_token(crypto, 42, "Ann.Lee+news@example.org");
    for (char c : token) CPPUNIT_ASSERT(text::detail::base64url_value(c) >= 0);
    auto t = check_unsubscribe_token(crypto, token);
    CPPUNIT_ASSERT(t.has_value());
    CPPUNIT_ASSERT_EQUAL(int64_t{42}, t->subscription_id);
    CPPUNIT_ASSERT_EQUAL(std::string("Ann.Lee+news@example.org"), t->email);
  }

  void testEveryAlteredByteIsRefused() {
    auto crypto = crypto_with(kKeyA);
    const std::string token = make_unsubscribe_token(crypto, 7, "a@example.org");
    for (size_t i = 0; i < token.size(); ++i) {
      std::string bad = token;
      bad[i] = bad[i] == 'A' ? 'B' : 'A';
      CPPUNIT_ASSERT_MESSAGE("position " + std::to_string(i),
                             !check_unsubscribe_token(crypto, bad).has_value());
    }
    CPPUNIT_ASSERT(!check_unsubscribe_token(crypto, token + "A").has_value());
    CPPUNIT_ASSERT(!check_unsubscribe_token(crypto, token.substr(1)).has_value());
  }

  void testSwappedIdOrAddressIsRefused() {
    auto crypto = crypto_with(kKeyA);
    const std::string inner = packed(make_unsubscribe_token(crypto, 7, "a@example.org"));
    const std::string sig = inner.substr(inner.rfind(':') + 1);
    for (const std::string& forged :
         {"8:a@example.org:" + sig, "7:b@example.org:" + sig, "07:a@example.org:" + sig,
          "-7:a@example.org:" + sig, "7:a@example.org:" + sig + "x"}) {
      CPPUNIT_ASSERT_MESSAGE(forged,
                             !check_unsubscribe_token(crypto, text::base64url_encode(forged)));
    }
  }

  void testOtherSecretIsRefused() {
    auto a = crypto_with(kKeyA);
    auto b = crypto_with(kKeyB);
    const std::string token = make_unsubscribe_token(a, 3, "a@example.org");
    CPPUNIT_ASSERT(!check_unsubscribe_token(b, token).has_value());
  }

  void testOldKeyStillAcceptedAfterRotation() {
    auto old_only = crypto_with(kKeyA);
    auto rotated = crypto_with(kKeyB + "\n" + kKeyA + "\n");
    const std::string token = make_unsubscribe_token(old_only, 3, "a@example.org");
    CPPUNIT_ASSERT(check_unsubscribe_token(rotated, token).has_value());
  }

  void testGarbageIsRefused() {
    auto crypto = crypto_with(kKeyA);
    for (const std::string& bad :
         {std::string(), std::string("%%%"), std::string("abc="), text::base64url_encode("1:"),
          text::base64url_encode("::"), text::base64url_encode("1::x"),
          text::base64url_encode("x:a@b:c"), std::string(kMaxUnsubscribeTokenLength + 4, 'A')}) {
      CPPUNIT_ASSERT_MESSAGE(bad, !check_unsubscribe_token(crypto, bad).has_value());
    }
  }

  void testUrl() {
    CPPUNIT_ASSERT_EQUAL(
        std::string("https://media.example.org/portal/newsletter/unsubscribe?token=T"),
        unsubscribe_url("https://media.example.org", "/portal", "T"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UnsubscribeTokenTest);

}  // namespace
}  // namespace natomedia::newsletter
