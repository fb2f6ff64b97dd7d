// Request and Response: what a route handler reads and returns. Plain data, no httpd types.
// The core fills a Request from httpd, validates its encoding (CONTRACT section 7) before any
// handler sees it, and turns a Response back into httpd's answer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace natomedia {

class Sql;

// Decoded name/value pairs in arrival order (form fields, query parameters, cookies).
// Names and values are valid UTF-8 without NUL bytes: the parser refuses anything else.
class Params {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // The first value of `name`, or nullopt.
  std::optional<std::string> get(const std::string& name) const {
    for (const auto& [n, v] : items_)
      if (n == name) return v;
    return std::nullopt;
  }
  std::string get_or(const std::string& name, std::string fallback = {}) const {
    auto v = get(name);
    return v ? *v : std::move(fallback);
  }
  bool has(const std::string& name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;       // "GET", "POST", …
  std::string path;         // below NatoMediaBasePath, decoded, always starting with '/'
  std::string base_path;    // NatoMediaBasePath ("" or "/prefix")
  std::string raw_query;    // as received, without '?'
  Params query;             // parsed query string
  Params form;              // parsed application/x-www-form-urlencoded body (POST)
  Params cookies;           // parsed Cookie header
  Params route;             // values of {placeholders} in the matched route pattern
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string client_ip;
  std::string user_agent;
  std::string lang;         // "en" or "fr", chosen from ?lang=, the cookie, Accept-Language
  bool https = false;

  std::optional<std::string> header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

// A file for httpd to send itself (sendfile, Range, conditional requests). The path must already
// be resolved and contained (see Files::resolve_under); the core re-checks nothing about it.
struct FileBody {
  std::string path;
  std::string content_type;
  std::string etag;                 // strong ETag including quotes, or "" to let the core derive one
  std::string disposition;          // full Content-Disposition value, or ""
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, repeatable
  std::optional<FileBody> file;     // when set, body is ignored and httpd sends the file
  // Runs after the answer has gone out (httpd's log_transaction phase), with the bytes of body
  // actually sent and the final status: for logs that must record what really happened (a
  // download cut short, a 304, a 206). It gets its own database connection; it must not throw.
  std::function<void(Sql& sql, uint64_t bytes_sent, int status)> after_sent;

  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // `location` is sent as given: for a page of the portal pass Context::url(base-relative path),
  // which adds NatoMediaBasePath once.
  static Response Redirect(const std::string& location, int status = 303) {
    Response r;
    r.status = status;
    r.body.clear();
    r.header("Location", location);
    return r;
  }
};

// Attributes of a cookie the core writes; Secure and the __Host- prefix are added on HTTPS.
struct CookieSpec {
  std::string name;
  std::string value;
  long max_age = -1;                // seconds; -1: a session cookie; 0: delete
  bool http_only = true;
  std::string same_site = "Lax";
};

}  // namespace natomedia
