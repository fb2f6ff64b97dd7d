// How the gateway writes numbers and dates: HTTP and feed dates, sizes and durations per
// language, ETag comparison. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace natomedia::media_gateway {

// RFC 7231 IMF-fixdate ("Thu, 06 Jul 2023 17:30:00 GMT"), also valid as an RSS 2.0 (RFC 822)
// date.
std::string http_date(std::time_t t);
// Parses an IMF-fixdate; nullopt for anything else.
std::optional<std::time_t> parse_http_date(const std::string& value);
// RFC 3339 in UTC ("2023-07-06T17:30:00Z"), for Atom.
std::string rfc3339(std::time_t t);

// True when the If-None-Match value (a list, "*", weak or strong tags) names `etag`; the
// comparison is weak, as RFC 7232 section 3.2 asks for If-None-Match.
bool etag_matches(const std::string& if_none_match, const std::string& etag);

// "70.6 kB", "734 MB" (decimal units); French writes "70,6 ko", "734 Mo".
std::string human_size(uint64_t bytes, const std::string& lang);
// "0:04", "7:26", "1:02:03".
std::string clock_duration(double seconds);
// "MP4" from "video/mp4"; the subtype in upper case, "" when there is none.
std::string format_name(const std::string& content_type);

// True when `s` is 1..max_len ASCII digits.
bool all_digits(const std::string& s, size_t max_len);

}  // namespace natomedia::media_gateway
