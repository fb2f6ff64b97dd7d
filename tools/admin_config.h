// Reads the directives natomedia-admin needs from an httpd.conf, following Include and
// IncludeOptional (with wildcards) the way httpd does, relative to ServerRoot.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <natomedia/status.h>

namespace natomedia::admin {

struct ConfigValues {
  // Last value of each directive (lower-case name), as httpd keeps the last one in a context.
  std::map<std::string, std::string> last;
  std::vector<std::string> plugins;  // every NatoMediaPlugin argument, in order
};

Result<ConfigValues> read_httpd_conf(const std::string& path);

// Splits a directive line into words, honouring double quotes.
std::vector<std::string> split_words(const std::string& line);

}  // namespace natomedia::admin
