// Signed download links for download managers: /download/ID/RENDITION?expires=T&a=ACCOUNT&sig=S,
// where S = Crypto::sign("download", PATH|T|ACCOUNT) carries the key id, so links survive a key
// rotation for as long as the old key is kept. Thread-safe.
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
// path) for `account_id` until `expires`.
std::string signed_query(const Crypto& crypto, const std::string& path, int64_t account_id,
                         std::time_t expires);

struct LinkCheck {
  enum class Outcome {
    kAbsent,   // no signature parameters: not a signed link
    kBad,      // malformed or wrong signature: 403
    kExpired,  // right signature, past its expiry: 410
    kOk,
  };
  Outcome outcome = Outcome::kAbsent;
  int64_t account_id = 0;
};

// Checks the signed-link parameters of `query` for `path` at `now` (constant-time comparison
// through Crypto::verify).
LinkCheck check_link(const Crypto& crypto, const Params& query, const std::string& path,
                     std::time_t now);

}  // namespace natomedia::media_gateway
