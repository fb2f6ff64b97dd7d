#include "core/secret_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <natomedia/text.h>

#include "core/crypto_service.h"

namespace natomedia {
namespace core {
namespace {

std::string quoted(const std::string& path) { return "secret file '" + path + "'"; }

std::string how_to_make(const std::string& path) {
  return "needs at least " + std::to_string(SecretKeys::kMinKeyBytes) +
         " bytes of random data, made as docs/installing.md says: `( umask 027 && head -c 48 "
         "/dev/urandom | base64 > " + path + " )`, then `chgrp www-data " + path + "`";
}

// Why a file of mode `mode` may not hold keys (to follow its quoted name), with the chmod that
// fixes it; "" when it may.
// Every user reading it could forge every token and link; anyone but its owner writing it could
// replace the keys. 0600, or 0640 for an owner root and httpd's group reading it, are right.
std::string open_mode_problem(const std::string& path, mode_t mode) {
  const bool world_reads = mode & S_IROTH;
  const bool others_write = mode & (S_IWGRP | S_IWOTH);
  if (!world_reads && !others_write) return "";
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  const std::string fix = (mode & S_IRGRP) ? "640" : "600";
  return std::string(world_reads ? " may be read by every user" : "") +
         (world_reads && others_write ? " and" : "") +
         (others_write ? " may be written by users other than its owner" : "") + " (mode " + octal +
         "); make it private to its owner" + (fix == "640" ? " and the group that reads it" : "") +
         ": `chmod " + fix + " " + path + "`";
}

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

// Splits on '\n' (dropping a '\r' before it) into the non-empty lines; false when the content
// is not text (a byte that is neither printable nor a line end).
bool text_lines(const std::string& content, std::vector<std::string>& lines) {
  std::string line;
  auto flush = [&] {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    line.clear();
  };
  for (size_t i = 0; i < content.size(); ++i) {
    char c = content[i];
    if (c == '\n') {
      flush();
    } else if (printable(c) || (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n')) {
      line += c;
    } else {
      return false;
    }
  }
  flush();
  return true;
}

SecretKeys::Key make_key(std::string material) {
  SecretKeys::Key key;
  key.id = text::hex_encode(sha256(material)).substr(0, 8);
  key.material = std::move(material);
  return key;
}

}  // namespace

Result<SecretKeys> SecretKeys::parse(const std::string& content, const std::string& path) {
  SecretKeys out;
  std::vector<std::string> lines;
  bool is_text = text_lines(content, lines);
  bool one_key_a_line = is_text && !lines.empty();
  for (const auto& line : lines)
    if (line.size() < kMinKeyBytes) one_key_a_line = false;

  if (one_key_a_line) {
    for (auto& line : lines) out.keys.push_back(make_key(line));
    return out;
  }
  if (content.size() < kMinKeyBytes) {
    return Status::Invalid(quoted(path) + " is " + std::to_string(content.size()) + " bytes; " +
                           how_to_make(path));
  }
  if (is_text && lines.size() > 1) {
    out.warning = quoted(path) + " has a line shorter than " + std::to_string(kMinKeyBytes) +
                  " characters, so the whole file is used as one key; for key rotation put one "
                  "key of at least " +
                  std::to_string(kMinKeyBytes) +
                  " printable characters on each line, the current key first";
  }
  out.keys.push_back(make_key(content));
  return out;
}

Result<SecretKeys> SecretKeys::load(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::Invalid(quoted(path) + " cannot be opened (" + std::strerror(errno) +
                           "); it must exist, be readable by the user that starts httpd, and it " +
                           how_to_make(path));
  }
  struct stat st;
  std::string content;
  std::string error;
  if (fstat(fd, &st) != 0) {
    error = std::string(" cannot be read (") + std::strerror(errno) + ")";
  } else if (!S_ISREG(st.st_mode)) {
    error = " is not a regular file";
  } else if (std::string problem = open_mode_problem(path, st.st_mode); !problem.empty()) {
    error = problem;
  } else if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
    error = " is " + std::to_string(st.st_size) + " bytes; a secret file holds at most " +
            std::to_string(kMaxFileBytes) + " bytes (is it the right file?)";
  } else {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 && content.size() <= kMaxFileBytes)
      content.append(buf, static_cast<size_t>(n));
    if (n < 0) error = std::string(" cannot be read (") + std::strerror(errno) + ")";
  }
  close(fd);
  if (!error.empty()) return Status::Invalid(quoted(path) + error);
  return parse(content, path);
}

}  // namespace core
}  // namespace natomedia
