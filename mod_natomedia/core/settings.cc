#include "core/settings.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

namespace natomedia::core {

Result<std::string> check_base_path(const std::string& v) {
  if (v.empty() || v == "/") return std::string();
  if (v[0] != '/' || v.back() == '/' || v.find("//") != std::string::npos ||
      v.find("/.") != std::string::npos ||
      v.find_first_of(" \t?#%\\\"'<>") != std::string::npos)
    return Status::Invalid("'" + v + "' is not a base path: write a path such as /portal "
                           "(leading '/', no trailing '/', no '..', no '?', '#', '%' or spaces)");
  return v;
}

Result<std::string> check_public_url(const std::string& v) {
  std::string scheme_end = "://";
  size_t p = v.find(scheme_end);
  std::string scheme = p == std::string::npos ? "" : v.substr(0, p);
  std::string rest = p == std::string::npos ? "" : v.substr(p + 3);
  if ((scheme != "http" && scheme != "https") || rest.empty() || rest[0] == '/' ||
      v.find_first_of(" \t?#\"'<>\\") != std::string::npos)
    return Status::Invalid("'" + v + "' is not an absolute http(s) URL without query: write e.g. "
                           "https://media.example.org");
  std::string out = v;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

Result<long> check_seconds(const std::string& v, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max)
    return Status::Invalid("'" + v + "' is not a whole number of seconds from " +
                           std::to_string(min) + " to " + std::to_string(max));
  return n;
}

Result<long> check_days(const std::string& v, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max)
    return Status::Invalid("'" + v + "' is not a whole number of days from " + std::to_string(min) +
                           " to " + std::to_string(max));
  return n;
}

Result<uint64_t> check_bytes(const std::string& v) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || v[0] == '-' || *end != '\0' || errno != 0 || n == 0)
    return Status::Invalid("'" + v + "' is not a positive whole number of bytes (e.g. 10737418240)");
  return static_cast<uint64_t>(n);
}

Result<std::string> check_directory(const std::string& v) {
  char buf[PATH_MAX];
  struct stat st;
  if (!realpath(v.c_str(), buf) || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::Invalid("'" + v + "' is not an existing directory");
  return std::string(buf);
}

Status check_readable_file(const std::string& path) {
  std::ifstream f(path);
  struct stat st;
  if (!f || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::Invalid("cannot read the file '" + path + "' (missing, not a file, or no permission)");
  return Status::Ok();
}

Result<MailTransport> parse_mail_transport(const std::string& v) {
  MailTransport t;
  const std::string bad = "'" + v + "' is not a mail transport: write smtp://host:port, "
                          "smtps://host:port or file:///absolute/dir";
  auto after = [&](const std::string& prefix) { return v.substr(prefix.size()); };
  if (v.rfind("file://", 0) == 0) {
    std::string dir = after("file://");
    if (dir.empty() || dir[0] != '/') return Status::Invalid(bad);
    auto d = check_directory(dir);
    if (!d.ok()) return Status::Invalid("mail folder " + d.status().message());
    t.kind = MailTransport::Kind::kFile;
    t.dir = *d;
    t.url = v;
    return t;
  }
  bool smtps = v.rfind("smtps://", 0) == 0;
  if (!smtps && v.rfind("smtp://", 0) != 0) return Status::Invalid(bad);
  std::string host = after(smtps ? "smtps://" : "smtp://");
  while (!host.empty() && host.back() == '/') host.pop_back();
  if (host.empty() || host.find_first_of("/ \t?#") != std::string::npos)
    return Status::Invalid(bad);
  t.kind = smtps ? MailTransport::Kind::kSmtps : MailTransport::Kind::kSmtp;
  t.url = (smtps ? "smtps://" : "smtp://") + host;
  return t;
}

}  // namespace natomedia::core
