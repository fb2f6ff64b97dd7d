#include "core/xhtml_sanitizer.h"

#include <cstring>

#include "core/xml_safe_parser.h"
#include "natomedia/text.h"

namespace natomedia {
namespace core {
namespace {

constexpr char kXhtmlNamespace[] = "http://www.w3.org/1999/xhtml";

enum class Treatment {
  kKeep,    // emitted without attributes (a: with its href when it is http(s))
  kVoid,    // br: emitted, no content
  kUnwrap,  // the tag goes, the content stays
  kDrop,    // the tag and everything inside go
};

const char* const kKept[] = {"p", "em", "strong", "a", "ul", "ol", "li", "blockquote", "h2", "h3"};
const char* const kDropped[] = {"script", "style", "head"};

bool is_xhtml(const xmlNode* node) {
  return node->ns != nullptr && node->ns->href != nullptr &&
         std::strcmp(reinterpret_cast<const char*>(node->ns->href), kXhtmlNamespace) == 0;
}

Treatment treatment_of(const xmlNode* node) {
  const char* name = reinterpret_cast<const char*>(node->name);
  // Dropped in any namespace: an SVG or MathML <script> is still a script.
  for (const char* dropped : kDropped)
    if (std::strcmp(name, dropped) == 0) return Treatment::kDrop;
  if (!is_xhtml(node)) return Treatment::kUnwrap;
  for (const char* kept : kKept)
    if (std::strcmp(name, kept) == 0) return Treatment::kKeep;
  if (std::strcmp(name, "br") == 0) return Treatment::kVoid;
  return Treatment::kUnwrap;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && text::lower_ascii(s.substr(0, prefix.size())) == prefix;
}

// The href of an <a>, or "" when it is missing or not an absolute http(s) URL. Control
// characters and white space inside are refused rather than repaired.
std::string safe_href(const xmlNode* a) {
  xmlChar* raw = xmlGetNoNsProp(a, BAD_CAST "href");
  if (raw == nullptr) return "";
  std::string href(text::trim(reinterpret_cast<const char*>(raw)));
  xmlFree(raw);
  if (!starts_with_ci(href, "http://") && !starts_with_ci(href, "https://")) return "";
  for (unsigned char c : href)
    if (c <= 0x20 || c == 0x7F) return "";
  return href;
}

void append_node(const xmlNode* node, std::string& out);

void append_children(const xmlNode* node, std::string& out) {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next)
    append_node(child, out);
}

void append_element(const xmlNode* node, std::string& out) {
  const char* name = reinterpret_cast<const char*>(node->name);
  switch (treatment_of(node)) {
    case Treatment::kDrop:
      return;
    case Treatment::kVoid:
      out += "<br>";
      return;
    case Treatment::kUnwrap:
      append_children(node, out);
      return;
    case Treatment::kKeep:
      break;
  }
  if (std::strcmp(name, "a") == 0) {
    std::string href = safe_href(node);
    if (href.empty()) {
      append_children(node, out);
      return;
    }
    out += "<a href=\"" + text::html_escape(href) + "\">";
  } else {
    out += '<';
    out += name;
    out += '>';
  }
  append_children(node, out);
  out += "</";
  out += name;
  out += '>';
}

void append_node(const xmlNode* node, std::string& out) {
  switch (node->type) {
    case XML_ELEMENT_NODE:
      append_element(node, out);
      break;
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
      if (node->content != nullptr)
        out += text::html_escape(reinterpret_cast<const char*>(node->content));
      break;
    default:  // comments, processing instructions, anything else: dropped
      break;
  }
}

}  // namespace

std::string sanitize_xhtml(const xmlNode* body_or_html) {
  std::string out;
  if (body_or_html != nullptr) append_node(body_or_html, out);
  return out;
}

std::string sanitize_xhtml_string(std::string_view xhtml_fragment) {
  std::string wrapped;
  wrapped.reserve(xhtml_fragment.size() + 64);
  wrapped += "<body xmlns=\"";
  wrapped += kXhtmlNamespace;
  wrapped += "\">";
  wrapped += xhtml_fragment;
  wrapped += "</body>";
  std::vector<XmlIssue> issues;
  XmlDocPtr doc = parse_untrusted_xml(wrapped, "fragment", &issues);
  if (doc == nullptr) return text::html_escape(xhtml_fragment);
  return sanitize_xhtml(xmlDocGetRootElement(doc.get()));
}

}  // namespace core
}  // namespace natomedia
