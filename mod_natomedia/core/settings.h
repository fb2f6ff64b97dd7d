// Validation of directive values, shared by the module (while httpd reads its configuration) and
// natomedia-admin (which reads the same httpd.conf). Each returns Invalid with a message that says
// what would be right.
#pragma once

#include <cstdint>
#include <string>

#include <natomedia/status.h>

namespace natomedia::core {

Result<std::string> check_base_path(const std::string& value);
Result<std::string> check_public_url(const std::string& value);
// A whole number of seconds in [min, max].
Result<long> check_seconds(const std::string& value, long min, long max);
// A whole number of days in [min, max].
Result<long> check_days(const std::string& value, long min, long max);

// Ranges of server-wide directives that natomedia-admin reads too (one place for both).
struct Range {
  long min, max;
};
inline constexpr Range kSessionIdleRange{60, 2592000};   // NatoMediaSessionIdle, seconds
inline constexpr Range kSessionMaxRange{60, 31536000};   // NatoMediaSessionMax, seconds
inline constexpr Range kDownloadLogDaysRange{1, 36500};  // NatoMediaDownloadLogDays, days

Result<uint64_t> check_bytes(const std::string& value);
Result<std::string> check_directory(const std::string& value);  // realpath of an existing dir
Status check_readable_file(const std::string& path);

struct MailTransport {
  enum class Kind { kSmtp, kSmtps, kFile } kind = Kind::kFile;
  std::string url;   // for libcurl (smtp://host:port, smtps://host:port)
  std::string dir;   // kFile: messages go to dir/tmp then dir/new
};
Result<MailTransport> parse_mail_transport(const std::string& value);

}  // namespace natomedia::core
