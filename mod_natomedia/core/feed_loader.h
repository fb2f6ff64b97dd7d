// Loads the content feed (CONTRACT section 8): a NewsML-G2 document, parsed hardened (see
// xml_safe_parser.h), validated against the profile's XSD, then checked for what the XSD cannot
// say, and turned into an immutable FeedSnapshot. Failures are Status Invalid whose message
// lists the reasons, one a line, as "NAME:LINE: element X: why".
#pragma once

#include <libxml/xmlschemas.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <sys/stat.h>

#include "core/xml_safe_parser.h"
#include "natomedia/feed.h"
#include "natomedia/status.h"

namespace natomedia {
namespace core {

// The parsed profile XSD. Parsing is not thread-safe in libxml2, so it happens once (at
// start-up); after that the schema is only read, and validate() is safe from many threads
// (each call has its own validation context).
class FeedSchema {
 public:
  // `xsd_path` is schemas/natomedia-feed.xsd; its imports resolve to files beside it and
  // nothing else is ever opened.
  static Result<std::shared_ptr<const FeedSchema>> load(const std::string& xsd_path);

  ~FeedSchema();
  FeedSchema(const FeedSchema&) = delete;
  FeedSchema& operator=(const FeedSchema&) = delete;

  // Appends the validity errors of `doc` to `issues`; true when there are none.
  bool validate(xmlDoc* doc, std::vector<XmlIssue>* issues) const;

 private:
  explicit FeedSchema(xmlSchemaPtr schema) : schema_(schema) {}
  xmlSchemaPtr schema_;
};

struct LoadOptions {
  size_t max_bytes = 64 << 20;  // larger documents are refused before they are read
};

// What a file looked like when it was read: FeedService compares these to see a change.
struct FeedFileInfo {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // moves on chmod/chown too, so a permission fix is noticed
  std::time_t mtime = 0;
  bool operator==(const FeedFileInfo& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns &&
           ctime_ns == o.ctime_ns;
  }
  bool operator!=(const FeedFileInfo& o) const { return !(*this == o); }
};

// What stat/fstat says about a file.
FeedFileInfo feed_file_info(const struct stat& st);

// Reads a regular file of at most `max_bytes` (checked with fstat before reading). With
// `follow_symlinks` false, a symbolic link at `path` is refused (the shared snapshot files).
Status read_feed_file(const std::string& path, size_t max_bytes, std::string* content,
                      FeedFileInfo* info, bool follow_symlinks = true);

// The whole pipeline on bytes already in memory. `name` prefixes every reason; `modified`
// and `loaded_at` go into the snapshot as they are.
Result<std::shared_ptr<const FeedSnapshot>> load_feed_document(
    std::string_view xml, const std::string& name, std::time_t modified, std::time_t loaded_at,
    const FeedSchema& schema, const LoadOptions& options);

// A file: `modified` is its mtime, reasons are prefixed with its base name.
Result<std::shared_ptr<const FeedSnapshot>> load_feed_file(const std::string& path,
                                                           const FeedSchema& schema,
                                                           const LoadOptions& options);

// Bytes in memory (tests, fuzzing): reasons are prefixed with "feed".
Result<std::shared_ptr<const FeedSnapshot>> load_feed_memory(std::string_view xml,
                                                             const FeedSchema& schema,
                                                             const LoadOptions& options);

// For `natomedia-admin feed validate FILE`: Ok, or Invalid with the line-numbered reasons.
Status validate_feed_file(const std::string& path, const FeedSchema& schema);

// "2023-07-06T18:00:00Z" or with "+02:00"/"-05:30" (fractions of seconds ignored) -> UTC.
bool parse_feed_datetime(std::string_view text, std::time_t* out);

}  // namespace core
}  // namespace natomedia
