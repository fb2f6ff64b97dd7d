#include "unsubscribe_token.h"

#include <natomedia/text.h>

namespace natomedia::newsletter {

namespace {

constexpr char kPurpose[] = "unsubscribe-epoch";
constexpr char kVersion1Purpose[] = "unsubscribe";

std::string signed_data(int64_t account_id, int64_t credential_epoch) {
  return std::to_string(account_id) + ":" + std::to_string(credential_epoch);
}

std::string version1_data(int64_t subscription_id, const std::string& email) {
  return std::to_string(subscription_id) + ":" + email;
}

// A positive decimal id without sign, leading zeros or overflow: one spelling per id.
std::optional<int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::string make_unsubscribe_token(const Crypto& crypto, int64_t account_id,
                                   int64_t credential_epoch) {
  return text::base64url_encode(std::to_string(account_id) + ":" +
                                crypto.sign(kPurpose, signed_data(account_id, credential_epoch)));
}

std::optional<UnsubscribeToken> parse_unsubscribe_token(std::string_view token) {
  if (token.empty() || token.size() > kMaxUnsubscribeTokenLength) return std::nullopt;
  std::string packed;
  if (!text::base64url_decode(token, packed)) return std::nullopt;
  const size_t first = packed.find(':');
  const size_t last = packed.rfind(':');
  if (first == std::string::npos) return std::nullopt;
  auto id = parse_id(std::string_view(packed).substr(0, first));
  UnsubscribeToken t;
  t.signature = packed.substr(last + 1);
  if (!id || t.signature.empty()) return std::nullopt;
  if (last == first) {
    t.account_id = *id;
    return t;
  }
  t.subscription_id = *id;
  t.email = packed.substr(first + 1, last - first - 1);
  if (t.email.empty() || !text::valid_utf8(t.email)) return std::nullopt;
  return t;
}

bool unsubscribe_token_valid(const Crypto& crypto, const UnsubscribeToken& token,
                             int64_t credential_epoch) {
  if (!token.version1())
    return crypto.verify(kPurpose, signed_data(token.account_id, credential_epoch),
                         token.signature);
  return credential_epoch == 0 &&
         crypto.verify(kVersion1Purpose, version1_data(token.subscription_id, token.email),
                       token.signature);
}

std::string unsubscribe_url(const std::string& public_url, const std::string& base_path,
                            const std::string& token) {
  // The token is base64url: nothing in it needs escaping in a query value.
  return public_url + base_path + "/newsletter/unsubscribe?token=" + token;
}

}  // namespace natomedia::newsletter
