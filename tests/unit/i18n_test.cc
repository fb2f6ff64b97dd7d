// Tests of core/i18n_catalogue: file format, precedence, fallback, dates, and the shipped strings.
#include <cppunit/extensions/HelperMacros.h>
#include <natomedia/text.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/i18n_catalogue.h"

using natomedia::core::Catalogue;

namespace {

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nm_i18n_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << content;
  }

 private:
  std::string path_;
};

std::shared_ptr<Catalogue> load_ok(const std::vector<std::string>& dirs) {
  auto c = Catalogue::load(dirs);
  CPPUNIT_ASSERT_MESSAGE(c.ok() ? "" : c.status().message(), c.ok());
  return *c;
}

std::time_t utc(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = 12;
  return timegm(&tm);
}

}  // namespace

class I18nTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(I18nTest);
  CPPUNIT_TEST(testFormat);
  CPPUNIT_TEST(testFallback);
  CPPUNIT_TEST(testEarlierDirWins);
  CPPUNIT_TEST(testFileNames);
  CPPUNIT_TEST(testMalformedLines);
  CPPUNIT_TEST(testDuplicateInOneDir);
  CPPUNIT_TEST(testMissingDirSkipped);
  CPPUNIT_TEST(testLongDate);
  CPPUNIT_TEST(testShippedStrings);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFormat() {
    TempDir d;
    d.write("core.en.strings",
            "\xEF\xBB\xBF# comment\n\n  greeting =  Hello, world  \r\n"
            "multi = one\\ntwo\nslash = a\\\\b\nempty =\neq = a = b\n   # indented comment\n");
    auto c = load_ok({d.path()});
    CPPUNIT_ASSERT_EQUAL(std::string("Hello, world"), c->text("en", "greeting"));
    CPPUNIT_ASSERT_EQUAL(std::string("one\ntwo"), c->text("en", "multi"));
    CPPUNIT_ASSERT_EQUAL(std::string("a\\b"), c->text("en", "slash"));
    CPPUNIT_ASSERT_EQUAL(std::string(), c->text("en", "empty"));
    CPPUNIT_ASSERT_EQUAL(std::string("a = b"), c->text("en", "eq"));
    CPPUNIT_ASSERT_EQUAL(size_t(5), c->keys("en").size());
  }

  void testFallback() {
    TempDir d;
    d.write("x.en.strings", "both = English\nonly.en = Only English\n");
    d.write("x.fr.strings", "both = Français\n");
    auto c = load_ok({d.path()});
    CPPUNIT_ASSERT_EQUAL(std::string("Français"), c->text("fr", "both"));
    CPPUNIT_ASSERT_EQUAL(std::string("English"), c->text("en", "both"));
    CPPUNIT_ASSERT_EQUAL(std::string("Only English"), c->text("fr", "only.en"));
    CPPUNIT_ASSERT_EQUAL(std::string("Only English"), c->text("de", "only.en"));
    CPPUNIT_ASSERT_EQUAL(std::string("no.such.key"), c->text("fr", "no.such.key"));
    CPPUNIT_ASSERT(c->has("fr", "both"));
    CPPUNIT_ASSERT(!c->has("fr", "only.en"));
  }

  void testEarlierDirWins() {
    TempDir site, defaults;
    site.write("site.en.strings", "site.name = My Site\n");
    site.write("fr.strings", "nav.news = Nouvelles\n");
    defaults.write("core.en.strings", "site.name = Default\nnav.news = News\n");
    defaults.write("core.fr.strings", "site.name = Défaut\nnav.news = Actualités\n");
    auto c = load_ok({site.path(), defaults.path()});
    CPPUNIT_ASSERT_EQUAL(std::string("My Site"), c->text("en", "site.name"));
    CPPUNIT_ASSERT_EQUAL(std::string("Défaut"), c->text("fr", "site.name"));
    CPPUNIT_ASSERT_EQUAL(std::string("Nouvelles"), c->text("fr", "nav.news"));
    CPPUNIT_ASSERT_EQUAL(std::string("News"), c->text("en", "nav.news"));
    auto reversed = load_ok({defaults.path(), site.path()});
    CPPUNIT_ASSERT_EQUAL(std::string("Default"), reversed->text("en", "site.name"));
  }

  void testFileNames() {
    TempDir d;
    d.write("en.strings", "a = 1\n");
    d.write("plugin.fr.strings", "b = 2\n");
    d.write("notes.txt", "this is not = a catalogue\nbroken line\n");
    d.write("x.de.strings", "c = 3\n");
    d.write("en.strings.bak", "broken line\n");
    auto c = load_ok({d.path()});
    CPPUNIT_ASSERT_EQUAL(std::string("1"), c->text("en", "a"));
    CPPUNIT_ASSERT_EQUAL(std::string("2"), c->text("fr", "b"));
    // Any NAME.LL.strings is a language (section 13): German from x.de.strings.
    CPPUNIT_ASSERT_EQUAL(std::string("3"), c->text("de", "c"));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), c->text("de", "a"));  // English where German has none
    const std::vector<std::string> langs{"en", "de", "fr"};
    CPPUNIT_ASSERT(c->languages() == langs);
    TempDir odd;
    odd.write("x.DE.strings", "d = 4\n");
    odd.write("x.germ.strings", "d = 4\n");
    odd.write(".de.strings", "d = 4\n");
    CPPUNIT_ASSERT(load_ok({odd.path()})->languages() == std::vector<std::string>{"en"});
  }

  void testMalformedLines() {
    const std::pair<const char*, const char*> cases[] = {
        {"ok = 1\nno equals sign\n", ":2:"}, {"ok = 1\n\n = value\n", ":3:"},
        {"bad key! = 1\n", ":1:"},           {"k = bad \\t escape\n", ":1:"},
        {"k = trailing \\\n", ":1:"},        {"a = 1\nb = \xC3\x28\n", ":2:"},
    };
    for (const auto& [content, where] : cases) {
      TempDir d;
      d.write("core.en.strings", content);
      auto c = Catalogue::load({d.path()});
      CPPUNIT_ASSERT_MESSAGE(content, !c.ok());
      const std::string& m = c.status().message();
      CPPUNIT_ASSERT_MESSAGE(m, m.find(d.path() + "/core.en.strings" + where) != std::string::npos);
    }
  }

  void testDuplicateInOneDir() {
    TempDir d;
    d.write("a.en.strings", "k = 1\n");
    d.write("b.en.strings", "\nk = 2\n");
    auto c = Catalogue::load({d.path()});
    CPPUNIT_ASSERT(!c.ok());
    const std::string& m = c.status().message();
    CPPUNIT_ASSERT_MESSAGE(m, m.find("b.en.strings:2") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(m, m.find("a.en.strings:1") != std::string::npos);
  }

  void testMissingDirSkipped() {
    TempDir d;
    d.write("core.en.strings", "k = v\n");
    auto c = load_ok({"/nonexistent/nm/i18n", d.path()});
    CPPUNIT_ASSERT_EQUAL(std::string("v"), c->text("en", "k"));
  }

  void testLongDate() {
    Catalogue c({});
    std::time_t t = utc(2023, 7, 6);
    CPPUNIT_ASSERT_EQUAL(std::string("Thursday 6 July 2023"), c.long_date(t, "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("jeudi 6 juillet 2023"), c.long_date(t, "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("Thursday 6 July 2023"), c.long_date(t, "de"));
    // 23:30 UTC on 6 July is still the 6th, whatever TZ says.
    setenv("TZ", "Pacific/Auckland", 1);
    tzset();
    CPPUNIT_ASSERT_EQUAL(std::string("jeudi 6 juillet 2023"),
                         c.long_date(t + 11 * 3600 + 1800, "fr"));
    unsetenv("TZ");
    tzset();
    CPPUNIT_ASSERT_EQUAL(std::string("mardi 1er août 2023"), c.long_date(utc(2023, 8, 1), "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("Tuesday 1 August 2023"),
                         c.long_date(utc(2023, 8, 1), "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("dimanche 31 décembre 2023"),
                         c.long_date(utc(2023, 12, 31), "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("samedi 29 février 2020"),
                         c.long_date(utc(2020, 2, 29), "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("Thursday 1 January 1970"), c.long_date(0, "en"));
  }

  void testShippedStrings() {
    auto c = load_ok({std::string(NM_SOURCE_DIR) + "/share/i18n"});
    std::vector<std::string> required = {
        "site.name",  "site.tagline", "nav.news",    "nav.videos",    "nav.account",    "nav.login",
        "nav.logout", "nav.register", "lang.switch", "lang.fallback", "skip.to.content"};
    for (int code : {400, 403, 404, 405, 410, 413, 422, 429, 500, 503}) {
      required.push_back("error." + std::to_string(code) + ".title");
      required.push_back("error." + std::to_string(code) + ".message");
    }
    for (const std::string& key : required) {
      CPPUNIT_ASSERT_MESSAGE("en lacks " + key, c->has("en", key));
      CPPUNIT_ASSERT_MESSAGE("fr lacks " + key, c->has("fr", key));
      CPPUNIT_ASSERT_MESSAGE("untranslated: " + key, c->text("en", key) != c->text("fr", key));
      CPPUNIT_ASSERT(natomedia::text::valid_utf8(c->text("fr", key)));
    }
    for (const std::string& key : c->keys("fr"))
      CPPUNIT_ASSERT_MESSAGE("fr has a key en lacks: " + key, c->has("en", key));
    CPPUNIT_ASSERT_EQUAL(std::string("NATO MULTIMEDIA ACCOUNT"), c->text("en", "site.name"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("Access NATO’s broadcast-quality video content free of charge"),
        c->text("en", "site.tagline"));
    CPPUNIT_ASSERT_EQUAL(std::string("Français"), c->text("en", "lang.switch"));
    CPPUNIT_ASSERT_EQUAL(std::string("English"), c->text("fr", "lang.switch"));
    CPPUNIT_ASSERT(c->text("en", "error.503.message").find("try again later") != std::string::npos);
    CPPUNIT_ASSERT(c->text("fr", "error.503.message").find("réessayer plus tard") !=
                   std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(I18nTest);
