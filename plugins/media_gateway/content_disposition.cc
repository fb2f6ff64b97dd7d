#include "content_disposition.h"

#include <natomedia/text.h>

namespace natomedia::media_gateway {

namespace {

// The length of the valid UTF-8 sequence at `s[i]`, or 0.
size_t utf8_length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
               : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  return text::valid_utf8(std::string_view(s).substr(i, len)) ? len : 0;
}

bool forbidden_ascii(unsigned char c) {
  return c < 0x20 || c == 0x7F || c == '"' || c == '\'' || c == '/' || c == '\\';
}

}  // namespace

std::string safe_filename(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size();) {
    size_t len = utf8_length(name, i);
    if (len == 0) {
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(name[i]);
    // C1 controls are U+0080..U+009F: C2 80..C2 9F in UTF-8.
    bool c1 = len == 2 && c == 0xC2 && static_cast<unsigned char>(name[i + 1]) < 0xA0;
    if (!(len == 1 && forbidden_ascii(c)) && !c1) out.append(name, i, len);
    i += len;
  }
  size_t b = 0, e = out.size();
  while (b < e && (out[b] == ' ' || out[b] == '.')) ++b;
  while (e > b && (out[e - 1] == ' ' || out[e - 1] == '.')) --e;
  out = out.substr(b, e - b);
  return out.empty() ? "download" : out;
}

std::string ascii_filename(const std::string& safe_name) {
  std::string out;
  for (size_t i = 0; i < safe_name.size();) {
    size_t len = utf8_length(safe_name, i);
    if (len == 0) len = 1;
    out += len == 1 && safe_name[i] != '%' ? safe_name[i] : '_';
    i += len;
  }
  return out;
}

std::string attachment_disposition(const std::string& name) {
  const std::string safe = safe_filename(name);
  return "attachment; filename=\"" + ascii_filename(safe) + "\"; filename*=UTF-8''" +
         text::url_encode(safe);
}

}  // namespace natomedia::media_gateway
