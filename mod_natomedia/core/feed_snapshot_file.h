// A loaded feed, written in a compact binary form so that the other children of the same httpd
// can take it instead of parsing and validating the same XML again (FeedService, shared mode).
// The encoding names the feed file it was made from (device, inode, size, mtime, ctime): it is
// used only for that exact version of the file. It is read back with every length checked, and
// anything short, long or malformed is refused (the caller then parses the XML itself).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/feed_loader.h"
#include "natomedia/feed.h"
#include "natomedia/status.h"

namespace natomedia {
namespace core {

// `snapshot` as loaded from the file `source` describes.
std::string encode_feed_snapshot(const FeedSnapshot& snapshot, const FeedFileInfo& source);

// The snapshot in `bytes`, when they are a whole encoding made from the file `source`
// describes; Invalid otherwise. `loaded_at` goes into the snapshot as it is.
Result<std::shared_ptr<const FeedSnapshot>> decode_feed_snapshot(std::string_view bytes,
                                                                 const FeedFileInfo& source,
                                                                 std::time_t loaded_at);

}  // namespace core
}  // namespace natomedia
