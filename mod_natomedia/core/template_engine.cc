#include "core/template_engine.h"

#include <natomedia/text.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

namespace natomedia {
namespace core {

namespace tmpl {

enum class NodeKind { kText, kVariable, kSection, kInverted, kPartial, kTranslate };

struct Node {
  NodeKind kind = NodeKind::kText;
  std::string text;               // literal text, partial name or catalogue key
  std::vector<std::string> path;  // a dotted name split on '.'; empty for "."
  std::vector<Node> children;     // body of a section
  int line = 0;
};

struct Compiled {
  std::string label;  // the name and file, for messages
  std::vector<Node> nodes;
};

}  // namespace tmpl

namespace {

using tmpl::Compiled;
using tmpl::Node;
using tmpl::NodeKind;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Splits a dotted name; false when it is not made of name characters and single dots.
bool parse_dotted(std::string_view name, std::vector<std::string>& path) {
  path.clear();
  if (name == ".") return true;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty()) return false;
    for (char c : part)
      if (!is_name_char(c)) return false;
    path.emplace_back(part);
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!is_name_char(c) && c != '.') return false;
  return true;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

int count_lines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Turns template text into a tree of nodes, checking that sections nest.
class Parser {
 public:
  Parser(std::string_view source, std::string label) : src_(source), label_(std::move(label)) {}

  Result<std::shared_ptr<const Compiled>> parse();

 private:
  struct Open {
    Node* node;
    int line;
  };

  Status error(int line, const std::string& what) const {
    return Status::Invalid("template " + label_ + " line " + std::to_string(line) + ": " + what);
  }
  std::vector<Node>& current() { return open_.empty() ? root_ : open_.back().node->children; }
  void add_text(std::string_view text);
  // The end of the line the tag [start, end) stands alone on, or npos when it does not.
  size_t standalone_end(size_t start, size_t end) const;
  Status handle_tag(std::string_view tag, int line);

  std::string_view src_;
  std::string label_;
  std::vector<Node> root_;
  std::vector<Open> open_;
};

void Parser::add_text(std::string_view text) {
  if (text.empty()) return;
  auto& nodes = current();
  if (!nodes.empty() && nodes.back().kind == NodeKind::kText) {
    nodes.back().text.append(text);
    return;
  }
  Node node;
  node.text.assign(text);
  nodes.push_back(std::move(node));
}

size_t Parser::standalone_end(size_t start, size_t end) const {
  for (size_t i = start; i > 0 && src_[i - 1] != '\n'; --i)
    if (!is_blank(src_[i - 1])) return std::string_view::npos;
  size_t i = end;
  while (i < src_.size() && is_blank(src_[i])) ++i;
  if (i == src_.size()) return i;
  return src_[i] == '\n' ? i + 1 : std::string_view::npos;
}

Status Parser::handle_tag(std::string_view tag, int line) {
  tag = text::trim(tag);
  if (tag.empty()) return error(line, "empty tag {{}}");
  char sigil = tag[0];
  if (sigil == '!') return Status::Ok();
  if (sigil == '{' || sigil == '&')
    return error(line, "unescaped output is not supported: pass a Value::TrustedHtml");
  if (sigil == '=') return error(line, "changing delimiters is not supported");

  Node node;
  node.line = line;
  std::string_view name = tag;
  if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>')
    name = text::trim(tag.substr(1));

  if (sigil == '/') {
    if (open_.empty()) return error(line, "{{/" + std::string(name) + "}} closes no section");
    const Node& section = *open_.back().node;
    std::string opened = section.text;
    if (name != opened)
      return error(line, "{{/" + std::string(name) + "}} closes section '" + opened +
                             "' opened at line " + std::to_string(open_.back().line));
    open_.pop_back();
    return Status::Ok();
  }
  if (sigil == '>') {
    node.kind = NodeKind::kPartial;
    node.text.assign(name);
    if (!TemplateEngine::check_name(node.text).ok())
      return error(line, "bad partial name '" + node.text + "'");
    current().push_back(std::move(node));
    return Status::Ok();
  }
  if (tag.substr(0, 2) == "t:") {
    std::string_view key = text::trim(tag.substr(2));
    if (!valid_key(key)) return error(line, "bad catalogue key '" + std::string(key) + "'");
    node.kind = NodeKind::kTranslate;
    node.text.assign(key);
    current().push_back(std::move(node));
    return Status::Ok();
  }
  if (!parse_dotted(name, node.path)) return error(line, "bad name '" + std::string(name) + "'");
  node.text.assign(name);
  if (sigil != '#' && sigil != '^') {
    node.kind = NodeKind::kVariable;
    current().push_back(std::move(node));
    return Status::Ok();
  }
  if (open_.size() >= static_cast<size_t>(TemplateEngine::kMaxSectionDepth))
    return error(line, "sections nested too deep");
  node.kind = sigil == '#' ? NodeKind::kSection : NodeKind::kInverted;
  auto& nodes = current();
  nodes.push_back(std::move(node));
  open_.push_back({&nodes.back(), line});
  return Status::Ok();
}

Result<std::shared_ptr<const Compiled>> Parser::parse() {
  size_t pos = 0;
  int line = 1;
  while (pos < src_.size()) {
    size_t start = src_.find("{{", pos);
    if (start == std::string_view::npos) break;
    size_t close = src_.find("}}", start + 2);
    int tag_line = line + count_lines(src_.substr(pos, start - pos));
    if (close == std::string_view::npos) return error(tag_line, "'{{' without '}}'");
    std::string_view tag = src_.substr(start + 2, close - start - 2);
    size_t end = close + 2;
    char sigil = text::trim(tag).empty() ? ' ' : text::trim(tag)[0];
    bool may_stand_alone = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';
    size_t line_end = may_stand_alone ? standalone_end(start, end) : std::string_view::npos;
    size_t text_end = start;
    if (line_end != std::string_view::npos) {
      while (text_end > pos && is_blank(src_[text_end - 1])) --text_end;
      end = line_end;
    }
    add_text(src_.substr(pos, text_end - pos));
    Status s = handle_tag(tag, tag_line);
    if (!s.ok()) return s;
    line = tag_line + count_lines(src_.substr(start, end - start));
    pos = end;
  }
  add_text(src_.substr(pos));
  if (!open_.empty())
    return error(open_.back().line, "section '" + open_.back().node->text + "' is never closed");
  auto compiled = std::make_shared<Compiled>();
  compiled->label = label_;
  compiled->nodes = std::move(root_);
  return std::shared_ptr<const Compiled>(std::move(compiled));
}

Result<std::shared_ptr<const Compiled>> compile(std::string_view source, std::string label) {
  if (source.size() > TemplateEngine::kMaxTemplateBytes)
    return Status::Invalid("template " + label + " is larger than 1 MiB");
  return Parser(source, std::move(label)).parse();
}

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::string> read_template(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Internal("cannot read template " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::Internal("error reading template " + path);
  return buffer.str();
}

}  // namespace

// One render: the context stack, the output and the budgets. Lives on the caller's stack.
class TemplateRenderer {
 public:
  TemplateRenderer(const TemplateEngine& engine, const Vars& vars, const std::string& lang,
                   bool html)
      : engine_(engine), lang_(lang), html_(html) {
    stack_.push_back({nullptr, &vars});
  }

