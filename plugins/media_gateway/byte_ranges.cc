#include "byte_ranges.h"

#include <algorithm>
#include <optional>

#include <natomedia/text.h>

namespace natomedia::media_gateway {

namespace {

// The framing httpd writes around each part of a multipart/byteranges body (boundary,
// Content-type, Content-range, blank line), at most, besides the part's content type; and the
// closing boundary.
constexpr uint64_t kPartFraming = 160;
constexpr uint64_t kClosingFraming = 64;

// Plain decimal digits only (what httpd reads with apr_strtoff, minus the signs and spaces it
// would also take: those make the answer "the whole file", which is never too little).
std::optional<uint64_t> decimal(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// The bytes one range spec ("a-b", "a-", "-n") selects of `size`; nullopt when httpd would
// ignore the whole Range header for it (and send the file).
std::optional<uint64_t> one_range(const std::string& spec, uint64_t size) {
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  if (dash == 0) {  // the last n bytes
    auto n = decimal(spec.substr(1));
    if (!n || *n < 1) return std::nullopt;
    return std::min(*n, size);
  }
  auto start = decimal(spec.substr(0, dash));
  if (!start) return std::nullopt;
  uint64_t end = size == 0 ? 0 : size - 1;
  if (dash + 1 < spec.size()) {
    auto last = decimal(spec.substr(dash + 1));
    if (!last || *start > *last) return std::nullopt;
    end = std::min(*last, end);
  }
  if (*start >= size) return 0;  // unsatisfiable: 416, no file bytes
  return end - *start + 1;
}

}  // namespace

uint64_t most_bytes_sent(const Request& request, uint64_t size, const std::string& etag,
                         const std::string& content_type) {
  // httpd reads the legacy Request-Range when Range is absent.
  auto range = request.header("range");
  if (!range) range = request.header("request-range");
  if (!range || range->size() < 6 || text::lower_ascii(range->substr(0, 6)) != "bytes=")
    return size;
  if (auto if_range = request.header("if-range"); if_range && *if_range != etag) return size;
  const std::string list = range->substr(6);
  if (list.find(',') != std::string::npos) {
    // Several ranges: httpd sends at most the file's bytes (it ignores ranges that add up to
    // more), as parts each framed by a boundary. Repeated Range headers arrive joined by commas.
    const uint64_t parts = static_cast<uint64_t>(std::count(list.begin(), list.end(), ',')) + 1;
    return size + parts * (kPartFraming + content_type.size()) + kClosingFraming;
  }
  auto bytes = one_range(list, size);
  return bytes ? *bytes : size;
}

}  // namespace natomedia::media_gateway
