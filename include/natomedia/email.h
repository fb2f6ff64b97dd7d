// E-mail addresses as the portal knows them: one normal form, so that "Ann@Example.ORG " and
// "ann@example.org" are the same account, the same code entry and the same subscriber in every
// plugin. Header-only, pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <natomedia/text.h>

namespace natomedia {

// The longest address SMTP can carry (RFC 5321: 64 + 1 + 255, limited by the 256-octet path).
inline constexpr size_t kMaxEmailBytes = 254;

namespace detail {

inline bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  static constexpr std::string_view kSymbols = "!#$%&'*+-/=?^_`{|}~";
  return kSymbols.find(c) != std::string_view::npos;
}

inline bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  for (size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.') {
      if (local[i + 1] == '.') return false;  // never the last byte: checked above
    } else if (!is_atext(local[i])) {
      return false;
    }
  }
  return true;
}

inline bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

inline bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!valid_label(label)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

}  // namespace detail

// The normal form of `typed`: trimmed and lower-cased (local part and domain alike), or nullopt
// when it is not a plausible address: one '@', a dot-atom local part of at most 64 characters
// (RFC 5322 atext and single inner dots), a domain of at least two LDH labels (letters, digits,
// inner hyphens; at most 63 characters each), at most kMaxEmailBytes in all. ASCII only.
inline std::optional<std::string> normalize_email(std::string_view typed) {
  std::string email = text::lower_ascii(text::trim(typed));
  if (email.size() > kMaxEmailBytes) return std::nullopt;
  size_t at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) return std::nullopt;
  std::string_view view(email);
  if (!detail::valid_local_part(view.substr(0, at)) || !detail::valid_domain(view.substr(at + 1)))
    return std::nullopt;
  return email;
}

// The part before the last '@' ("" when there is none).
inline std::string email_local_part(std::string_view email) {
  size_t at = email.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(email.substr(0, at));
}

}  // namespace natomedia