  Status render(const Compiled& compiled) {
    const std::string* outer = label_;
    label_ = &compiled.label;
    Status s = render_nodes(compiled.nodes);
    label_ = outer;
    return s;
  }
  std::string take() { return std::move(out_); }

 private:
  struct Frame {
    const Value* value;  // a pushed item, or null for the root vars
    const Vars* map;     // the root vars, or null
  };

  Status error(const Node& node, const std::string& what) const {
    return Status::Internal("template " + *label_ + " line " + std::to_string(node.line) + ": " +
                            what);
  }
  // `status` with where the failing partial was included added to its message.
  Status with_origin(const Status& status, const Node& node) const {
    std::string m = status.message() + " (included from " + *label_ + " line " +
                    std::to_string(node.line) + ")";
    switch (status.code()) {
      case Status::Code::kNotFound:
        return Status::NotFound(m);
      case Status::Code::kInvalid:
        return Status::Invalid(m);
      default:
        return Status::Internal(m);
    }
  }
  const Value* lookup(const std::vector<std::string>& path) const;
  void write(const std::string& s, bool trusted) {
    if (html_ && !trusted)
      out_ += text::html_escape(s);
    else
      out_ += s;
  }
  Status render_nodes(const std::vector<Node>& nodes);
  Status render_node(const Node& node);
  Status render_section(const Node& node);
  Status render_partial(const Node& node);

