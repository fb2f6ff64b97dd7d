#include "formatting.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace natomedia::media_gateway {

namespace {

const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string trim_spaces(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// An entity tag without its weakness marker, for weak comparison.
std::string opaque_tag(const std::string& tag) {
  return tag.rfind("W/", 0) == 0 ? tag.substr(2) : tag;
}

}  // namespace

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<std::time_t> parse_http_date(const std::string& value) {
  char day[4] = {}, month[4] = {}, zone[4] = {};
  int mday = 0, year = 0, hour = 0, min = 0, sec = 0, used = 0;
  if (value.size() != 29 ||
      std::sscanf(value.c_str(), "%3s, %d %3s %d %d:%d:%d %3s%n", day, &mday, month, &year,
                  &hour, &min, &sec, zone, &used) != 8 ||
      used != 29 || std::strcmp(zone, "GMT") != 0)
    return std::nullopt;
  std::tm tm{};
  for (int m = 0; m < 12; ++m)
    if (std::strcmp(month, kMonths[m]) == 0) tm.tm_mon = m + 1;
  if (tm.tm_mon == 0 || mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60)
    return std::nullopt;
  tm.tm_mon -= 1;
  tm.tm_mday = mday;
  tm.tm_year = year - 1900;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return timegm(&tm);
}

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  const std::string want = opaque_tag(etag);
  size_t start = 0;
  while (start <= if_none_match.size()) {
    size_t comma = if_none_match.find(',', start);
    if (comma == std::string::npos) comma = if_none_match.size();
    const std::string tag = trim_spaces(if_none_match.substr(start, comma - start));
    if (tag == "*" || (!tag.empty() && opaque_tag(tag) == want)) return true;
    start = comma + 1;
  }
  return false;
}

std::string human_size(uint64_t bytes, const std::string& lang) {
  const bool fr = lang == "fr";
  const std::vector<const char*> units = fr ? std::vector<const char*>{"o", "ko", "Mo", "Go", "To"}
                                            : std::vector<const char*>{"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1000 && u + 1 < units.size()) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0 || v >= 100)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string number = buf;
  if (fr)
    for (char& c : number)
      if (c == '.') c = ',';
  // French puts a no-break space between a number and its unit.
  return number + (fr ? "\u00a0" : " ") + units[u];
}

std::string clock_duration(double seconds) {
  if (!(seconds > 0)) seconds = 0;
  long total = std::lround(seconds);
  long h = total / 3600, m = total / 60 % 60, s = total % 60;
  char buf[32];
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", h, m, s);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", m, s);
  return buf;
}

std::string format_name(const std::string& content_type) {
  size_t slash = content_type.find('/');
  if (slash == std::string::npos) return "";
  std::string sub = content_type.substr(slash + 1, content_type.find(';') - slash - 1);
  for (char& c : sub)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return sub;
}

bool all_digits(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace natomedia::media_gateway
