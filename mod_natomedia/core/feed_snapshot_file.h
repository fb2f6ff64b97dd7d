// A loaded feed, written in a compact binary form: the server's last good version, which every
// child of the same httpd serves (FeedService, shared mode). The encoding names the feed file it
// was made from (device, inode, size, mtime, ctime). It is read back with every length checked,
// and anything short, long or malformed is refused.
//
// Beside it, a refused version: the file version one child tried and refused, so that the
// others take the last good snapshot instead of parsing and refusing the same file again.
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

// The file version an encoding says it was made from (its header only; Invalid when `bytes` do
// not start like an encoding). Whether the rest is whole is decode_feed_snapshot()'s to say.
Result<FeedFileInfo> feed_snapshot_source(std::string_view bytes);

// A refused file version, in a fixed-size record, and back (Invalid unless exactly that).
std::string encode_refused_version(const FeedFileInfo& refused);
Result<FeedFileInfo> decode_refused_version(std::string_view bytes);

}  // namespace core
}  // namespace natomedia
