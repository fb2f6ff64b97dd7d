#include "core/portal.h"

#include <algorithm>

#include <natomedia/text.h>

#include "core/metrics_registry.h"
#include "core/request_context.h"
#include "core/request_parsing.h"

namespace natomedia::core {

namespace {

// The path below the base path, or "" when `path` is not under it.
std::string relative_path(const std::string& base, const std::string& path) {
  if (base.empty()) return path.empty() ? "/" : path;
  if (path.compare(0, base.size(), base) != 0) return "";
  std::string rest = path.substr(base.size());
  if (rest.empty()) return "/";
  return rest[0] == '/' ? rest : "";
}

std::string join_methods(const std::vector<std::string>& methods) {
  std::string out;
  for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m;
  return out;
}

std::string media_type(const std::string& content_type) {
  return text::lower_ascii(text::trim(content_type.substr(0, content_type.find(';'))));
}

bool is_form_content_type(const std::string& content_type) {
  return media_type(content_type) == "application/x-www-form-urlencoded";
}

bool is_multipart(const std::string& content_type) {
  return media_type(content_type) == "multipart/form-data";
}

// The origin the browser must be on for a POST to be ours: the public URL's, or this host's.
bool same_origin(const Request& req, const SiteConfig& config, const std::string& origin) {
  if (!config.public_url.empty()) {
    const std::string& pub = config.public_url;
    size_t scheme_end = pub.find("://");
    size_t path_start = scheme_end == std::string::npos ? std::string::npos
                                                        : pub.find('/', scheme_end + 3);
    if (origin == pub.substr(0, path_start)) return true;
  }
  auto host = req.header("host");
  return host && origin == std::string(req.https ? "https://" : "http://") + *host;
}

// CSRF: the token must match the browser's binding cookie; where the browser tells us where the
// request came from (Sec-Fetch-Site, Origin), that must be this site too.
bool csrf_ok(const RequestContext& ctx) {
  const Request& req = ctx.request();
  if (auto site = req.header("sec-fetch-site"))
    if (*site != "same-origin" && *site != "none") return false;
  if (auto origin = req.header("origin"))
    if (*origin != "null" && !same_origin(req, ctx.config(), *origin)) return false;
  return ctx.csrf_valid();
}

Response run_handler(const Router::Route& route, RequestContext& ctx, Logger& logger) {
  try {
    return route.handler(ctx);
  } catch (const std::exception& e) {
    logger.log(LogLevel::kError, "handler " + route.method + " " + route.pattern + " of plugin " +
                                     route.plugin + " failed: " + e.what());
  } catch (...) {
    logger.log(LogLevel::kError, "handler " + route.method + " " + route.pattern + " of plugin " +
                                     route.plugin + " failed with an unknown exception");
  }
  return ctx.error(500, "error.500.message");
}

// No cache, shared or the browser's, may keep the answer: drops any Cache-Control a handler set.
void forbid_storing(Response& r) {
  auto& h = r.headers;
  h.erase(
      std::remove_if(h.begin(), h.end(),
                     [](const auto& kv) { return text::lower_ascii(kv.first) == "cache-control"; }),
      h.end());
  r.header("Cache-Control", "no-store");
}

}  // namespace

void add_page_headers(Response& r) {
  r.header("X-Content-Type-Options", "nosniff");
  r.header("Referrer-Policy", "same-origin");
  r.header("X-Frame-Options", "DENY");
  r.header("Content-Security-Policy",
           "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

void add_file_headers(Response& r) {
  // A handler's own value of these never weakens them: it is replaced.
  auto ours = [](const std::pair<std::string, std::string>& h) {
    const std::string name = text::lower_ascii(h.first);
    return name == "x-content-type-options" || name == "content-security-policy";
  };
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), ours), r.headers.end());
  r.header("X-Content-Type-Options", "nosniff");
  r.header("Content-Security-Policy", "sandbox");
}

bool portal_owns(const Services& services, const Site& site, std::string_view path) {
  // relative_path() without its copies: this runs for every request httpd serves.
  if (!site.config.enabled) return false;
  const std::string& base = site.config.base_path;
  if (base.empty()) return services.router->owns(path.empty() ? std::string_view("/") : path);
  if (path.substr(0, base.size()) != base) return false;
  return path.size() == base.size() || path[base.size()] == '/';
}

