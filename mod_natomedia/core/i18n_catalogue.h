// The string catalogue: the UI texts in English and French, read once at start-up.
//
// Files: every `*.LL.strings` or `LL.strings` in each directory given to load(), LL a language
// code of two or three lower-case letters (`natomedia.de.strings` adds German; the languages of
// the portal are the ones that have files, English always first). Format, UTF-8, one entry a line:
//
//   # a comment
//   error.404.title = Page not found
//   mail.body = First line\nSecond line      (\n is a newline, \\ a backslash)
//
// Blank lines and lines starting with '#' are ignored; spaces around the key and the value are
// trimmed. Keys are made of A-Z a-z 0-9 . _ -. Directories come in priority order: a key from an
// earlier directory wins over the same key from a later one, so a site directory listed first
// overrides the defaults. The same key twice in one directory is an error, as is a malformed
// line; both name the file and the line. A directory that does not exist is skipped.
//
// A loaded Catalogue is immutable: every call is thread-safe.
#pragma once

#include <natomedia/services.h>
#include <natomedia/status.h>

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace natomedia {
namespace core {

class Catalogue : public natomedia::I18n {
 public:
  using Strings = std::map<std::string, std::string>;  // key -> text

  static Result<std::shared_ptr<Catalogue>> load(const std::vector<std::string>& dirs);
  // A catalogue from strings already in memory (tests, tools): lang -> key -> text.
  explicit Catalogue(std::map<std::string, Strings> strings) : strings_(std::move(strings)) {}

  // `lang`'s text, else the English text, else `key` itself.
  std::string text(const std::string& lang, const std::string& key) const override;
  // en "Thursday 6 July 2023", fr "jeudi 6 juillet 2023"; UTC; names from this code, never
  // from the process locale. Any language other than "fr" gets English.
  std::string long_date(std::time_t t, const std::string& lang) const override;

  // "en" first, then every other language that has strings, in code order.
  std::vector<std::string> languages() const override;

  // True when `lang` itself has `key` (a page marks English shown in place of French).
  bool has(const std::string& lang, const std::string& key) const;
  // The keys of `lang`, sorted.
  std::vector<std::string> keys(const std::string& lang) const;

 private:
  std::map<std::string, Strings> strings_;
};

}  // namespace core
}  // namespace natomedia
