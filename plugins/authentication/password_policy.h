// The password policy (CONTRACT section 5), in this one place: the register form and the new
// password form both ask check_password, and both show kRuleTextKey. Pure, thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <natomedia/status.h>

namespace natomedia::auth {

inline constexpr size_t kMinPasswordChars = 12;
inline constexpr size_t kMaxPasswordChars = 128;
// A local part shorter than this is not looked for in the password: "a@x.org" would forbid
// every password holding an "a".
inline constexpr size_t kMinLocalPartToMatch = 3;

enum class PasswordRule {
  kTooShort,       // fewer than 12 characters (code points)
  kTooLong,        // more than 128 characters: refused, never truncated
  kWhitespace,     // any white space, ASCII or Unicode
  kNoUpper,        // no upper-case letter A-Z
  kNoLower,        // no lower-case letter a-z
  kNoDigit,        // no digit 0-9
  kNoSymbol,       // nothing that is neither a letter, a digit nor white space
  kContainsEmail,  // holds the address's local part, in any case
  kDenied,         // on NatoMediaPasswordDenyList (compared case-insensitively)
};

// Forbidden passwords, lower-cased (ASCII). Immutable once loaded.
using DenyList = std::unordered_set<std::string>;

// Reads NatoMediaPasswordDenyList: one password a line; blank lines and lines starting with '#'
// are skipped, a trailing CR is dropped. Invalid naming the file when it cannot be read.
Result<std::shared_ptr<const DenyList>> load_deny_list(const std::string& path);

// Every rule `password` breaks, in the order of PasswordRule (empty: acceptable). `email` is the
// normalised address of the account (may be ""). `password` is valid UTF-8 (the core checks).
std::vector<PasswordRule> check_password(std::string_view password, std::string_view email,
                                         const DenyList& deny_list);

// The string-catalogue key of the message that names `rule`.
const char* rule_message_key(PasswordRule rule);

// The catalogue key of the rule as the forms state it (the seed's sentence plus the limits).
inline constexpr const char* kRuleTextKey = "auth.password.rule";

}  // namespace natomedia::auth
