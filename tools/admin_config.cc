#include "admin_config.h"

#include <glob.h>

#include <algorithm>
#include <fstream>

#include "core/settings.h"

namespace natomedia::admin {

Result<SiteConfig> server_config(const ConfigValues& values) {
  SiteConfig config;
  struct Setting {
    const char* directive;
    long* field;
    core::Range range;
    bool days;
  };
  const Setting settings[] = {
      {"NatoMediaSessionIdle", &config.session_idle, core::kSessionIdleRange, false},
      {"NatoMediaSessionMax", &config.session_max, core::kSessionMaxRange, false},
      {"NatoMediaDownloadLogDays", &config.download_log_days, core::kDownloadLogDaysRange, true},
  };
  for (const auto& s : settings) {
    std::string key = s.directive;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    auto it = values.last.find(key);
    if (it == values.last.end()) continue;
    auto v = s.days ? core::check_days(it->second, s.range.min, s.range.max)
                    : core::check_seconds(it->second, s.range.min, s.range.max);
    if (!v.ok()) return Status::Invalid(std::string(s.directive) + ": " + v.status().message());
    *s.field = *v;
  }
  return config;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string cur;
  bool quoted = false, have = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '\\' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = have = true;
    } else if (c == ' ' || c == '\t') {
      if (have) words.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) words.push_back(cur);
  return words;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

Status read_file(const std::string& path, std::string& server_root, ConfigValues& out, int depth,
                 bool optional) {
  if (depth > 16) return Status::Invalid(path + ": Include nested too deep");
  std::ifstream in(path);
  if (!in) {
    if (optional) return Status::Ok();
    return Status::Invalid("cannot read " + path);
  }
  std::string line, logical;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {  // continuation
      logical += line.substr(0, line.size() - 1);
      continue;
    }
    logical += line;
    auto words = split_words(logical);
    logical.clear();
    if (words.empty() || words[0][0] == '#') continue;
    std::string name = lower(words[0]);
    if (name == "serverroot" && words.size() > 1) server_root = words[1];
    if ((name == "include" || name == "includeoptional") && words.size() > 1) {
      std::string pattern = words[1];
      if (pattern[0] != '/') pattern = server_root + "/" + pattern;
      glob_t g;
      int rc = glob(pattern.c_str(), 0, nullptr, &g);
      if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) {
          Status s = read_file(g.gl_pathv[i], server_root, out, depth + 1, name == "includeoptional");
          if (!s.ok()) {
            globfree(&g);
            return s;
          }
        }
      } else if (name == "include" && pattern.find_first_of("*?[") == std::string::npos) {
        globfree(&g);
        return Status::Invalid(path + ": Include " + words[1] + ": no such file");
      }
      globfree(&g);
      continue;
    }
    if (words.size() < 2) continue;
    if (name == "natomediaplugin") {
      out.plugins.insert(out.plugins.end(), words.begin() + 1, words.end());
      continue;
    }
    out.last[name] = words[1];
  }
  return Status::Ok();
}

}  // namespace

Result<ConfigValues> read_httpd_conf(const std::string& path) {
  ConfigValues values;
  std::string root = path.substr(0, path.rfind('/'));
  if (root.empty()) root = ".";
  Status s = read_file(path, root, values, 0, false);
  if (!s.ok()) return s;
  return values;
}

}  // namespace natomedia::admin
