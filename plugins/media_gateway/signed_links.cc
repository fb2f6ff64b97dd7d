#include "signed_links.h"

#include <natomedia/text.h>

#include "formatting.h"

namespace natomedia::media_gateway {

namespace {

constexpr const char* kPurpose = "download";

std::string signed_data(const std::string& path, const std::string& expires,
                        const std::string& account, int64_t epoch) {
  return path + "|" + expires + "|" + account + "|" + std::to_string(epoch);
}

bool any_link_parameter(const Params& query) {
  return query.has("sig") || query.has("expires") || query.has("a");
}

bool well_formed(const Params& query) {
  const std::string sig = query.get_or("sig");
  return all_digits(query.get_or("expires"), 12) && all_digits(query.get_or("a"), 18) &&
         !sig.empty() && sig.size() <= 512;
}

}  // namespace

std::time_t link_expiry(std::time_t now) {
  const std::time_t earliest = now + kLinkLifetime;
  return (earliest + 3599) / 3600 * 3600;
}

std::string signed_query(const Crypto& crypto, const std::string& path, const Account& account,
                         std::time_t expires) {
  const std::string t = std::to_string(expires);
  const std::string a = std::to_string(account.id);
  return "expires=" + t + "&a=" + a + "&sig=" +
         text::url_encode(crypto.sign(kPurpose, signed_data(path, t, a, account.credential_epoch)));
}

LinkClaim claimed_account(const Params& query) {
  LinkClaim claim;
  if (!any_link_parameter(query)) return claim;
  claim.shape = well_formed(query) ? LinkClaim::Shape::kWellFormed : LinkClaim::Shape::kMalformed;
  if (claim.shape == LinkClaim::Shape::kWellFormed)
    claim.account_id = std::stoll(query.get_or("a"));
  return claim;
}

LinkCheck check_link(const Crypto& crypto, const Params& query, const std::string& path,
                     int64_t credential_epoch, std::time_t now) {
  if (!any_link_parameter(query)) return LinkCheck::kAbsent;
  if (!well_formed(query)) return LinkCheck::kBad;
  const std::string t = query.get_or("expires");
  if (!crypto.verify(kPurpose, signed_data(path, t, query.get_or("a"), credential_epoch),
                     query.get_or("sig")))
    return LinkCheck::kBad;
  return std::stoll(t) < now ? LinkCheck::kExpired : LinkCheck::kOk;
}

}  // namespace natomedia::media_gateway
