// libFuzzer target: any template text, compiled and rendered with a fixed set of values (and a
// few partials on disk), must give a result or a Status, never a crash or a hang.
// Differential check of escaping: render() with the values must equal render_text() with the
// values (and catalogue texts) escaped beforehand. Any value reaching HTML unescaped breaks it.
#include <natomedia/text.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/i18n_catalogue.h"
#include "core/template_engine.h"

namespace {

using natomedia::Value;
using natomedia::Vars;
using natomedia::core::Catalogue;
using natomedia::core::TemplateEngine;

std::string g_dir;  // partials for {{> …}}, removed at exit

void remove_dir() {
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
}

void make_partials() {
  char tmpl[] = "/tmp/nm_fuzz_template_XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  g_dir = tmpl;
  std::atexit(remove_dir);
  const std::pair<const char*, const char*> files[] = {
      {"p.html", "<p>{{x}}{{#l}}[{{.}}]{{/l}}{{t:k}}</p>"},
      {"self.html", "{{> self.html}}"},
      {"bad.html", "{{#open}}"}};
  for (const auto& [name, content] : files)
    std::ofstream(g_dir + "/" + name, std::ios::binary) << content;
}

Catalogue::Strings escaped(const Catalogue::Strings& strings) {
  Catalogue::Strings out;
  for (const auto& [k, v] : strings) out[k] = natomedia::text::html_escape(v);
  return out;
}

// `v` with every plain string HTML-escaped; TrustedHtml stays as it is.
Value escaped(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return Value(natomedia::text::html_escape(v.str()));
    case Value::Kind::kList: {
      Value::List items;
      for (const Value& item : v.list()) items.push_back(escaped(item));
      return Value(std::move(items));
    }
    case Value::Kind::kMap: {
      Value::Map map;
      for (const auto& [k, item] : v.map()) map[k] = escaped(item);
      return Value(std::move(map));
    }
    default:
      return v;
  }
}

struct Setup {
  std::unique_ptr<TemplateEngine> html;  // the real catalogue
  std::unique_ptr<TemplateEngine> text;  // the catalogue's texts escaped
  Vars vars;
  Vars vars_escaped;
};

const Setup& setup() {
  static const Setup* s = [] {
    make_partials();
    Catalogue::Strings en{{"k", "<en & key>"}, {"only.en", "E'"}};
    Catalogue::Strings fr{{"k", "<fr & clé>"}};
    auto raw = std::make_shared<Catalogue>(
        std::map<std::string, Catalogue::Strings>{{"en", en}, {"fr", fr}});
    auto esc = std::make_shared<Catalogue>(
        std::map<std::string, Catalogue::Strings>{{"en", escaped(en)}, {"fr", escaped(fr)}});
    auto* out = new Setup;
    out->html = std::make_unique<TemplateEngine>(std::vector<std::string>{g_dir}, raw);
    out->text = std::make_unique<TemplateEngine>(std::vector<std::string>{g_dir}, esc);
    Value::List three{"<script>a</script>", "b&", "c\""};
    Vars inner{{"x", "<i>inner</i>"}, {"l", three}, {"t", true}, {"q", "'"}};
    out->vars = Vars{{"x", "<script>x</script>"},
                     {"y", ""},
                     {"n", 7},
                     {"t", true},
                     {"f", false},
                     {"l", three},
                     {"e", Value::List{}},
                     {"m", inner},
                     {"ml", Value::List{inner, inner}},
                     {"h", Value::TrustedHtml("<b>ok</b>")}};
    for (const auto& [k, v] : out->vars) out->vars_escaped[k] = escaped(v);
    return out;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  const Setup& s = setup();
  std::string lang = size % 2 ? "fr" : "en";
  auto html = s.html->render_string(source, s.vars, lang, /*html=*/true);
  auto text = s.text->render_string(source, s.vars_escaped, lang, /*html=*/false);
  if (html.ok() != text.ok()) std::abort();
  if (html.ok() && *html != *text) std::abort();
  if (!html.ok() && html.status().message().empty()) std::abort();
  // render_text() writes no more than render() does, so it fails only where render() fails;
  // render() alone may run out of output budget (Internal).
  auto plain = s.html->render_string(source, s.vars, lang, /*html=*/false);
  if (!plain.ok() && html.ok()) std::abort();
  if (plain.ok() && !html.ok() && html.status().code() != natomedia::Status::Code::kInternal)
    std::abort();
  return 0;
}
