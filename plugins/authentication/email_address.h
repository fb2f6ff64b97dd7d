// E-mail addresses as accounts know them: one normal form, so that "Ann@Example.ORG " and
// "ann@example.org" are the same account. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace natomedia::auth {

// The longest address SMTP can carry (RFC 5321: 64 + 1 + 255, limited by the 256-octet path).
inline constexpr size_t kMaxEmailBytes = 254;

// The normal form of `typed`: trimmed and lower-cased (local part and domain alike), or nullopt
// when it is not a plausible address: one '@', a dot-atom local part of at most 64 characters
// (RFC 5322 atext and single inner dots), a domain of at least two LDH labels (letters, digits,
// inner hyphens; at most 63 characters each), at most kMaxEmailBytes in all. ASCII only.
std::optional<std::string> normalize_email(std::string_view typed);

// The part before the last '@' ("" when there is none).
std::string email_local_part(std::string_view email);

}  // namespace natomedia::auth
