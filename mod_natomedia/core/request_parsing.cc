#include "core/request_parsing.h"

#include <natomedia/text.h>

#include <cstring>
#include <vector>

namespace natomedia {
namespace core {
namespace {

constexpr size_t kMaxCookies = 256;

// Splits `in` on `sep`, calling `fn` with each piece (empty pieces included).
template <typename Fn>
void split(std::string_view in, char sep, Fn fn) {
  size_t start = 0;
  while (true) {
    size_t pos = in.find(sep, start);
    if (pos == std::string_view::npos) {
      fn(in.substr(start));
      return;
    }
    fn(in.substr(start, pos - start));
    start = pos + 1;
  }
}

// Decodes one name or value of a form and checks it is text.
Status decode_field(std::string_view raw, const ParseLimits& limits, std::string& out) {
  if (!text::url_decode(raw, out, /*plus_is_space=*/true))
    return Status::Invalid("malformed percent-encoding");
  if (out.size() > limits.max_field_bytes) return Status::Invalid("form field too long");
  if (out.find('\0') != std::string::npos) return Status::Invalid("NUL byte in form data");
  if (!text::valid_utf8(out)) return Status::Invalid("form data is not valid UTF-8");
  return Status::Ok();
}

// RFC 7230 tchar, the characters of a cookie name.
bool is_token_char(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  return true;
}

bool has_control(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// The primary subtag of a language tag, lower-cased, when it is supported; else "".
std::string supported_language(std::string_view tag, const std::vector<std::string>& languages) {
  tag = text::trim(tag);
  size_t sep = tag.find_first_of("-_");
  std::string primary = text::lower_ascii(tag.substr(0, sep));
  for (const std::string& lang : languages)
    if (primary == lang) return primary;
  return "";
}

// Parses an RFC 7231 qvalue ("0", "0.8", "1.000") into thousandths; -1 when malformed.
int parse_qvalue(std::string_view q) {
  q = text::trim(q);
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return -1;
  int whole = q[0] - '0';
  int value = whole * 1000;
  if (q.size() == 1) return value;
  if (q[1] != '.' || q.size() > 5) return -1;
  int scale = 100;
  for (size_t i = 2; i < q.size(); ++i, scale /= 10) {
    if (q[i] < '0' || q[i] > '9') return -1;
    value += (q[i] - '0') * scale;
  }
  return value > 1000 ? -1 : value;
}

// The best supported language of an Accept-Language header, or "".
std::string from_accept_language(std::string_view header,
                                 const std::vector<std::string>& languages) {
  std::string best;
  int best_q = 0;  // q=0 means "not acceptable", so it never wins
  split(header, ',', [&](std::string_view range) {
    size_t semi = range.find(';');
    std::string_view tag = text::trim(range.substr(0, semi));
    int q = 1000;
    if (semi != std::string_view::npos) {
      std::string_view params = text::trim(range.substr(semi + 1));
      if (params.size() < 2 || (params[0] != 'q' && params[0] != 'Q') || params[1] != '=') return;
      q = parse_qvalue(params.substr(2));
    }
    std::string lang = tag == "*" ? languages.front() : supported_language(tag, languages);
    if (lang.empty() || q <= best_q) return;
    best = lang;
    best_q = q;
  });
  return best;
}

// The checks a return_to must pass both as sent and after each round of percent-decoding.
// Browsers drop tab/CR/LF inside URLs and read '\\' as '/': "/\t/evil" and "/\\evil" are "//evil".

// What a Location header may carry as it is: printable ASCII without spaces.

}  // namespace

Status parse_urlencoded(std::string_view input, Params& out, const ParseLimits& limits) {
  if (input.size() > limits.max_body) return Status::Invalid("form data too large");
  Params parsed;
  Status status;
  std::string name;
  std::string value;
  split(input, '&', [&](std::string_view pair) {
    if (!status.ok() || pair.empty()) return;
    if (parsed.size() >= limits.max_fields) {
      status = Status::Invalid("too many form fields");
      return;
    }
    size_t eq = pair.find('=');
    status = decode_field(pair.substr(0, eq), limits, name);
    if (status.ok() && eq != std::string_view::npos)
      status = decode_field(pair.substr(eq + 1), limits, value);
    else
      value.clear();
    if (status.ok()) parsed.add(std::move(name), std::move(value));
  });
  if (!status.ok()) return status;
  for (const auto& [n, v] : parsed.items()) out.add(n, v);
  return Status::Ok();
}

bool exceeds_body_limit(std::string_view input, const ParseLimits& limits) {
  return input.size() > limits.max_body;
}

void parse_cookies(std::string_view header, Params& out) {
  size_t kept = 0;
  split(header, ';', [&](std::string_view pair) {
    if (kept >= kMaxCookies) return;
    pair = text::trim(pair);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return;
    std::string_view name = text::trim(pair.substr(0, eq));
    std::string_view value = text::trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (!is_token(name) || has_control(value) || !text::valid_utf8(value)) return;
    out.add(std::string(name), std::string(value));
    ++kept;
  });
}

std::string pick_language(const std::optional<std::string>& query_lang,
                          const std::optional<std::string>& cookie_lang,
                          std::string_view accept_language,
                          const std::vector<std::string>& languages) {
  const std::vector<std::string> defaults(std::begin(kLanguages), std::end(kLanguages));
  const std::vector<std::string>& langs = languages.empty() ? defaults : languages;
  for (const auto* choice : {&query_lang, &cookie_lang}) {
    if (!*choice) continue;
    std::string lang = supported_language(**choice, langs);
    if (!lang.empty()) return lang;
  }
  std::string lang = from_accept_language(accept_language, langs);
  return lang.empty() ? langs.front() : lang;
}

bool connection_is_https(const char* scheme, const char* https_env) {
  if (scheme && text::lower_ascii(scheme) == "https") return true;
  return https_env && text::lower_ascii(text::trim(https_env)) == "on";
}

}  // namespace core
}  // namespace natomedia
