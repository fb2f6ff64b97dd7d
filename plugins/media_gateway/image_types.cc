#include "image_types.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace natomedia::media_gateway {

namespace {

bool starts_with(std::string_view head, std::string_view signature) {
  return head.size() >= signature.size() && head.substr(0, signature.size()) == signature;
}

// Reads up to kImageSignatureBytes from the start of `path`; `file` gets the identity of what
// was read (fstat of the same descriptor), so a file replaced meanwhile is cached as itself.
Result<std::string> read_head(const std::string& path, MediaFile& file) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  // The identity before the bytes: a write after fstat changes ctime, so the entry goes stale.
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return Status::NotFound("cannot stat " + path);
  }
  char buf[kImageSignatureBytes];
  size_t got = 0;
  while (got < sizeof buf) {
    const ssize_t n = pread(fd, buf + got, sizeof buf - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  file.size = static_cast<uint64_t>(st.st_size);
  file.mtime = st.st_mtime;
  file.device = static_cast<uint64_t>(st.st_dev);
  file.inode = static_cast<uint64_t>(st.st_ino);
  file.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_nsec);
  file.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return std::string(buf, got);
}

}  // namespace

std::string sniff_image_type(std::string_view head) {
  using namespace std::string_view_literals;
  if (starts_with(head, "\xFF\xD8\xFF"sv)) return "image/jpeg";
  if (starts_with(head, "\x89PNG\r\n\x1A\n"sv)) return "image/png";
  if (starts_with(head, "GIF87a"sv) || starts_with(head, "GIF89a"sv)) return "image/gif";
  if (starts_with(head, "RIFF"sv) && head.size() >= 14 && head.substr(8, 6) == "WEBPVP"sv)
    return "image/webp";
  return "";
}

bool ImageTypeCache::same_file(const Entry& e, const MediaFile& f) {
  return e.device == f.device && e.inode == f.inode && e.size == f.size &&
         e.mtime == static_cast<int64_t>(f.mtime) && e.mtime_ns == f.mtime_ns &&
         e.ctime_ns == f.ctime_ns;
}

Result<std::string> ImageTypeCache::type_of(const MediaFile& file) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(file.path);
    if (it != entries_.end() && same_file(it->second, file)) return it->second.type;
  }
  MediaFile read = file;
  auto head = read_head(file.path, read);
  if (!head.ok()) return head.status();
  const std::string type = sniff_image_type(*head);
  Entry e{read.device,   read.inode,    read.size, static_cast<int64_t>(read.mtime),
          read.mtime_ns, read.ctime_ns, type};
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[file.path] = std::move(e);
  return type;
}

ImageTypeCache& image_types() {
  static ImageTypeCache cache;
  return cache;
}

}  // namespace natomedia::media_gateway
