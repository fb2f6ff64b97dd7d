#include "core/i18n_catalogue.h"

#include <natomedia/text.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <utility>

namespace natomedia {
namespace core {
namespace {

namespace fs = std::filesystem;

// Where each key of one directory came from, to name both places of a duplicate.
struct Entry {
  std::string value;
  std::string origin;  // "file:line"
};
using DirStrings = std::map<std::string, std::map<std::string, Entry>>;  // lang -> key -> entry

// The language of a catalogue file name, or "" when the file is not a catalogue.
// "LL.strings" or "anything.LL.strings", LL two or three lower-case ASCII letters (ISO 639).
std::string file_language(const std::string& name) {
  const std::string ext = ".strings";
  if (name.size() <= ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
    return "";
  const std::string stem = name.substr(0, name.size() - ext.size());
  const size_t dot = stem.rfind('.');
  const std::string lang = dot == std::string::npos ? stem : stem.substr(dot + 1);
  if (dot == 0 || lang.size() < 2 || lang.size() > 3) return "";
  for (char c : lang)
    if (c < 'a' || c > 'z') return "";
  return lang;
}

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Turns \n into a newline and \\ into a backslash; false on any other escape.
bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (i + 1 == in.size()) return false;
    char next = in[++i];
    if (next == 'n') {
      out += '\n';
    } else if (next == '\\') {
      out += '\\';
    } else {
      return false;
    }
  }
  return true;
}

Status line_error(const std::string& file, int line, const std::string& what) {
  return Status::Invalid(file + ":" + std::to_string(line) + ": " + what);
}

// Parses one line into `key` and `value`; `skip` is set for blank lines and comments.
Status parse_line(std::string_view line, const std::string& file, int number, bool& skip,
                  std::string& key, std::string& value) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view body = text::trim(line);
  skip = body.empty() || body.front() == '#';
  if (skip) return Status::Ok();
  if (!text::valid_utf8(body)) return line_error(file, number, "not valid UTF-8");
  size_t eq = body.find('=');
  if (eq == std::string_view::npos) return line_error(file, number, "expected 'key = value'");
  std::string_view k = text::trim(body.substr(0, eq));
  if (!valid_key(k))
    return line_error(file, number, "bad key '" + std::string(k) + "' (use A-Z a-z 0-9 . _ -)");
  if (!unescape(text::trim(body.substr(eq + 1)), value))
    return line_error(file, number, "bad escape in value (only \\n and \\\\ are known)");
  key.assign(k);
  return Status::Ok();
}

Status read_file(const fs::path& path, const std::string& lang, DirStrings& dir) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read string catalogue " + file);
  std::string line;
  std::string key;
  std::string value;
  for (int number = 1; std::getline(in, line); ++number) {
    if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // BOM
    bool skip = false;
    Status s = parse_line(line, file, number, skip, key, value);
    if (!s.ok()) return s;
    if (skip) continue;
    std::string origin = file + ":" + std::to_string(number);
    auto [it, inserted] = dir[lang].try_emplace(key, Entry{value, origin});
    if (!inserted)
      return line_error(file, number, "key '" + key + "' already set at " + it->second.origin);
  }
  if (in.bad()) return Status::Invalid("error reading string catalogue " + file);
  return Status::Ok();
}

// The catalogue files of `dir`, sorted by name so loading is deterministic.
Result<std::vector<std::pair<fs::path, std::string>>> list_files(const std::string& dir) {
  std::vector<std::pair<fs::path, std::string>> files;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return files;
  fs::directory_iterator it(dir, ec);
  if (ec) return Status::Invalid("cannot list string directory " + dir + ": " + ec.message());
  for (const auto& entry : it) {
    std::string lang = file_language(entry.path().filename().string());
    if (!lang.empty() && entry.is_regular_file(ec)) files.emplace_back(entry.path(), lang);
  }
  std::sort(files.begin(), files.end());
  return files;
}

constexpr const char* kDaysEn[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                   "Thursday", "Friday", "Saturday"};
constexpr const char* kMonthsEn[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
constexpr const char* kDaysFr[] = {"dimanche", "lundi",    "mardi", "mercredi",
                                   "jeudi",    "vendredi", "samedi"};
constexpr const char* kMonthsFr[] = {"janvier",   "février", "mars",     "avril",
                                     "mai",       "juin",    "juillet",  "août",
                                     "septembre", "octobre", "novembre", "décembre"};

}  // namespace

Result<std::shared_ptr<Catalogue>> Catalogue::load(const std::vector<std::string>& dirs) {
  std::map<std::string, Strings> all;
  for (const std::string& dir : dirs) {
    auto files = list_files(dir);
    if (!files.ok()) return files.status();
    DirStrings strings;
    for (const auto& [path, lang] : *files) {
      Status s = read_file(path, lang, strings);
      if (!s.ok()) return s;
    }
    for (auto& [lang, entries] : strings)
      for (auto& [key, entry] : entries) all[lang].try_emplace(key, std::move(entry.value));
  }
  return std::make_shared<Catalogue>(std::move(all));
}

std::string Catalogue::text(const std::string& lang, const std::string& key) const {
  for (const std::string& l : {lang, std::string("en")}) {
    auto strings = strings_.find(l);
    if (strings == strings_.end()) continue;
    auto it = strings->second.find(key);
    if (it != strings->second.end()) return it->second;
  }
  return key;
}

std::vector<std::string> Catalogue::languages() const {
  std::vector<std::string> out{"en"};
  for (const auto& [lang, strings] : strings_)
    if (lang != "en" && !strings.empty()) out.push_back(lang);
  return out;
}

bool Catalogue::has(const std::string& lang, const std::string& key) const {
  auto strings = strings_.find(lang);
  return strings != strings_.end() && strings->second.count(key) > 0;
}

std::vector<std::string> Catalogue::keys(const std::string& lang) const {
  std::vector<std::string> out;
  auto strings = strings_.find(lang);
  if (strings == strings_.end()) return out;
  for (const auto& [key, value] : strings->second) out.push_back(key);
  return out;
}

std::string Catalogue::long_date(std::time_t t, const std::string& lang) const {
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  std::string day = std::to_string(tm.tm_mday);
  std::string year = std::to_string(tm.tm_year + 1900LL);
  if (lang == "fr") {
    if (tm.tm_mday == 1) day = "1er";  // French writes the first of the month as an ordinal
    return std::string(kDaysFr[tm.tm_wday]) + " " + day + " " + kMonthsFr[tm.tm_mon] + " " + year;
  }
  return std::string(kDaysEn[tm.tm_wday]) + " " + day + " " + kMonthsEn[tm.tm_mon] + " " + year;
}

}  // namespace core
}  // namespace natomedia
