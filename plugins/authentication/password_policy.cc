#include "password_policy.h"

#include <cstdint>
#include <fstream>

#include <natomedia/text.h>

namespace natomedia::auth {

namespace {

// Decodes one code point of valid UTF-8 at `i` and moves `i` past it.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len && i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

// Unicode White_Space, which is what a visitor means by "no spaces".
bool is_white_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

struct Classes {
  size_t chars = 0;
  bool white = false, upper = false, lower = false, digit = false, symbol = false;
};

Classes classify(std::string_view password) {
  Classes k;
  for (size_t i = 0; i < password.size();) {
    uint32_t cp = next_code_point(password, i);
    ++k.chars;
    if (is_white_space(cp))
      k.white = true;
    else if (cp >= 'A' && cp <= 'Z')
      k.upper = true;
    else if (cp >= 'a' && cp <= 'z')
      k.lower = true;
    else if (cp >= '0' && cp <= '9')
      k.digit = true;
    else
      k.symbol = true;  // punctuation, and any non-ASCII character
  }
  return k;
}

bool contains_local_part(std::string_view password, std::string_view email) {
  size_t at = email.rfind('@');
  if (at == std::string_view::npos || at < kMinLocalPartToMatch) return false;
  std::string local = text::lower_ascii(email.substr(0, at));
  return text::lower_ascii(password).find(local) != std::string::npos;
}

}  // namespace

Result<std::shared_ptr<const DenyList>> load_deny_list(const std::string& path) {
  auto list = std::make_shared<DenyList>();
  if (path.empty()) return std::shared_ptr<const DenyList>(list);
  std::ifstream in(path);
  if (!in) return Status::Invalid("NatoMediaPasswordDenyList " + path + ": cannot be read");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    list->insert(text::lower_ascii(line));
  }
  if (in.bad()) return Status::Invalid("NatoMediaPasswordDenyList " + path + ": read error");
  return std::shared_ptr<const DenyList>(list);
}

std::vector<PasswordRule> check_password(std::string_view password, std::string_view email,
                                         const DenyList& deny_list) {
  std::vector<PasswordRule> broken;
  const Classes k = classify(password);
  if (k.chars < kMinPasswordChars) broken.push_back(PasswordRule::kTooShort);
  if (k.chars > kMaxPasswordChars) broken.push_back(PasswordRule::kTooLong);
  if (k.white) broken.push_back(PasswordRule::kWhitespace);
  if (!k.upper) broken.push_back(PasswordRule::kNoUpper);
  if (!k.lower) broken.push_back(PasswordRule::kNoLower);
  if (!k.digit) broken.push_back(PasswordRule::kNoDigit);
  if (!k.symbol) broken.push_back(PasswordRule::kNoSymbol);
  if (contains_local_part(password, email)) broken.push_back(PasswordRule::kContainsEmail);
  if (!deny_list.empty() && deny_list.count(text::lower_ascii(password)))
    broken.push_back(PasswordRule::kDenied);
  return broken;
}

const char* rule_message_key(PasswordRule rule) {
  switch (rule) {
    case PasswordRule::kTooShort:
      return "auth.password.too_short";
    case PasswordRule::kTooLong:
      return "auth.password.too_long";
    case PasswordRule::kWhitespace:
      return "auth.password.whitespace";
    case PasswordRule::kNoUpper:
      return "auth.password.no_upper";
    case PasswordRule::kNoLower:
      return "auth.password.no_lower";
    case PasswordRule::kNoDigit:
      return "auth.password.no_digit";
    case PasswordRule::kNoSymbol:
      return "auth.password.no_symbol";
    case PasswordRule::kContainsEmail:
      return "auth.password.contains_email";
    case PasswordRule::kDenied:
      return "auth.password.denied";
  }
  return "auth.password.invalid";
}

}  // namespace natomedia::auth
