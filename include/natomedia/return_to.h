// Where a visitor may be sent back to after signing in: a local path only, so no link can bounce
// a visitor to another site (an "open redirect"). Header-only, so the core's tests, the fuzz
// target and every plugin use this one implementation. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <natomedia/text.h>

namespace natomedia {

namespace detail {

// One leading '/', not "//" nor "/\", and no control character or backslash anywhere.
inline bool looks_local(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() > 1 && (path[1] == '/' || path[1] == '\\')) return false;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '\\') return false;
  }
  return true;
}

inline bool printable_ascii_no_space(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
  }
  return true;
}

}  // namespace detail

// A return_to is base-relative ("/videos/42", not NatoMediaBasePath + "/videos/42"): the sign-in
// and verification pages hand it to Context::url() on the way back, which adds the base path once.
// `candidate` when it is a local absolute path (one leading '/', not "//", no backslash, only
// printable ASCII without spaces, at most 2048 bytes, and still all that after each of up to 4
// rounds of percent-decoding), else "/". The result is safe to put in a Location header: it can
// never send the browser to another origin.
inline std::string safe_return_to(std::string_view candidate) {
  constexpr size_t kMaxLength = 2048;
  constexpr int kMaxDecodeRounds = 4;
  if (candidate.size() > kMaxLength || !detail::printable_ascii_no_space(candidate) ||
      !detail::looks_local(candidate))
    return "/";
  std::string current(candidate);
  std::string decoded;
  for (int round = 0; current.find('%') != std::string::npos; ++round) {
    if (round == kMaxDecodeRounds) return "/";
    if (!text::url_decode(current, decoded, /*plus_is_space=*/false)) return "/";
    if (!detail::looks_local(decoded)) return "/";
    current.swap(decoded);
  }
  return std::string(candidate);
}

}  // namespace natomedia
