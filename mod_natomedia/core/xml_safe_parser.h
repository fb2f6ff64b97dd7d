// The one way the core parses XML it did not write (the content feed, feed bodies): libxml2 with
// the network off, no DTD, no entity declarations or references, no XInclude, default size
// limits (no XML_PARSE_HUGE), and a process-wide external entity loader that refuses everything
// except the schema files while FeedSchema::load runs on that thread.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace natomedia {
namespace core {

// Initialises libxml2 once per process (xmlInitParser) and installs the deny-all external
// entity loader. Idempotent and thread-safe; every function below calls it. libxml2's global
// state is never cleaned up (xmlCleanupParser would pull it from under other httpd modules).
void init_xml_library();

// One reason a document was refused; line is 0 when unknown.
struct XmlIssue {
  int line = 0;
  std::string message;
};

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// Parses `xml` hardened as above. On failure returns null and appends the reasons (at most
// kMaxXmlIssues) to `issues`. `name` labels libxml2's messages. `xml` must be under 2 GiB.
XmlDocPtr parse_untrusted_xml(std::string_view xml, const std::string& name,
                              std::vector<XmlIssue>* issues);

inline constexpr size_t kMaxXmlIssues = 50;

// Appends a libxml2 structured error to `issues` (skips warnings; caps the count). Messages of
// the schema validator are reworded from "Element '{ns}x': ..." to "element x: ...".
void append_xml_issue(const xmlError* error, std::vector<XmlIssue>* issues);

// While alive, the external entity loader lets this thread open regular files inside `dir`
// (after resolving symbolic links), so that a schema's xs:import of a neighbour file works.
// Every other load, on any thread, is still refused.
class ScopedSchemaDirAccess {
 public:
  explicit ScopedSchemaDirAccess(const std::string& dir);
  ~ScopedSchemaDirAccess();
  ScopedSchemaDirAccess(const ScopedSchemaDirAccess&) = delete;
  ScopedSchemaDirAccess& operator=(const ScopedSchemaDirAccess&) = delete;

 private:
  std::string dir_;
};

}  // namespace core
}  // namespace natomedia
