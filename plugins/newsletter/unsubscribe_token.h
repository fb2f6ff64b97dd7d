// The newsletter's unsubscribe token (RFC 8058 one-click links). The plugin checks it and
// natomedia-admin makes it, so both compile this one file.
//
// A token is base64url("ACCOUNT:SIG"), where SIG = Crypto::sign("unsubscribe-epoch",
// "ACCOUNT:EPOCH") (a "kid.mac" string, which holds no ':') and EPOCH is the account's credential
// epoch when the newsletter was sent. It carries no address: the access log and a forwarded mail
// do not give one away. It works for as long as the account's epoch stays the same, so the links
// in newsletters already sent keep working until the account's password or address changes or
// it is disabled or deleted (CONTRACT section 12). Signatures carry their key id, so links survive
// a key rotation.
//
// Newsletters sent before epochs existed carry version-1 tokens, base64url("SUB:EMAIL:SIG") with
// SIG = Crypto::sign("unsubscribe", "SUB:EMAIL"): they were made at epoch 0 and are accepted
// while the account is still at epoch 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <natomedia/services.h>

namespace natomedia::newsletter {

// What a well-formed token claims, before its signature is checked against the account's epoch.
struct UnsubscribeToken {
  int64_t account_id = 0;       // version 2
  int64_t subscription_id = 0;  // version 1 only (0 for version 2)
  std::string email;            // version 1 only
  std::string signature;

  bool version1() const { return subscription_id != 0; }
};

// Longer input is refused before it is decoded.
constexpr size_t kMaxUnsubscribeTokenLength = 1024;

std::string make_unsubscribe_token(const Crypto& crypto, int64_t account_id,
                                   int64_t credential_epoch);

// The claim of a well-formed token; nullopt for anything malformed. Nothing is verified yet.
std::optional<UnsubscribeToken> parse_unsubscribe_token(std::string_view token);

// True when `token` was made by this server (with any of its keys) for the account at
// `credential_epoch`, its epoch as stored now (constant-time comparison through Crypto::verify).
bool unsubscribe_token_valid(const Crypto& crypto, const UnsubscribeToken& token,
                             int64_t credential_epoch);

// PUBLIC_URL + base path + "/newsletter/unsubscribe?token=T": the List-Unsubscribe target.
std::string unsubscribe_url(const std::string& public_url, const std::string& base_path,
                            const std::string& token);

}  // namespace natomedia::newsletter
