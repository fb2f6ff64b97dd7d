// The unsubscribe token against the core's real CryptoService: round trip, no address inside,
// bound to the credential epoch, tampering, version-1 tokens, another secret, a rotated secret,
// and input that is not a token at all.
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

// A token checked the way the route does: parsed, then verified against the account's epoch.
bool accepted(const core::CryptoService& crypto, const std::string& token, int64_t epoch) {
  auto t = parse_unsubscribe_token(token);
  return t && unsubscribe_token_valid(crypto, *t, epoch);
}

class UnsubscribeTokenTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(UnsubscribeTokenTest);
  CPPUNIT_TEST(testRoundTrip);
  CPPUNIT_TEST(testNoAddressInside);
  CPPUNIT_TEST(testDiesWhenTheEpochMoves);
  CPPUNIT_TEST(testEveryAlteredByteIsRefused);
  CPPUNIT_TEST(testSwappedAccountIsRefused);
  CPPUNIT_TEST(testVersion1TokensWorkOnlyAtEpochZero);
  CPPUNIT_TEST(testOtherSecretIsRefused);
  CPPUNIT_TEST(testOldKeyStillAcceptedAfterRotation);
  CPPUNIT_TEST(testGarbageIsRefused);
  CPPUNIT_TEST(testUrl);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRoundTrip() {
    auto crypto = crypto_with(kKeyA);
    const std::string token = make_unsubscribe_token(crypto, 42, 5);
    for (char c : token) CPPUNIT_ASSERT(text::detail::base64url_value(c) >= 0);
    auto t = parse_unsubscribe_token(token);
    CPPUNIT_ASSERT(t.has_value());
    CPPUNIT_ASSERT(!t->version1());
    CPPUNIT_ASSERT_EQUAL(int64_t{42}, t->account_id);
    CPPUNIT_ASSERT(unsubscribe_token_valid(crypto, *t, 5));
  }

  void testNoAddressInside() {
    auto crypto = crypto_with(kKeyA);
    const std::string inner = packed(make_unsubscribe_token(crypto, 42, 0));
    CPPUNIT_ASSERT_EQUAL(std::string("42:"), inner.substr(0, 3));
    CPPUNIT_ASSERT(inner.find('@') == std::string::npos);
  }

  void testDiesWhenTheEpochMoves() {
    auto crypto = crypto_with(kKeyA);
    const std::string token = make_unsubscribe_token(crypto, 42, 5);
    for (int64_t other : {0, 4, 6, 50}) CPPUNIT_ASSERT(!accepted(crypto, token, other));
  }

  void testEveryAlteredByteIsRefused() {
    auto crypto = crypto_with(kKeyA);
    const std::string token = make_unsubscribe_token(crypto, 7, 0);
    for (size_t i = 0; i < token.size(); ++i) {
      std::string bad = token;
      bad[i] = bad[i] == 'A' ? 'B' : 'A';
      CPPUNIT_ASSERT_MESSAGE("position " + std::to_string(i), !accepted(crypto, bad, 0));
    }
    CPPUNIT_ASSERT(!accepted(crypto, token + "A", 0));
    CPPUNIT_ASSERT(!accepted(crypto, token.substr(1), 0));
  }

  void testSwappedAccountIsRefused() {
    auto crypto = crypto_with(kKeyA);
    const std::string inner = packed(make_unsubscribe_token(crypto, 7, 0));
    const std::string sig = inner.substr(inner.rfind(':') + 1);
    for (const std::string& forged : {"8:" + sig, "07:" + sig, "-7:" + sig, "7:" + sig + "x"})
      CPPUNIT_ASSERT_MESSAGE(forged, !accepted(crypto, text::base64url_encode(forged), 0));
  }

  // Newsletters sent before epochs existed: "SUB:EMAIL:SIG" signed for "unsubscribe".
  void testVersion1TokensWorkOnlyAtEpochZero() {
    auto crypto = crypto_with(kKeyA);
    const std::string data = "3:a@example.org";
    const std::string v1 = text::base64url_encode(data + ":" + crypto.sign("unsubscribe", data));
    auto t = parse_unsubscribe_token(v1);
    CPPUNIT_ASSERT(t && t->version1());
    CPPUNIT_ASSERT_EQUAL(int64_t{3}, t->subscription_id);
    CPPUNIT_ASSERT_EQUAL(std::string("a@example.org"), t->email);
    CPPUNIT_ASSERT(accepted(crypto, v1, 0));
    CPPUNIT_ASSERT(!accepted(crypto, v1, 1));
    const std::string other =
        text::base64url_encode("3:b@example.org:" + crypto.sign("unsubscribe", data));
    CPPUNIT_ASSERT(!accepted(crypto, other, 0));
    // A version-2 signature never stands for a version-1 token, nor the other way round.
    const std::string v2_sig = crypto.sign("unsubscribe-epoch", "3:0");
    CPPUNIT_ASSERT(!accepted(crypto, text::base64url_encode("3:a@example.org:" + v2_sig), 0));
    CPPUNIT_ASSERT(
        !accepted(crypto, text::base64url_encode("3:" + crypto.sign("unsubscribe", "3:0")), 0));
  }

  void testOtherSecretIsRefused() {
    auto a = crypto_with(kKeyA);
    auto b = crypto_with(kKeyB);
    CPPUNIT_ASSERT(!accepted(b, make_unsubscribe_token(a, 3, 0), 0));
  }

  void testOldKeyStillAcceptedAfterRotation() {
    auto old_only = crypto_with(kKeyA);
    auto rotated = crypto_with(kKeyB + "\n" + kKeyA + "\n");
    CPPUNIT_ASSERT(accepted(rotated, make_unsubscribe_token(old_only, 3, 2), 2));
    CPPUNIT_ASSERT(!accepted(rotated, make_unsubscribe_token(old_only, 3, 2), 3));
  }

  void testGarbageIsRefused() {
    for (const std::string& bad :
         {std::string(), std::string("%%%"), std::string("abc="), text::base64url_encode("1:"),
          text::base64url_encode("::"), text::base64url_encode("1::x"),
          text::base64url_encode("x:a@b:c"), text::base64url_encode("x:k.m"),
          std::string(kMaxUnsubscribeTokenLength + 4, 'A')}) {
      CPPUNIT_ASSERT_MESSAGE(bad, !parse_unsubscribe_token(bad).has_value());
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
