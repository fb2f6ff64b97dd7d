#include "signed_links.h"

#include <natomedia/text.h>

#include "formatting.h"

namespace natomedia::media_gateway {

namespace {

constexpr const char* kPurpose = "download";

std::string signed_data(const std::string& path, const std::string& expires,
                        const std::string& account) {
  return path + "|" + expires + "|" + account;
}

}  // namespace

std::time_t link_expiry(std::time_t now) {
  const std::time_t earliest = now + kLinkLifetime;
  return (earliest + 3599) / 3600 * 3600;
}

std::string signed_query(const Crypto& crypto, const std::string& path, int64_t account_id,
                         std::time_t expires) {
  const std::string t = std::to_string(expires);
  const std::string a = std::to_string(account_id);
  return "expires=" + t + "&a=" + a + "&sig=" +
         text::url_encode(crypto.sign(kPurpose, signed_data(path, t, a)));
}

LinkCheck check_link(const Crypto& crypto, const Params& query, const std::string& path,
                     std::time_t now) {
  LinkCheck check;
  if (!query.has("sig") && !query.has("expires") && !query.has("a")) return check;
  check.outcome = LinkCheck::Outcome::kBad;
  const std::string t = query.get_or("expires");
  const std::string a = query.get_or("a");
  const std::string sig = query.get_or("sig");
  if (!all_digits(t, 12) || !all_digits(a, 18) || sig.empty() || sig.size() > 512) return check;
  if (!crypto.verify(kPurpose, signed_data(path, t, a), sig)) return check;
  check.account_id = std::stoll(a);
  check.outcome = std::stoll(t) < now ? LinkCheck::Outcome::kExpired : LinkCheck::Outcome::kOk;
  return check;
}

}  // namespace natomedia::media_gateway
