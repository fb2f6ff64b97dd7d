// Signed download links for download managers: /download/ID/RENDITION?expires=T&a=ACCOUNT&sig=S,
// where S = Crypto::sign("download", PATH|T|ACCOUNT|EPOCH) carries the key id, so links survive a
// key rotation for as long as the old key is kept. EPOCH is the account's credential epoch when
// the link was made; it is not in the URL, so a link dies as soon as the account's epoch moves on
// (its password or address changed, it was disabled; CONTRACT section 12). Thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <natomedia/http.h>
#include <natomedia/services.h>

namespace natomedia::media_gateway {

// How long a link handed out on the video page stays valid: at least kLinkLifetime, rounded up
// to the next full hour so the page (and its ETag) stays the same within the hour.
constexpr std::time_t kLinkLifetime = 6 * 3600;

// The expiry of links handed out at `now`.
std::time_t link_expiry(std::time_t now);

// The query string (without '?') that signs `path` ("/download/ID/RENDITION", below the base
// path) for `account` at its credential epoch until `expires`.
std::string signed_query(const Crypto& crypto, const std::string& path, const Account& account,
                         std::time_t expires);

// The account a link names, read before anything is checked: its epoch is needed to check it.
struct LinkClaim {
  enum class Shape {
    kAbsent,      // no signature parameters: not a signed link
    kMalformed,   // refused without a look at the account (403)
    kWellFormed,  // account_id is set
  };
  Shape shape = Shape::kAbsent;
  int64_t account_id = 0;
};

LinkClaim claimed_account(const Params& query);

enum class LinkCheck {
  kAbsent,   // no signature parameters: not a signed link
  kBad,      // malformed, forged, or made for another epoch of the account: 403
  kExpired,  // right signature, past its expiry: 410
  kOk,
};

// Checks the signed-link parameters of `query` for `path` at `now`, against the named account's
// current credential epoch (constant-time comparison through Crypto::verify).
LinkCheck check_link(const Crypto& crypto, const Params& query, const std::string& path,
                     int64_t credential_epoch, std::time_t now);

}  // namespace natomedia::media_gateway
