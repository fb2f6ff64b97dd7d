// Text helpers shared by the core and the plugins: the one HTML escaper, the one percent codec,
// the one UTF-8 validator. Header-only so that a plugin built out of tree runs the very same code.
// Every function is pure and thread-safe.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace natomedia {
namespace text {

// Escapes & < > " ' so the result is safe in element content and in quoted attribute values.
inline std::string html_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 8);
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace detail {

inline constexpr char kHexUpper[] = "0123456789ABCDEF";

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

inline constexpr char kBase64Url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
inline constexpr char kBase64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The value of `c` in an alphabet that differs from the others only in its last two characters.
inline int base64_value(char c, const char* alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == alphabet[62]) return 62;
  if (c == alphabet[63]) return 63;
  return -1;
}

inline int base64url_value(char c) { return base64_value(c, kBase64Url); }

// Unpadded base64 in `alphabet`.
inline std::string base64_encode(std::string_view in, const char* alphabet) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8) | s[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{s[i]} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

// Refuses padding, characters outside `alphabet`, an impossible length (4n+1) and
// non-canonical trailing bits.
inline bool base64_decode(std::string_view in, std::string& out, const char* alphabet) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  out.reserve(in.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = base64_value(c, alphabet);
    if (v < 0) return false;
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xFFFF;  // only the low bits matter
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;
}

}  // namespace detail

// Percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~),
// so the result is safe in a path segment, a query name or a query value.
inline std::string url_encode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (detail::is_unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += detail::kHexUpper[c >> 4];
      out += detail::kHexUpper[c & 0x0F];
    }
  }
  return out;
}

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in form bodies).
// Returns false, leaving `out` unspecified, on a '%' not followed by two hex digits.
// The result is raw bytes: callers that need text must check valid_utf8() themselves.
inline bool url_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = detail::hex_value(in[i + 1]);
      int lo = detail::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>((hi << 4) | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

// Strict UTF-8 (RFC 3629): shortest form only, no surrogates (U+D800..U+DFFF), at most U+10FFFF.
inline bool valid_utf8(std::string_view in) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte, C0/C1 (always overlong), or F5..FF
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Removes ASCII white space (space, tab, CR, LF, VT, FF) from both ends.
inline std::string_view trim(std::string_view in) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  size_t b = 0;
  size_t e = in.size();
  while (b < e && is_space(in[b])) ++b;
  while (e > b && is_space(in[e - 1])) --e;
  return in.substr(b, e - b);
}

// Lower-cases A-Z only; every other byte (UTF-8 included) is kept as it is.
inline std::string lower_ascii(std::string_view in) {
  std::string out(in);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// RFC 4648 section 5 alphabet, without '=' padding.
inline std::string base64url_encode(std::string_view in) {
  return detail::base64_encode(in, detail::kBase64Url);
}

// Decodes unpadded base64url. Refuses padding, characters outside the alphabet, an impossible
// length (4n+1) and non-canonical trailing bits, so each byte string has exactly one encoding
// (tokens compared as strings cannot be altered without changing their meaning).
inline bool base64url_decode(std::string_view in, std::string& out) {
  return detail::base64_decode(in, out, detail::kBase64Url);
}

// RFC 4648 section 4 (standard) alphabet, without '=' padding: the salt and hash of a PHC
// string. Decoding is as strict as base64url_decode's.
inline std::string base64_encode_unpadded(std::string_view in) {
  return detail::base64_encode(in, detail::kBase64);
}
inline bool base64_decode_unpadded(std::string_view in, std::string& out) {
  return detail::base64_decode(in, out, detail::kBase64);
}

// Lower-case hexadecimal, two digits a byte.
inline std::string hex_encode(std::string_view in) {
  static constexpr char kHexLower[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    out += kHexLower[c >> 4];
    out += kHexLower[c & 0x0F];
  }
  return out;
}

// A non-negative decimal integer that fills `in` ("0", "1700000000"): no sign, no space, no
// junk, no overflow; false (and `out` unchanged) otherwise. For numbers that come back from a
// browser or a cache, where anything may arrive and nothing may throw.
inline bool parse_decimal(std::string_view in, long long& out) {
  if (in.empty() || in[0] < '0' || in[0] > '9') return false;
  long long v = 0;
  const auto [end, err] = std::from_chars(in.data(), in.data() + in.size(), v);
  if (err != std::errc() || end != in.data() + in.size()) return false;
  out = v;
  return true;
}

// A catalogue sentence with its placeholders filled: each "{NAME}" of `values` becomes its value
// ("Please wait {n} seconds", {{"n", "30"}}). One pass over the sentence, so a value is never
// scanned for placeholders itself; a brace that names none of `values` is kept as it is.
inline std::string fill(
    std::string_view sentence,
    std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  std::string out;
  out.reserve(sentence.size());
  size_t at = 0;
  while (at < sentence.size()) {
    const size_t open = sentence.find('{', at);
    if (open == std::string_view::npos) break;
    out.append(sentence, at, open - at);
    at = open;
    for (const auto& [name, value] : values) {
      if (sentence.compare(open + 1, name.size(), name) == 0 &&
          sentence.size() > open + 1 + name.size() && sentence[open + 1 + name.size()] == '}') {
        out.append(value);
        at = open + name.size() + 2;
        break;
      }
    }
    if (at == open) out += sentence[at++];
  }
  out.append(sentence, at, std::string_view::npos);
  return out;
}

}  // namespace text
}  // namespace natomedia
