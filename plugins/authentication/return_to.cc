#include "return_to.h"

#include <natomedia/text.h>

namespace natomedia::auth {

namespace {

constexpr size_t kMaxReturnTo = 2048;
constexpr int kMaxDecodeRounds = 4;

// Browsers drop tab/CR/LF inside URLs and read '\\' as '/': "/\t/evil" and "/\\evil" are "//evil".
bool looks_local(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() > 1 && (path[1] == '/' || path[1] == '\\')) return false;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '\\') return false;
  }
  return true;
}

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
  }
  return true;
}

}  // namespace

std::string safe_return_to(std::string_view candidate) {
  if (candidate.size() > kMaxReturnTo || !printable_ascii(candidate) || !looks_local(candidate))
    return "/";
  std::string current(candidate);
  std::string decoded;
  for (int round = 0; current.find('%') != std::string::npos; ++round) {
    if (round == kMaxDecodeRounds) return "/";
    if (!text::url_decode(current, decoded, /*plus_is_space=*/false)) return "/";
    if (!looks_local(decoded)) return "/";
    current.swap(decoded);
  }
  return std::string(candidate);
}

}  // namespace natomedia::auth