Request make_request(const Site& site, const IncomingRequest& in, Status* query_status,
                     const std::vector<std::string>& languages) {
  Request req;
  req.method = in.method;
  req.path = relative_path(site.config.base_path, in.path);
  req.base_path = site.config.base_path;
  req.raw_query = in.raw_query;
  req.headers = in.headers;
  req.client_ip = in.client_ip;
  req.https = in.https;
  if (auto ua = req.header("user-agent")) req.user_agent = *ua;
  if (auto c = req.header("cookie")) parse_cookies(*c, req.cookies);

  Status parsed = parse_urlencoded(in.raw_query, req.query);
  const std::string cookie_lang_name = in.https ? "__Host-nm_lang" : "nm_lang";
  std::optional<std::string> query_lang = parsed.ok() ? req.query.get("lang") : std::nullopt;
  if (query_status) *query_status = parsed;
  req.lang = pick_language(query_lang, req.cookies.get(cookie_lang_name),
                           req.header("accept-language").value_or(""),
                           languages);
  return req;
}

Answer handle_request(const Services& services, const Site& site, const IncomingRequest& in,
                      const SqlFactory& sql_factory, Logger& logger) {
  Answer answer;
  if (!portal_owns(services, site, in.path)) {
    answer.declined = true;
    return answer;
  }
  Status query_status = Status::Ok();
  Request req = make_request(site, in, &query_status,
                             services.i18n ? services.i18n->languages() : std::vector<std::string>{});
  std::optional<std::string> query_lang = query_status.ok() ? req.query.get("lang") : std::nullopt;

  const Router::Match match = services.router->match(req.method, req.path);
  req.route = match.params;
  answer.route = match.route ? match.route->pattern : "unmatched";
  const bool is_post = req.method == "POST";
  Status form_status = Status::Ok();
  if (match.route && is_post && !in.body_too_large) {
    auto ct = req.header("content-type");
    if (!match.route->options.csrf && ct && is_multipart(*ct)) {
      // RFC 8058 one-click senders post multipart/form-data; such routes read only the URL.
    } else if (!in.body.empty() && (!ct || !is_form_content_type(*ct))) {
      form_status = Status::Invalid("the form must be sent as application/x-www-form-urlencoded");
    } else {
      form_status = parse_urlencoded(in.body, req.form);
    }
  }

  RequestContext ctx(services, site, std::move(req), sql_factory, logger);
  if (in.known_account) ctx.know_account(*in.known_account);
  if (query_lang && (*query_lang == "en" || *query_lang == "fr"))
    ctx.set_cookie({"nm_lang", *query_lang, 365L * 24 * 3600, true, "Lax"});

  Response& r = answer.response;
  if (!query_status.ok()) {
    r = ctx.error(400, "error.400.message");
  } else if (!match.route && match.allowed.empty()) {
    r = ctx.error(404, "error.404.message");
  } else if (!match.route) {
    r = ctx.error(405, "error.405.message");
    r.header("Allow", join_methods(match.allowed));
  } else if (is_post && in.body_too_large) {
    r = ctx.error(413, "error.413.message");
  } else if (!form_status.ok()) {
    logger.log(LogLevel::kInfo, "refused a form: " + form_status.message());
    r = ctx.error(400, "error.400.message");
  } else if (is_post && match.route->options.csrf && !csrf_ok(ctx)) {
    logger.log(LogLevel::kInfo, "refused a POST to " + ctx.request().path +
                                    ": missing or invalid CSRF token or cross-site origin");
    r = ctx.error(403, "error.403.message");
  } else {
    r = run_handler(*match.route, ctx, logger);
  }
  if (r.file) add_file_headers(r);
  for (const auto& c : ctx.set_cookies()) r.header("Set-Cookie", c);
  // CONTRACT section 12: an answer with a CSRF token, a session (or another credential cookie),
  // the signed-in account's data, or the echo of a form (an address, a code) is never stored.
  // Files (downloads, thumbnails) carry none of these and keep their own caching.
  if ((ctx.private_answer() || is_post) && !r.file) forbid_storing(r);
  if (r.content_type.rfind("text/html", 0) == 0) {
    r.header("Vary", "Accept-Language, Cookie");
    r.header("Content-Language", ctx.request().lang);
  }
  return answer;
}

}  // namespace natomedia::core
