// Turns a path written in the feed into a file that may be served: the one way a path reaches
// FileBody. Pure functions over the file system; thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <natomedia/status.h>

namespace natomedia::media_gateway {

struct MediaFile {
  std::string path;     // canonical (realpath), inside the root
  uint64_t size = 0;
  std::time_t mtime = 0;
  // Identity of the file's contents as stat(2) saw them: a cache of facts about the bytes (its
  // sniffed type) is valid while these stay the same.
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;  // nanoseconds within mtime
  int64_t ctime_ns = 0;  // status change time, in nanoseconds since the epoch
};

// Resolves `relative` (an href from the feed) under `root` (NatoMediaMediaRoot) with realpath, so
// "..", symlinks and absolute paths are judged by where they really lead. Invalid when the href is
// absolute, empty or holds a NUL, or when the file lies outside the root (the caller logs these);
// NotFound when there is no such regular file.
// A resolution is kept by the process for two seconds (media_paths.cc says why and what that
// window allows): a symlink changed inside the root takes effect that much later. The file
// itself is stat'ed on every call.
Result<MediaFile> resolve_under(const std::string& root, const std::string& relative);

// Forgets the resolutions kept (for the tests).
void forget_resolved_paths();

}  // namespace natomedia::media_gateway
