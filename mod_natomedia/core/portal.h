// The request pipeline in plain C++: from a request as httpd received it to the answer, through
// routing, input validation (CONTRACT section 7), language choice, CSRF checks and the handler.
// The module translates request_rec to IncomingRequest and Answer back; everything between is
// here, so it is tested without httpd.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <natomedia/plugin.h>

#include "core/event_bus.h"
#include "core/router.h"

namespace natomedia::core {

class MetricsRegistry;

// The long-lived services of one configuration generation, shared by all requests.
struct Services {
  const Router* router = nullptr;
  const Extensions* extensions = nullptr;
  MetricsRegistry* metrics = nullptr;
  Cache* cache = nullptr;
  Crypto* crypto = nullptr;
  const Templates* templates = nullptr;
  const I18n* i18n = nullptr;
  Outbox* outbox = nullptr;
  const Clock* clock = nullptr;
  ServerCache* server_cache = nullptr;  // null: no NatoMediaSessionCache (set in post_config)
};

// What differs per virtual host.
struct Site {
  SiteConfig config;
  const Feed* feed = nullptr;  // never null while serving (an empty feed when none is configured)
};

// Who is signed in, when the module already asked for this request (core/visitor.h): the portal
// then does not ask the identity provider a second time.
struct KnownAccount {
  std::optional<Account> account;
  bool unknowable = false;  // the identity provider answered Unavailable
};

struct IncomingRequest {
  std::string method;
  std::string path;       // decoded by httpd, before the base path is taken off
  std::string raw_query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool body_too_large = false;
  std::string client_ip;
  bool https = false;
  std::optional<KnownAccount> known_account;
};

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, const std::string& message) = 0;
};

using SqlFactory = std::function<std::unique_ptr<Sql>()>;

struct Answer {
  bool declined = false;  // not the portal's: httpd serves it as usual
  Response response;
  // The matched route's pattern ("/news/{id}"), or "unmatched": the metrics' `route` label,
  // bounded by the route table (never the raw URL).
  std::string route;
};

// Whether a request for `path` must be read (body) and handled by the portal at all.
bool portal_owns(const Services& services, const Site& site, std::string_view path);

// The Request a Context gives handlers: headers, cookies, query and language of `in`, its path
// relative to the base path ("" when outside it). `query_status` (optional) says whether the
// query string parsed.
// `languages`: the page languages (I18n::languages()); empty means English and French.
Request make_request(const Site& site, const IncomingRequest& in, Status* query_status = nullptr,
                     const std::vector<std::string>& languages = {});

Answer handle_request(const Services& services, const Site& site, const IncomingRequest& in,
                      const SqlFactory& sql_factory, Logger& logger);

// Security headers every portal page carries.
void add_page_headers(Response& response);

// Headers every file answer (a Response with `file`: thumbnails, downloads, previews) carries,
// whatever its handler set (CONTRACT section 12, "Files served as data"): the browser takes the
// Content-Type as given (nosniff), and whatever it renders runs in a sandbox, with no origin.
void add_file_headers(Response& response);

}  // namespace natomedia::core
