#include "email_address.h"

#include <natomedia/text.h>

namespace natomedia::auth {

namespace {

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  static constexpr std::string_view kSymbols = "!#$%&'*+-/=?^_`{|}~";
  return kSymbols.find(c) != std::string_view::npos;
}

bool valid_local_part(std::string_view local) {
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

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool valid_domain(std::string_view domain) {
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

}  // namespace

std::optional<std::string> normalize_email(std::string_view typed) {
  std::string email = text::lower_ascii(text::trim(typed));
  if (email.size() > kMaxEmailBytes) return std::nullopt;
  size_t at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) return std::nullopt;
  std::string_view view(email);
  if (!valid_local_part(view.substr(0, at)) || !valid_domain(view.substr(at + 1)))
    return std::nullopt;
  return email;
}

std::string email_local_part(std::string_view email) {
  size_t at = email.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(email.substr(0, at));
}

}  // namespace natomedia::auth
