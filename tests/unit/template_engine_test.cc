// Tests of core/template_engine: syntax, escaping, lookup order, partials, catalogue texts,
// errors and name refusal. Template files live in temporary directories.
#include "core/template_engine.h"

#include <cppunit/extensions/HelperMacros.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/i18n_catalogue.h"

using natomedia::Status;
using natomedia::Value;
using natomedia::Vars;
using natomedia::core::Catalogue;
using natomedia::core::TemplateEngine;

namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nm_tmpl_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

 private:
  std::string path_;
};

std::shared_ptr<Catalogue> catalogue() {
  std::map<std::string, Catalogue::Strings> strings;
  strings["en"] = {{"greet", "Hello & welcome"}, {"only.en", "English only"}, {"tag", "<b>"}};
  strings["fr"] = {{"greet", "Bonjour et bienvenue"}};
  return std::make_shared<Catalogue>(std::move(strings));
}

std::string must(const natomedia::Result<std::string>& r) {
  CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
  return *r;
}

}  // namespace

class TemplateEngineTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TemplateEngineTest);
  CPPUNIT_TEST(testVariablesAndEscaping);
  CPPUNIT_TEST(testTrustedHtml);
  CPPUNIT_TEST(testRenderTextDoesNotEscape);
  CPPUNIT_TEST(testDottedAndContextStack);
  CPPUNIT_TEST(testLists);
  CPPUNIT_TEST(testSectionsAndInverted);
  CPPUNIT_TEST(testStandaloneLines);
  CPPUNIT_TEST(testTranslations);
  CPPUNIT_TEST(testComments);
  CPPUNIT_TEST(testFilesAndOverrides);
  CPPUNIT_TEST(testPartials);
  CPPUNIT_TEST(testPartialDepthLimit);
  CPPUNIT_TEST(testSyntaxErrors);
  CPPUNIT_TEST(testNameRefusal);
  CPPUNIT_TEST(testNotFound);
  CPPUNIT_TEST(testRenderBudget);
  CPPUNIT_TEST(testConcurrentRenders);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    engine_ = std::make_unique<TemplateEngine>(std::vector<std::string>{}, catalogue());
  }

  std::string html(const std::string& src, const Vars& vars, const std::string& lang = "en") {
    return must(engine_->render_string(src, vars, lang, true));
  }
  std::string plain(const std::string& src, const Vars& vars, const std::string& lang = "en") {
    return must(engine_->render_string(src, vars, lang, false));
  }

  void testVariablesAndEscaping() {
    Vars v{{"name", "<script>alert('x')</script>"}, {"n", 42}, {"yes", true}, {"amp", "a&b\"c"}};
    CPPUNIT_ASSERT_EQUAL(std::string("Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;!"),
                         html("Hi {{name}}!", v));
    CPPUNIT_ASSERT_EQUAL(std::string("42 true a&amp;b&quot;c"), html("{{n}} {{ yes }} {{amp}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("[]"), html("[{{missing}}{{missing.deeper}}]", v));
    CPPUNIT_ASSERT_EQUAL(
        std::string("<a href=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\">"),
        html("<a href=\"{{name}}\">", v));
    CPPUNIT_ASSERT_EQUAL(std::string("no tags } here {"), html("no tags } here {", v));
  }

  void testTrustedHtml() {
    Vars v{{"body", Value::TrustedHtml("<p>ok</p>")}, {"plain", "<p>no</p>"}};
    CPPUNIT_ASSERT_EQUAL(std::string("<p>ok</p>&lt;p&gt;no&lt;/p&gt;"),
                         html("{{body}}{{plain}}", v));
  }

  void testRenderTextDoesNotEscape() {
    Vars v{{"subject", "Code <123> & \"you\""}};
    CPPUNIT_ASSERT_EQUAL(std::string("Code <123> & \"you\" / <b>"),
                         plain("{{subject}} / {{t:tag}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("&lt;b&gt;"), html("{{t:tag}}", v));
  }

  void testDottedAndContextStack() {
    Vars v{{"account", Vars{{"email", "a@b.org"}, {"prefs", Vars{{"lang", "fr"}}}}},
           {"title", "Outer"},
           {"items", Value::List{Vars{{"title", "Inner"}}, Vars{{"other", "x"}}}}};
    CPPUNIT_ASSERT_EQUAL(std::string("a@b.org fr"),
                         html("{{account.email}} {{account.prefs.lang}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string(""), html("{{account.email.more}}{{title.x}}", v));
    // Inside a list item, a name the item lacks is found further out.
    CPPUNIT_ASSERT_EQUAL(std::string("Inner;Outer;"), html("{{#items}}{{title}};{{/items}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("a@b.org"), html("{{#account}}{{email}}{{/account}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("fr/a@b.org"),
                         html("{{#account.prefs}}{{lang}}/{{account.email}}{{/account.prefs}}", v));
  }

  void testLists() {
    Vars v{{"tags", Value::List{"a<", "b", "c"}},
           {"empty", Value::List{}},
           {"rows", Value::List{Vars{{"id", 1}, {"cells", Value::List{"x", "y"}}},
                                Vars{{"id", 2}, {"cells", Value::List{}}}}}};
    CPPUNIT_ASSERT_EQUAL(std::string("<li>a&lt;</li><li>b</li><li>c</li>"),
                         html("{{#tags}}<li>{{.}}</li>{{/tags}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("none"),
                         html("{{#empty}}item{{/empty}}{{^empty}}none{{/empty}}", v));
    CPPUNIT_ASSERT_EQUAL(
        std::string("1:xy|2:-|"),
        html("{{#rows}}{{id}}:{{#cells}}{{.}}{{/cells}}{{^cells}}-{{/cells}}|{{/rows}}", v));
  }

  void testSectionsAndInverted() {
    Vars v{{"t", true}, {"f", false}, {"s", "text"}, {"e", ""}, {"m", Vars{}}};
    CPPUNIT_ASSERT_EQUAL(std::string("T"), html("{{#t}}T{{/t}}{{#f}}F{{/f}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("F"), html("{{^t}}T{{/t}}{{^f}}F{{/f}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("[text]"), html("{{#s}}[{{.}}]{{/s}}{{#e}}E{{/e}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("E M"), html("{{^e}}E{{/e}} {{#m}}M{{/m}}", v));
    CPPUNIT_ASSERT_EQUAL(std::string("missing"),
                         html("{{#nope}}x{{/nope}}{{^nope}}missing{{/nope}}", v));
  }

  void testStandaloneLines() {
    Vars v{{"items", Value::List{"a", "b"}}, {"show", false}};
    std::string src =
        "Items:\n  {{#items}}\n- {{.}}\n  {{/items}}\n{{! note "
        "}}\n{{^show}}\nhidden\n{{/show}}\nend {{#show}}x{{/show}}\n";
    CPPUNIT_ASSERT_EQUAL(std::string("Items:\n- a\n- b\nhidden\nend \n"), plain(src, v));
    CPPUNIT_ASSERT_EQUAL(std::string("a\r\nb"), plain("{{#show}}\r\n{{/show}}a\r\n{{!c}}\r\nb", v));
  }

  void testTranslations() {
    Vars v;
    CPPUNIT_ASSERT_EQUAL(std::string("Hello &amp; welcome"), html("{{t:greet}}", v, "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("Bonjour et bienvenue"), html("{{ t:greet }}", v, "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("English only"), html("{{t:only.en}}", v, "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("no.such.key"), html("{{t:no.such.key}}", v, "fr"));
    TemplateEngine without({}, nullptr);
    CPPUNIT_ASSERT_EQUAL(std::string("greet"),
                         must(without.render_string("{{t:greet}}", v, "en", true)));
  }

  void testComments() {
    CPPUNIT_ASSERT_EQUAL(std::string("ab"), html("a{{! a comment with {{ and\n newlines }}b", {}));
  }

  void testFilesAndOverrides() {
    TempDir site, defaults;
    defaults.write("core/page.html", "default {{x}}");
    defaults.write("core/only_default.html", "only default");
    site.write("core/page.html", "site {{x}}");
    TemplateEngine engine({site.path(), defaults.path()}, catalogue());
    Vars v{{"x", "<i>"}};
    CPPUNIT_ASSERT_EQUAL(std::string("site &lt;i&gt;"),
                         must(engine.render("core/page.html", v, "en")));
    CPPUNIT_ASSERT_EQUAL(std::string("site <i>"),
                         must(engine.render_text("core/page.html", v, "en")));
    CPPUNIT_ASSERT_EQUAL(std::string("only default"),
                         must(engine.render("core/only_default.html", v, "en")));
    TemplateEngine reversed({defaults.path(), site.path()}, catalogue());
    CPPUNIT_ASSERT_EQUAL(std::string("default &lt;i&gt;"),
                         must(reversed.render("core/page.html", v, "en")));
    // Compiled once and cached: the file changing on disk is not seen.
    site.write("core/page.html", "changed");
    CPPUNIT_ASSERT_EQUAL(std::string("site &lt;i&gt;"),
                         must(engine.render("core/page.html", v, "en")));
  }

  void testPartials() {
    TempDir site, defaults;
    defaults.write("core/layout.html",
                   "<main>{{> core/header.html}}|{{#items}}{{>core/item.html}}{{/items}}</main>");
    defaults.write("core/header.html", "<h1>{{title}}</h1>");
    defaults.write("core/item.html", "[{{name}}/{{title}}]");
    site.write("core/header.html", "<h1 class=site>{{title}} {{t:greet}}</h1>");
    TemplateEngine engine({site.path(), defaults.path()}, catalogue());
    Vars v{{"title", "T&C"}, {"items", Value::List{Vars{{"name", "<a>"}}, Vars{{"name", "b"}}}}};
    CPPUNIT_ASSERT_EQUAL(std::string("<main><h1 class=site>T&amp;C Bonjour et "
                                     "bienvenue</h1>|[&lt;a&gt;/T&amp;C][b/T&amp;C]</main>"),
                         must(engine.render("core/layout.html", v, "fr")));
    CPPUNIT_ASSERT_EQUAL(std::string("x<h1 class=site>T&C Hello & welcome</h1>"),
                         must(engine.render_string("x{{> core/header.html}}", v, "en", false)));
  }

  void testPartialDepthLimit() {
    TempDir d;
    d.write("self.html", "a{{> self.html}}");
    for (int i = 0; i < 10; ++i)
      d.write("chain" + std::to_string(i) + ".html",
              std::to_string(i) + "{{> chain" + std::to_string(i + 1) + ".html}}");
    d.write("chain10.html", "end");
    TemplateEngine engine({d.path()}, nullptr);
    auto r = engine.render("self.html", {}, "en");
    CPPUNIT_ASSERT(!r.ok());
    CPPUNIT_ASSERT_MESSAGE(r.status().message(),
                           r.status().message().find("self.html") != std::string::npos);
    // Exactly ten partials deep is allowed.
    CPPUNIT_ASSERT_EQUAL(std::string("0123456789end"),
                         must(engine.render("chain0.html", {}, "en")));
    d.write("chain10.html", "{{> chain11.html}}");
    d.write("chain11.html", "too deep");
    TemplateEngine fresh({d.path()}, nullptr);
    CPPUNIT_ASSERT(!fresh.render("chain0.html", {}, "en").ok());
  }

  void testSyntaxErrors() {
    TempDir d;
    d.write("core/unclosed.html", "line1\n{{#a}}\nline3\n");
    d.write("core/mismatch.html", "{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}");
    d.write("core/stray.html", "ok\n\n{{/x}}");
    d.write("core/open_tag.html", "a\nb {{name");
    d.write("core/triple.html", "{{{raw}}}");
    d.write("core/bad_name.html", "{{a..b}}");
    d.write("core/bad_partial.html", "{{> ../etc/passwd}}");
    d.write("core/empty.html", "x{{}}");
    d.write("core/uses_bad.html", "fine\n{{> core/unclosed.html}}");
    const std::pair<const char*, const char*> cases[] = {
        {"core/unclosed.html", "line 2"},
        {"core/mismatch.html", "line 3"},
        {"core/stray.html", "line 3"},
        {"core/open_tag.html", "line 2"},
        {"core/triple.html", "line 1"},
        {"core/bad_name.html", "line 1"},
        {"core/bad_partial.html", "line 1"},
        {"core/empty.html", "line 1"},
        {"core/uses_bad.html", "core/unclosed.html"}};
    TemplateEngine engine({d.path()}, nullptr);
    for (const auto& [name, where] : cases) {
      auto r = engine.render(name, {}, "en");
      CPPUNIT_ASSERT_MESSAGE(name, !r.ok());
      const std::string& m = r.status().message();
      CPPUNIT_ASSERT_MESSAGE(m, m.find(where) != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(m, m.find(name) != std::string::npos);
    }
    auto mismatch = engine.render("core/mismatch.html", {}, "en");
    CPPUNIT_ASSERT(mismatch.status().code() == Status::Code::kInvalid);
    CPPUNIT_ASSERT(!engine_->render_string("{{#a}}{{/b}}", {}, "en", true).ok());
    CPPUNIT_ASSERT(!engine_->render_string("{{=<% %>=}}", {}, "en", true).ok());
  }

  void testNameRefusal() {
    TempDir d;
    d.write("inside/ok.html", "ok");
    std::string secret_dir = d.path() + "/inside";
    TemplateEngine engine({secret_dir}, nullptr);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), must(engine.render("ok.html", {}, "en")));
    const std::string refused[] = {
        "",   "/etc/passwd", "../inside/ok.html",          "a/../ok.html", "a/..",
        "..", "a\\ok.html",  std::string("ok.html\0x", 9), "ok\n.html"};
    for (const std::string& name : refused) {
      auto r = engine.render(name, {}, "en");
      CPPUNIT_ASSERT_MESSAGE(name, !r.ok());
      CPPUNIT_ASSERT_MESSAGE(name, r.status().code() == Status::Code::kInvalid);
    }
    CPPUNIT_ASSERT(!TemplateEngine::check_name("x/../../y").ok());
    CPPUNIT_ASSERT(TemplateEngine::check_name("core/layout.html").ok());
  }

  void testNotFound() {
    TempDir d;
    TemplateEngine engine({d.path()}, nullptr);
    auto r = engine.render("core/none.html", {}, "en");
    CPPUNIT_ASSERT(r.status().code() == Status::Code::kNotFound);
    CPPUNIT_ASSERT(r.status().message().find("core/none.html") != std::string::npos);
    d.write("uses.html", "{{> core/none.html}}");
    auto p = engine.render("uses.html", {}, "en");
    CPPUNIT_ASSERT(p.status().code() == Status::Code::kNotFound);
    CPPUNIT_ASSERT(p.status().message().find("core/none.html") != std::string::npos);
    CPPUNIT_ASSERT(p.status().message().find("uses.html") != std::string::npos);
    d.write("dir.html/x", "");  // a directory is not a template
    CPPUNIT_ASSERT(engine.render("dir.html", {}, "en").status().code() == Status::Code::kNotFound);
  }

  void testRenderBudget() {
    // Nested lists multiply: 10^8 iterations must stop with an error, not hang.
    Value::List ten(10, Value("x"));
    Vars v{{"l", ten}};
    std::string src;
    for (int i = 0; i < 8; ++i) src += "{{#l}}";
    src += "{{.}}";
    for (int i = 0; i < 8; ++i) src += "{{/l}}";
    CPPUNIT_ASSERT(!engine_->render_string(src, v, "en", true).ok());
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "{{#a}}";
    CPPUNIT_ASSERT(!engine_->render_string(deep, v, "en", true).ok());
  }

  void testConcurrentRenders() {
    TempDir d;
    for (int i = 0; i < 8; ++i)
      d.write("t" + std::to_string(i) + ".html",
              "{{#xs}}{{.}}{{/xs}}-" + std::to_string(i) + "{{> p.html}}");
    d.write("p.html", "!{{t:greet}}");
    TemplateEngine engine({d.path()}, catalogue());
    Vars v{{"xs", Value::List{"a", "b"}}};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < 200; ++k) {
          int i = (k + t) % 8;
          auto r = engine.render("t" + std::to_string(i) + ".html", v, "fr");
          if (!r.ok() || *r != "ab-" + std::to_string(i) + "!Bonjour et bienvenue") ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CPPUNIT_ASSERT_EQUAL(0, failures.load());
  }

 private:
  std::unique_ptr<TemplateEngine> engine_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(TemplateEngineTest);