  const TemplateEngine& engine_;
  const std::string& lang_;
  const bool html_;
  const std::string* label_ = nullptr;
  std::vector<Frame> stack_;
  std::string out_;
  size_t steps_ = 0;
  int partial_depth_ = 0;
};

const Value* TemplateRenderer::lookup(const std::vector<std::string>& path) const {
  if (path.empty()) return stack_.back().value;
  const Value* found = nullptr;
  for (auto frame = stack_.rbegin(); frame != stack_.rend() && !found; ++frame) {
    const Vars* map = frame->map;
    if (!map && frame->value->kind() == Value::Kind::kMap) map = &frame->value->map();
    if (!map) continue;
    auto it = map->find(path[0]);
    if (it != map->end()) found = &it->second;
  }
  for (size_t i = 1; found && i < path.size(); ++i) {
    if (found->kind() != Value::Kind::kMap) return nullptr;
    auto it = found->map().find(path[i]);
    found = it == found->map().end() ? nullptr : &it->second;
  }
  return found;
}

Status TemplateRenderer::render_nodes(const std::vector<Node>& nodes) {
  for (const Node& node : nodes) {
    if (++steps_ > TemplateEngine::kMaxRenderSteps) return error(node, "render takes too long");
    Status s = render_node(node);
    if (!s.ok()) return s;
    if (out_.size() > TemplateEngine::kMaxOutputBytes) return error(node, "output is too large");
  }
  return Status::Ok();
}

Status TemplateRenderer::render_node(const Node& node) {
  switch (node.kind) {
    case NodeKind::kText:
      out_ += node.text;
      return Status::Ok();
    case NodeKind::kVariable: {
      const Value* v = lookup(node.path);
      if (!v) return Status::Ok();
      switch (v->kind()) {
        case Value::Kind::kString:
          write(v->str(), false);
          break;
        case Value::Kind::kTrustedHtml:
          write(v->str(), true);
          break;
        case Value::Kind::kBool:
          out_ += v->boolean() ? "true" : "false";
          break;
        default:
          break;
      }
      return Status::Ok();
    }
    case NodeKind::kTranslate:
      write(engine_.i18n_ ? engine_.i18n_->text(lang_, node.text) : node.text, false);
      return Status::Ok();
    case NodeKind::kSection:
    case NodeKind::kInverted:
      return render_section(node);
    case NodeKind::kPartial:
      return render_partial(node);
  }
  return Status::Ok();
}

Status TemplateRenderer::render_section(const Node& node) {
  const Value* v = lookup(node.path);
  bool truthy = v && v->truthy();
  if (node.kind == NodeKind::kInverted) return truthy ? Status::Ok() : render_nodes(node.children);
  if (!truthy) return Status::Ok();
  if (v->kind() == Value::Kind::kList) {
    for (const Value& item : v->list()) {
      stack_.push_back({&item, nullptr});
      Status s = render_nodes(node.children);
      stack_.pop_back();
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
  stack_.push_back({v, nullptr});
  Status s = render_nodes(node.children);
  stack_.pop_back();
  return s;
}

Status TemplateRenderer::render_partial(const Node& node) {
  if (partial_depth_ >= TemplateEngine::kMaxPartialDepth)
    return error(node, "partials nested more than " +
                           std::to_string(TemplateEngine::kMaxPartialDepth) + " deep");
  auto partial = engine_.find(node.text);
  if (!partial.ok()) return with_origin(partial.status(), node);
  ++partial_depth_;
  Status s = render(**partial);
  --partial_depth_;
  return s;
}

TemplateEngine::TemplateEngine(std::vector<std::string> search_dirs,
                               std::shared_ptr<const I18n> i18n)
    : search_dirs_(std::move(search_dirs)), i18n_(std::move(i18n)) {}

TemplateEngine::~TemplateEngine() = default;

Status TemplateEngine::check_name(const std::string& name) {
  if (name.empty()) return Status::Invalid("empty template name");
  if (name[0] == '/') return Status::Invalid("absolute template name refused: " + name);
  if (name.find("..") != std::string::npos)
    return Status::Invalid("template name with '..' refused: " + name);
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\\' || u < 0x20 || u == 0x7F)
      return Status::Invalid("template name with a backslash or control character refused");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Compiled>> TemplateEngine::find(const std::string& name) const {
  Status valid = check_name(name);
  if (!valid.ok()) return valid;
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    auto path = resolved_.find(name);
    if (path != resolved_.end()) return cache_.at(path->second);
  }
  std::string path;
  for (const std::string& dir : search_dirs_) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (is_regular_file(candidate)) {
      path = std::move(candidate);
      break;
    }
  }
  if (path.empty()) return Status::NotFound("template not found: " + name);
  auto source = read_template(path);
  if (!source.ok()) return source.status();
  auto compiled = compile(*source, name + " (" + path + ")");
  if (!compiled.ok()) return compiled.status();
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto cached = cache_.try_emplace(path, *compiled).first->second;
  resolved_.try_emplace(name, path);
  return cached;
}

Result<std::string> TemplateEngine::render_named(const std::string& name, const Vars& vars,
                                                 const std::string& lang, bool html) const {
  auto compiled = find(name);
  if (!compiled.ok()) return compiled.status();
  TemplateRenderer renderer(*this, vars, lang, html);
  Status s = renderer.render(**compiled);
  if (!s.ok()) return s;
  return renderer.take();
}

Result<std::string> TemplateEngine::render(const std::string& name, const Vars& vars,
                                           const std::string& lang) const {
  return render_named(name, vars, lang, /*html=*/true);
}

Result<std::string> TemplateEngine::render_text(const std::string& name, const Vars& vars,
                                                const std::string& lang) const {
  return render_named(name, vars, lang, /*html=*/false);
}

Result<std::string> TemplateEngine::render_string(std::string_view source, const Vars& vars,
                                                  const std::string& lang, bool html) const {
  auto compiled = compile(source, "<string>");
  if (!compiled.ok()) return compiled.status();
  TemplateRenderer renderer(*this, vars, lang, html);
  Status s = renderer.render(**compiled);
  if (!s.ok()) return s;
  return renderer.take();
}

}  // namespace core
}  // namespace natomedia
