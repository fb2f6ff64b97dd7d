#include "media_paths.h"

#include <sys/stat.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <unordered_map>

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

namespace {

// A process's recent answers of realpath: (root, href) -> the canonical path, already found
// inside the root. realpath reads every component of both paths (eight readlink calls for a
// file four levels under a four-level root), a third of a preview's time in the module
// (docs/performance.md); a player asks for the same file many times a second. Believed for
// kResolvedLifetime: a symlink changed inside the media root, or the root itself, takes effect
// that much later. A path kept is canonical and was inside the root, so a link swapped inside
// the root to lead outside is not followed meanwhile; a directory of the root replaced by a
// symlink within the window is (as it was between realpath and httpd's open): only who can
// write in the media root can do either. The file is still stat'ed on every call (its size and
// times are served).
constexpr auto kResolvedLifetime = std::chrono::seconds(2);
constexpr size_t kMaxResolved = 1024;

struct Resolved {
  std::string path;
  std::chrono::steady_clock::time_point until;
};

std::mutex& resolved_mutex() {
  static std::mutex m;
  return m;
}

std::unordered_map<std::string, Resolved>& resolved() {
  static auto* map = new std::unordered_map<std::string, Resolved>();  // never freed
  return *map;
}

std::string resolved_key(const std::string& root, const std::string& relative) {
  return root + '\0' + relative;
}

std::optional<std::string> recently_resolved(const std::string& key) {
  std::lock_guard<std::mutex> lock(resolved_mutex());
  auto it = resolved().find(key);
  if (it == resolved().end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.until) {
    resolved().erase(it);
    return std::nullopt;
  }
  return it->second.path;
}

void remember_resolved(const std::string& key, const std::string& path) {
  std::lock_guard<std::mutex> lock(resolved_mutex());
  if (resolved().size() >= kMaxResolved) resolved().clear();
  resolved()[key] = Resolved{path, std::chrono::steady_clock::now() + kResolvedLifetime};
}

// The regular file at the canonical `real`, as stat(2) sees it now.
std::optional<MediaFile> regular_file(const std::string& real) {
  struct stat st;
  if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
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

}  // namespace

Result<MediaFile> resolve_under(const std::string& root, const std::string& relative) {
  if (root.empty()) return Status::Invalid("no NatoMediaMediaRoot is configured");
  if (relative.empty() || relative[0] == '/' || relative.find('\0') != std::string::npos)
    return Status::Invalid("the path '" + relative + "' is not relative to the media root");
  const std::string key = resolved_key(root, relative);
  if (auto real = recently_resolved(key)) {
    if (auto file = regular_file(*real)) return *file;
    // Gone or changed since: judged afresh below.
  }
  const std::string real_root = canonical(root);
  if (real_root.empty()) return Status::NotFound("the media root " + root + " does not resolve");
  const std::string real = canonical(real_root + "/" + relative);
  if (real.empty()) return Status::NotFound("no file at " + relative);
  if (!inside(real_root, real))
    return Status::Invalid("the path '" + relative + "' leads outside the media root");
  auto file = regular_file(real);
  if (!file) return Status::NotFound(relative + " is not a regular file");
  remember_resolved(key, real);
  return *file;
}

void forget_resolved_paths() {
  std::lock_guard<std::mutex> lock(resolved_mutex());
  resolved().clear();
}

}  // namespace natomedia::media_gateway
