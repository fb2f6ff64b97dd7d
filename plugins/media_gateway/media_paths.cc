#include "media_paths.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

namespace natomedia::media_gateway {

namespace {

// realpath(3) as a string; "" when the path does not resolve.
std::string canonical(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

bool inside(const std::string& root, const std::string& path) {
  const std::string prefix = root == "/" ? root : root + "/";
  return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

Result<MediaFile> resolve_under(const std::string& root, const std::string& relative) {
  if (root.empty()) return Status::Invalid("no NatoMediaMediaRoot is configured");
  if (relative.empty() || relative[0] == '/' || relative.find('\0') != std::string::npos)
    return Status::Invalid("the path '" + relative + "' is not relative to the media root");
  const std::string real_root = canonical(root);
  if (real_root.empty()) return Status::NotFound("the media root " + root + " does not resolve");
  const std::string real = canonical(real_root + "/" + relative);
  if (real.empty()) return Status::NotFound("no file at " + relative);
  if (!inside(real_root, real))
    return Status::Invalid("the path '" + relative + "' leads outside the media root");
  struct stat st;
  if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::NotFound(relative + " is not a regular file");
  MediaFile file;
  file.path = real;
  file.size = static_cast<uint64_t>(st.st_size);
  file.mtime = st.st_mtime;
  file.device = static_cast<uint64_t>(st.st_dev);
  file.inode = static_cast<uint64_t>(st.st_ino);
  file.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_nsec);
  file.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return file;
}

}  // namespace natomedia::media_gateway
