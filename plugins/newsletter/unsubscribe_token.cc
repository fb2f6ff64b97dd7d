#include "unsubscribe_token.h"

#include <natomedia/text.h>

namespace natomedia::newsletter {

namespace {

constexpr char kPurpose[] = "unsubscribe";

std::string signed_data(int64_t subscription_id, const std::string& email) {
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

std::string make_unsubscribe_token(const Crypto& crypto, int64_t subscription_id,
                                   const std::string& email) {
  const std::string data = signed_data(subscription_id, email);
  return text::base64url_encode(data + ":" + crypto.sign(kPurpose, data));
}

std::optional<UnsubscribeToken> check_unsubscribe_token(const Crypto& crypto,
                                                        std::string_view token) {
  if (token.empty() || token.size() > kMaxUnsubscribeTokenLength) return std::nullopt;
  std::string packed;
  if (!text::base64url_decode(token, packed)) return std::nullopt;
  const size_t first = packed.find(':');
  const size_t last = packed.rfind(':');
  if (first == std::string::npos || last == first) return std::nullopt;
  auto id = parse_id(std::string_view(packed).substr(0, first));
  std::string email = packed.substr(first + 1, last - first - 1);
  if (!id || email.empty() || !text::valid_utf8(email)) return std::nullopt;
  if (!crypto.verify(kPurpose, signed_data(*id, email), packed.substr(last + 1)))
    return std::nullopt;
  return UnsubscribeToken{*id, std::move(email)};
}

std::string unsubscribe_url(const std::string& public_url, const std::string& base_path,
                            const std::string& token) {
  // The token is base64url: nothing in it needs escaping in a query value.
  return public_url + base_path + "/newsletter/unsubscribe?token=" + token;
}

}  // namespace natomedia::newsletter
