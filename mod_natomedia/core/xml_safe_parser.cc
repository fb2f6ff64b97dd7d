#include "core/xml_safe_parser.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <climits>
#include <mutex>

namespace natomedia {
namespace core {
namespace {

constexpr char kIptcNamespace[] = "http://iptc.org/std/nar/2006-10-01/";

xmlExternalEntityLoader g_default_loader = nullptr;
thread_local const std::string* t_schema_dir = nullptr;

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

// True when `url` names a regular file inside the schema directory this thread may read.
bool schema_file_allowed(const char* url) {
  if (t_schema_dir == nullptr || url == nullptr) return false;
  std::string path = url;
  if (path.rfind("file://", 0) == 0) path.erase(0, 7);
  if (path.find("://") != std::string::npos) return false;
  std::string resolved = real_path(path);
  if (resolved.empty() || resolved.rfind(*t_schema_dir + "/", 0) != 0) return false;
  struct stat st;
  return stat(resolved.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

xmlParserInputPtr deny_all_loader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (schema_file_allowed(url)) return g_default_loader(url, id, ctxt);
  return nullptr;
}

struct ParseState {
  std::vector<XmlIssue>* issues;
  bool refused = false;
};

ParseState* state_of(void* ctx) {
  return static_cast<ParseState*>(static_cast<xmlParserCtxtPtr>(ctx)->_private);
}

// Records the reason once and halts the parser: nothing after a DTD or entity is looked at.
void refuse(void* ctx, const std::string& why) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  ParseState* state = state_of(ctx);
  if (!state->refused && state->issues->size() < kMaxXmlIssues)
    state->issues->push_back({xmlSAX2GetLineNumber(ctxt), why});
  state->refused = true;
  xmlStopParser(ctxt);
}

void on_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  refuse(ctx, "a DOCTYPE (DTD) is not allowed");
}

void on_entity_decl(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
  refuse(ctx, "an entity declaration is not allowed");
}

xmlEntityPtr on_get_entity(void* ctx, const xmlChar* name) {
  // Only called for names that are not one of the five predefined entities.
  refuse(ctx, std::string("entity reference &") + reinterpret_cast<const char*>(name) +
                  "; is not allowed");
  return nullptr;
}

void on_parse_error(void* ctx, xmlErrorPtr error) {
  ParseState* state = state_of(ctx);
  if (error != nullptr && error->code == XML_ERR_USER_STOP) return;
  append_xml_issue(error, state->issues);
}

std::string trim_message(const char* message) {
  std::string m = message != nullptr ? message : "unknown error";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

void erase_all(std::string& s, const std::string& what) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) {
    s.erase(at, what.size());
  }
}

// "Element '{ns}x', attribute 'a': why" -> "element x, attribute a: why".
std::string reword(std::string m) {
  erase_all(m, std::string("{") + kIptcNamespace + "}");
  if (m.rfind("Element '", 0) != 0) return m;
  size_t name_end = m.find('\'', 9);
  if (name_end == std::string::npos) return m;
  std::string out = "element " + m.substr(9, name_end - 9);
  std::string rest = m.substr(name_end + 1);
  if (rest.rfind(", attribute '", 0) == 0) {
    size_t attr_end = rest.find('\'', 13);
    if (attr_end == std::string::npos) return m;
    out += ", attribute " + rest.substr(13, attr_end - 13);
    rest = rest.substr(attr_end + 1);
  }
  return out + rest;
}

int line_of(const xmlError* error) {
  // With XML_PARSE_BIG_LINES the node knows lines past 65535 where error->line does not.
  auto* node = static_cast<xmlNode*>(error->node);
  if (node != nullptr && node->type == XML_ELEMENT_NODE) {
    long line = xmlGetLineNo(node);
    if (line > 0 && line < INT_MAX) return static_cast<int>(line);
  }
  return error->line;
}

}  // namespace

void init_xml_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    g_default_loader = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(deny_all_loader);
  });
}

void append_xml_issue(const xmlError* error, std::vector<XmlIssue>* issues) {
  if (error == nullptr || error->level == XML_ERR_WARNING || error->level == XML_ERR_NONE) return;
  if (issues->size() >= kMaxXmlIssues) return;
  issues->push_back({line_of(error), reword(trim_message(error->message))});
}

XmlDocPtr parse_untrusted_xml(std::string_view xml, const std::string& name,
                              std::vector<XmlIssue>* issues) {
  init_xml_library();
  if (xml.size() > static_cast<size_t>(INT_MAX)) {
    issues->push_back({0, "document too large"});
    return nullptr;
  }
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) {
    issues->push_back({0, "out of memory"});
    return nullptr;
  }
  ParseState state{issues};
  ctxt->_private = &state;
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->sax->externalSubset = on_internal_subset;
  ctxt->sax->entityDecl = on_entity_decl;
  ctxt->sax->getEntity = on_get_entity;
  ctxt->sax->getParameterEntity = on_get_entity;
  ctxt->sax->serror = on_parse_error;
  // Deliberately absent: XML_PARSE_NOENT (would expand entities), XML_PARSE_DTDLOAD,
  // XML_PARSE_DTDATTR, XML_PARSE_DTDVALID, XML_PARSE_XINCLUDE, XML_PARSE_HUGE (lifts limits).
  const int options =
      XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING;
  xmlDoc* doc = xmlCtxtReadMemory(ctxt, xml.data(), static_cast<int>(xml.size()), name.c_str(),
                                  nullptr, options);
  XmlDocPtr result(doc);
  bool failed = doc == nullptr || state.refused || !ctxt->wellFormed;
  if (!failed && doc->intSubset != nullptr) {
    issues->push_back({0, "a DOCTYPE (DTD) is not allowed"});
    failed = true;
  }
  if (failed && issues->empty()) issues->push_back({0, "not well-formed XML"});
  xmlFreeParserCtxt(ctxt);
  if (failed) result.reset();
  return result;
}

ScopedSchemaDirAccess::ScopedSchemaDirAccess(const std::string& dir) : dir_(real_path(dir)) {
  init_xml_library();
  t_schema_dir = dir_.empty() ? nullptr : &dir_;
}

ScopedSchemaDirAccess::~ScopedSchemaDirAccess() { t_schema_dir = nullptr; }

}  // namespace core
}  // namespace natomedia
