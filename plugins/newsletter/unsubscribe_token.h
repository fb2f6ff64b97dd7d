// The newsletter's unsubscribe token (RFC 8058 one-click links). The plugin checks it and
// natomedia-admin makes it, so both compile this one file.
//
// A token is base64url("ID:EMAIL:SIG"), where SIG = Crypto::sign("unsubscribe", "ID:EMAIL") (a
// "kid.mac" string, which holds no ':'). It names one subscription row and its address and can be
// checked with the secret alone, without a database lookup; the address inside lets the page say
// who is unsubscribing and the UPDATE match the row it was made for. Signatures carry their key
// id, so links in mail already sent keep working after the secret rotates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <natomedia/services.h>

namespace natomedia::newsletter {

struct UnsubscribeToken {
  int64_t subscription_id = 0;
  std::string email;
};

// Longer input is refused before it is decoded.
constexpr size_t kMaxUnsubscribeTokenLength = 1024;

std::string make_unsubscribe_token(const Crypto& crypto, int64_t subscription_id,
                                   const std::string& email);

// The subscription a genuine token names; nullopt for anything malformed, forged or altered.
std::optional<UnsubscribeToken> check_unsubscribe_token(const Crypto& crypto,
                                                        std::string_view token);

// PUBLIC_URL + base path + "/newsletter/unsubscribe?token=T": the List-Unsubscribe target.
std::string unsubscribe_url(const std::string& public_url, const std::string& base_path,
                            const std::string& token);

}  // namespace natomedia::newsletter
