// libFuzzer target: the shared feed snapshot reader (core/feed_snapshot_file.h) on any bytes,
// and the readers of its header and of the refused-version record beside it.
// It must refuse or decode without a crash or a huge allocation, and what it decodes must
// encode and decode again to the same thing. The seed (corpus/feed_snapshot/) is the demo feed
// encoded with the file version below, and a refused-version record of the same version.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/feed_snapshot_file.h"

namespace {

natomedia::core::FeedFileInfo source() {
  natomedia::core::FeedFileInfo info;
  info.device = 2049;
  info.inode = 123456;
  info.size = 7500000;
  info.mtime_ns = 1700000000123456789;
  info.ctime_ns = 1700000000223456789;
  return info;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace natomedia::core;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The header reader and the refused-version record see the same bytes.
  auto header = feed_snapshot_source(input);
  auto refused = decode_refused_version(input);
  if (refused.ok() && encode_refused_version(refused.value()) != input) std::abort();
  auto decoded = decode_feed_snapshot(input, source(), 1);
  if (decoded.ok() && !(header.ok() && header.value() == source())) std::abort();
  if (!decoded.ok()) return 0;
  const std::string again = encode_feed_snapshot(*decoded.value(), source());
  auto redecoded = decode_feed_snapshot(again, source(), 1);
  if (!redecoded.ok()) std::abort();
  if (encode_feed_snapshot(*redecoded.value(), source()) != again) std::abort();
  if (redecoded.value()->items.size() != decoded.value()->items.size()) std::abort();
  return 0;
}
