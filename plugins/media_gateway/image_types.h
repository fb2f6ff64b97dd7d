// What a thumbnail really is (CONTRACT section 12, "Files served as data"): one of the image
// formats a browser may be handed, told from the file's first bytes (its magic number), never
// from the feed's contenttype or the file's name. An SVG, an HTML page or anything else behind
// an image name is no image.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <natomedia/status.h>

#include "media_paths.h"

namespace natomedia::media_gateway {

// How many of a file's first bytes sniff_image_type looks at.
constexpr size_t kImageSignatureBytes = 16;

// "image/jpeg", "image/png", "image/webp" or "image/gif" when `head` (a file's first bytes)
// starts with that format's signature as the WHATWG MIME Sniffing standard writes it; "" for
// anything else (SVG, HTML, text, an empty or truncated file). Pure; thread-safe.
std::string sniff_image_type(std::string_view head);

// The sniffed type of media files, each read once per identity (device, inode, size, mtime,
// ctime as resolve_under saw them) and kept per process, so a hot thumbnail costs no read.
// Thread-safe.
class ImageTypeCache {
 public:
  // The type of `file` (see sniff_image_type; "" when it is no image); NotFound when the file
  // cannot be read.
  Result<std::string> type_of(const MediaFile& file);

  static constexpr size_t kMaxEntries = 4096;

 private:
  struct Entry {
    uint64_t device, inode, size;
    int64_t mtime, mtime_ns, ctime_ns;
    std::string type;
  };
  static bool same_file(const Entry& e, const MediaFile& f);

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by canonical path
};

// The one cache of this process's sniffed thumbnail types.
ImageTypeCache& image_types();

}  // namespace natomedia::media_gateway
