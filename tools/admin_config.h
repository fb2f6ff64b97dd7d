// Reads the directives natomedia-admin needs from an httpd.conf, following Include and
// IncludeOptional (with wildcards) the way httpd does, relative to ServerRoot.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <natomedia/config.h>
#include <natomedia/status.h>

namespace natomedia::admin {

struct ConfigValues {
  // Last value of each directive (lower-case name), as httpd keeps the last one in a context.
  std::map<std::string, std::string> last;
  std::vector<std::string> plugins;  // every NatoMediaPlugin argument, in order
};

Result<ConfigValues> read_httpd_conf(const std::string& path);

// The server-wide values the plugins' retention rules read (NatoMediaSessionIdle,
// NatoMediaSessionMax, NatoMediaDownloadLogDays), checked as the module checks them, with the
// module's defaults where a directive is absent. Invalid names the directive.
Result<SiteConfig> server_config(const ConfigValues& values);

// Splits a directive line into words, honouring double quotes.
std::vector<std::string> split_words(const std::string& line);

}  // namespace natomedia::admin
