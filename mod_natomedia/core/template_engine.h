// The template engine behind natomedia::Templates: a small Mustache dialect that escapes by
// default.
//
// Syntax
//   {{name}}           the value of `name`; dotted {{a.b}} looks `a` up, then `b` inside it
//   {{.}}              the current item (inside a list section)
//   {{#x}}…{{/x}}      a list: the body once per item, with the item as the context;
//                      a map: the body once, with the map pushed as the context;
//                      any other truthy value: the body once; falsy (null, false, "", []): nothing
//   {{^x}}…{{/x}}      the body once when x is falsy
//   {{> dir/name.html}} a partial, looked up like any template, rendered with the current context
//                      (at most 10 partials deep)
//   {{t:key}}          the string catalogue's text for `key` in the render's language
//   {{! comment}}      nothing
// Names are made of A-Z a-z 0-9 _ - and '.' separators. A name is looked up in the innermost
// context first, then outward to the vars the render started with; a missing one renders as "".
// A line holding only a section, inverted, closing or comment tag (and white space) disappears
// whole, so templates of text mails can put tags on their own lines.
//
// Escaping: render() HTML-escapes every value and every catalogue text (text::html_escape)
// except a Value::TrustedHtml; render_text() writes them as they are (text mail parts, subjects).
// Booleans render as "true"/"false", lists and maps as "".
//
// Template names are relative paths ("core/layout.html"). A name that is empty, absolute, holds
// "..", a backslash or a control character is refused (Invalid). The first search directory
// holding the file wins: directories are given in priority order, site overrides first. An
// unknown name is NotFound naming it; a syntax error (unclosed or mismatched section, bad tag)
// is Invalid naming the template and the line (a partial's failure also names where it was
// included). A render that goes past its limits below (partial depth, work, output size) is
// Internal: a template bug, never the visitor's.
//
// Thread-safety: every const method may be called from many threads at once. Compiled templates
// are cached per resolved file path (under a shared_mutex) for the engine's lifetime; a changed
// file is seen after a restart.
#pragma once

#include <natomedia/services.h>
#include <natomedia/status.h>
#include <natomedia/values.h>

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace natomedia {
namespace core {

namespace tmpl {
struct Compiled;
}  // namespace tmpl

class TemplateEngine : public natomedia::Templates {
 public:
  // `i18n` may be null: {{t:key}} then renders the key.
  TemplateEngine(std::vector<std::string> search_dirs, std::shared_ptr<const I18n> i18n);
  ~TemplateEngine() override;

  Result<std::string> render(const std::string& name, const Vars& vars,
                             const std::string& lang) const override;
  Result<std::string> render_text(const std::string& name, const Vars& vars,
                                  const std::string& lang) const override;

  // Compiles `source` (not cached, named "<string>" in errors) and renders it; partials are
  // looked up in the search directories. `html` selects render()'s escaping.
  Result<std::string> render_string(std::string_view source, const Vars& vars,
                                    const std::string& lang, bool html) const;

  // Invalid when `name` is not an acceptable template name (see above), else Ok.
  static Status check_name(const std::string& name);

  // Limits that keep one render bounded, whatever a template or its data hold.
  static constexpr int kMaxPartialDepth = 10;
  static constexpr int kMaxSectionDepth = 100;
  static constexpr size_t kMaxTemplateBytes = 1 << 20;
  static constexpr size_t kMaxOutputBytes = 16 << 20;
  static constexpr size_t kMaxRenderSteps = 2000000;

 private:
  friend class TemplateRenderer;

  Result<std::shared_ptr<const tmpl::Compiled>> find(const std::string& name) const;
  Result<std::string> render_named(const std::string& name, const Vars& vars,
                                   const std::string& lang, bool html) const;

  const std::vector<std::string> search_dirs_;
  const std::shared_ptr<const I18n> i18n_;
  mutable std::shared_mutex mutex_;
  mutable std::map<std::string, std::string> resolved_;                         // name -> file path
  mutable std::map<std::string, std::shared_ptr<const tmpl::Compiled>> cache_;  // path -> compiled
};

}  // namespace core
}  // namespace natomedia
