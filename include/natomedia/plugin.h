// The plugin SDK: the one door between a plugin and mod_natomedia's core.
//
// A plugin is a shared object that defines its entry point with NATOMEDIA_PLUGIN(...). At
// configuration time the core calls the plugin's setup function with a PluginHost, through which
// the plugin registers routes, schema migrations, counters, event listeners and providers. While
// requests are served the core calls the registered handlers with a Context, which gives the
// request and the services. Handlers run on many threads at once; a Context belongs to one request.
//
// A handler may throw: the core catches everything at its boundary, logs it and answers 500.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <natomedia/config.h>
#include <natomedia/feed.h>
#include <natomedia/http.h>
#include <natomedia/services.h>
#include <natomedia/status.h>
#include <natomedia/values.h>

// Bumped whenever anything in include/natomedia/ changes in a way that breaks built plugins.
// The CMake package exports it as NatoMedia_ABI_VERSION. (4: the plugin entry carries the C++
// library ABI; Response::redirect_to_slash; PageLinks; Value from every arithmetic type;
// AccountEvent::kDeleted, Context::emit's Status, the account export: on_export, account_data;
// Context::server_cache and ServerCache; SiteConfig::session_cache_lifetime.)
#define NATOMEDIA_ABI_VERSION 4u

// The C++ standard library ABI the plugin is compiled against, which must be the core's: the SDK
// passes std::string, std::function and std::vector across the plugin boundary, and a plugin built
// with the other libstdc++ string ABI (-D_GLIBCXX_USE_CXX11_ABI=0) or another libstdc++ major
// version would read them wrongly (undefined behaviour). The core refuses such a plugin at
// configtest, naming both. Values: _GLIBCXX_USE_CXX11_ABI (0 or 1) and _GLIBCXX_RELEASE (the GCC /
// libstdc++ major version, e.g. 12); -1 when the library is not libstdc++.
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define NATOMEDIA_CXX_STRING_ABI _GLIBCXX_USE_CXX11_ABI
#else
#define NATOMEDIA_CXX_STRING_ABI (-1)
#endif
#if defined(_GLIBCXX_RELEASE)
#define NATOMEDIA_CXX_LIBRARY_RELEASE _GLIBCXX_RELEASE
#else
#define NATOMEDIA_CXX_LIBRARY_RELEASE (-1)
#endif

namespace natomedia {

// Everything a handler can reach while it answers one request.
class Context {
 public:
  virtual ~Context() = default;

  virtual const Request& request() const = 0;
  virtual const SiteConfig& config() const = 0;

  // This request's database connection (acquired on first use). When the database cannot be
  // reached every call on it returns Unavailable.
  virtual Sql& sql() = 0;
  virtual Cache& cache() = 0;
  virtual Outbox& outbox() = 0;
  virtual const Templates& templates() const = 0;
  virtual const I18n& i18n() const = 0;
  virtual Crypto& crypto() = 0;
  virtual const Feed& feed() const = 0;
  virtual Metrics& metrics() = 0;
  virtual const Clock& clock() const = 0;

  // Paths: every path a plugin hands the SDK (a route pattern, `return_to`, the path given to
  // url() and absolute_url(), a page's `lang_switch_to`) is base-relative: "/videos/42", never
  // NatoMediaBasePath + "/videos/42". The SDK adds the base path exactly once. Request::path is
  // base-relative too; Request::base_path is the prefix, for the rare handler that needs it.

  // The signed-in account, asked of the identity provider once per request.
  virtual std::optional<Account> account() = 0;
  // Forgets the cached answer of account(), after signing in or out.
  virtual void reset_account() = 0;
  // The answer of a page that needs a signed-in visitor when account() has none: 303 to the
  // sign-in page, which comes back to `return_to`; or, when who is signed in could not be told
  // (the identity provider said Unavailable), 503 with Retry-After, so that a signed-in visitor
  // is not sent to sign in again while the database is away. `return_to` is base-relative, with
  // its query if any ("/videos/42?x=1"); the SDK prefixes the sign-in page's path with the base
  // path and carries `return_to` as given, and the sign-in page prefixes it again on the way back.
  // Passing url(...) here would add the base path twice ("/p/p/videos/42").
  virtual Response sign_in_required(const std::string& return_to) = 0;
  // Tells every listener of the event, in plugin load order. A listener's failure (it threw) is
  // logged and does not stop the others; the answer is then the first failure, naming the plugin
  // (Ok when every listener returned), so that the account erasure can roll back (SDK ABI 4).
  virtual Status emit(const AccountEventData& event) = 0;
  // A provider another plugin registered with PluginHost::provide, or nullptr.
  virtual std::shared_ptr<void> provider(const std::string& name, int version) const = 0;
  // What every plugin holds about `account`, for GET /account/export: each exporter's Value
  // (PluginHost::on_export) under its plugin's name, in load order. The first exporter that fails
  // makes the whole answer that failure (an export is complete or not given). (SDK ABI 4.)
  virtual Result<Value::Map> account_data(const Account& account) = 0;

  // Adds Set-Cookie to the answer (Secure and the __Host- prefix on HTTPS). An answer that sets
  // any cookie but the language's gets Cache-Control: no-store from the core.
  virtual void set_cookie(const CookieSpec& cookie) = 0;
  // The value of a cookie the core wrote (it knows the __Host- prefix), or nullopt.
  virtual std::optional<std::string> cookie(const std::string& name) const = 0;
  // The CSRF token for the forms of this answer (sets the binding cookie when there is none);
  // the answer gets Cache-Control: no-store from the core.
  virtual std::string csrf_token() = 0;
  // Binds CSRF tokens to a new random value from now on (after sign-in and sign-out).
  virtual void rotate_csrf() = 0;

  // Writes to httpd's error log with the request's id. Never pass a secret, code or password.
  virtual void log(LogLevel level, const std::string& message) = 0;

  // A page from `tmpl` with the common values (lang, strings, base path, csrf_token, account,
  // the lang-switch links) added to `vars`. The language switcher links this page's own path and
  // query in each other language; a handler whose answer should be reached by another URL (an
  // answer to a POST) sets vars["lang_switch_to"] to that base-relative path and query. A 4xx page
  // gets "Error: " before its title; one that names a field's error (a truthy var whose name ends
  // in "_error" or "_errors", or vars["form_failed"] = true) also gets an error summary that takes
  // the focus (a refusal that is not a form, such as a quota page, does not). A page that shows
  // the csrf_token or the signed-in
  // account is private: the core sends it with Cache-Control: no-store (whatever Cache-Control
  // the handler set), and only such a page sets the CSRF binding cookie.
  virtual Response page(int status, const std::string& tmpl, Vars vars) = 0;
  // The one error page: a status with a message from the string catalogue.
  virtual Response error(int status, const std::string& message_key) = 0;
  // 503 with that error page and Retry-After: a service the answer needs (the database,
  // memcached, a provider) cannot be reached now.
  virtual Response unavailable(long retry_after_seconds) = 0;
  // This server's shared-memory cache (NatoMediaSessionCache), or nullptr when there is none
  // (`NatoMediaSessionCache none`, or a context without a server around it). (SDK ABI 4.)
  virtual ServerCache* server_cache() { return nullptr; }

  // base_path + path, for links in pages. `path` is base-relative ("/watchlist/"): the base
  // path is added here, once. Every path a plugin hands the SDK (route patterns, url(),
  // absolute_url(), sign_in_required's return_to, Response::Redirect(ctx.url(...))) is
  // base-relative; only url()/absolute_url() results are full paths.
  std::string url(const std::string& path) const { return request().base_path + path; }
  // NatoMediaPublicURL + base_path + path, for links in mail and feeds (`path` base-relative).
  std::string absolute_url(const std::string& path) const {
    return config().public_url + request().base_path + path;
  }
  // The answer for a path that names a folder without its trailing slash ("/watchlist"): a
  // redirect to the same path with the slash (and the same query), under the base path. 301 by
  // default (a permanent move), 303 for a page that may later exist on its own. (SDK ABI 4.)
  Response redirect_to_slash(int status = 301) const {
    std::string location = url(request().path + "/");
    if (!request().raw_query.empty()) location += "?" + request().raw_query;
    return Response::Redirect(location, status);
  }
};

using Handler = std::function<Response(Context&)>;

// A handler for the path without its trailing slash: host->route("GET", "/watchlist",
// natomedia::redirect_to_slash) sends /watchlist to /watchlist/ (301, query kept).
inline Response redirect_to_slash(Context& ctx) { return ctx.redirect_to_slash(); }
using EventListener = std::function<void(Context&, const AccountEventData&)>;

// A plugin's part of an account's data export (GET /account/export, CONTRACT section 13): what
// it holds about `account` as a Value (maps, lists, strings, booleans; numbers are written as
// strings), which the export writes as JSON under the plugin's name. Never a secret (a password
// hash, a session id, a code, a token). Runs in a request, read-only, with ctx.sql(); an
// unreachable database is an error Status (the export then answers 503). (SDK ABI version 4.)
using AccountExporter = std::function<Result<Value>(Context&, const Account&)>;

// What one pruning run removed (or emptied), by kind of row, named for the error log's line and
// for `natomedia-admin db prune`: {"expired sessions", 12}.
struct Pruned {
  std::string what;
  int64_t rows = 0;
};

// A plugin's retention rules for its own tables: deletes (or empties) what has had its time at
// `now`, with `sql`, and says how many rows of each kind. `config` is the server-wide
// configuration (NatoMediaSessionIdle, NatoMediaDownloadLogDays…). The core runs every pruner
// outside requests, each in a transaction of its own (an error rolls back that pruner only and
// is logged): in one process per server every NatoMediaPruneInterval (a mod_watchdog task), and
// in `natomedia-admin db prune`. Several servers sharing a database may run it at once, so a
// pruner must be a set of idempotent statements. (SDK ABI version 3.)
// Makes something of a feed snapshot once, when it is loaded (see PluginHost::on_feed_load).
using FeedDeriver = std::function<std::shared_ptr<const void>(const FeedSnapshot&)>;

using Pruner =
    std::function<Result<std::vector<Pruned>>(Sql& sql, const SiteConfig& config, std::time_t now)>;

struct RouteOptions {
  // POST routes check csrf_token (and Origin / Sec-Fetch-Site) before the handler runs; RFC 8058
  // one-click unsubscribe is the rare route that must not.
  bool csrf = true;
};

// Registration, at configuration time only (never while requests are served).
class PluginHost {
 public:
  virtual ~PluginHost() = default;

  virtual const std::string& plugin_name() const = 0;
  virtual const SiteConfig& server_config() const = 0;

  // `pattern` is a base-relative path (the core serves it under NatoMediaBasePath); a segment "{name}" matches one path segment,
  // which the handler reads from Request::route. The same pattern with another method adds to
  // the Allow list of the 405 answer.
  virtual void route(const std::string& method, const std::string& pattern, Handler handler,
                     RouteOptions options = {}) = 0;
  virtual void migration(Migration migration) = 0;
  virtual void counter(const std::string& name, const std::string& help) = 0;
  virtual void on(AccountEvent event, EventListener listener) = 0;
  virtual void identity_provider(std::shared_ptr<IdentityProvider> provider) = 0;
  // A service for other plugins, found with Context::provider(name, version).
  virtual void provide(const std::string& name, int version, std::shared_ptr<void> service) = 0;
  // A folder laid out like the share directory: DIR/templates/PLUGIN/NAME.html (rendered as
  // "PLUGIN/NAME.html") and DIR/i18n/*.strings. Plugins installed with the module need not call
  // it: their resources are in the share directory already. Looked up after NatoMediaTemplates.
  virtual void resources_dir(const std::string& dir) = 0;
  // The plugin's retention rules (see Pruner); may be called more than once (SDK ABI version 3).
  virtual void on_prune(Pruner pruner) = 0;
  // Something the plugin builds from each feed snapshot (a search index…), made when the snapshot
  // is loaded — in httpd's parent at start-up, then on the thread that loads each new version —
  // before any request is served from it, and kept with it: snapshot->derived_as<T>(name) gives
  // it back, made from that very snapshot. `derive` may run on any thread; an exception is
  // logged and leaves that snapshot without it. `name` should start with the plugin's name
  // (SDK ABI 4).
  virtual void on_feed_load(const std::string& name, FeedDeriver derive) = 0;
  // The plugin's part of the account data export (see AccountExporter); once per plugin (ABI 4).
  // Its part of an account's erasure is a listener of AccountEvent::kDeleted (see on()).
  virtual void on_export(AccountExporter exporter) = 0;
};

}  // namespace natomedia

extern "C" {

// What a plugin's entry point returns. abi_version comes first and never moves, so the core can
// read it from a plugin built for any ABI and refuse a mismatch before touching anything else;
// only then does it read the C++ library ABI (cxx_string_abi, cxx_library_release, both filled by
// NATOMEDIA_PLUGIN from the compiler) and refuse a plugin whose C++ library differs from its own.
struct natomedia_plugin_info {
  uint32_t abi_version;
  int32_t cxx_string_abi;       // NATOMEDIA_CXX_STRING_ABI (since ABI version 4)
  int32_t cxx_library_release;  // NATOMEDIA_CXX_LIBRARY_RELEASE (since ABI version 4)
  const char* name;
  const char* version;
  void (*setup)(natomedia::PluginHost* host);
};

typedef const natomedia_plugin_info* (*natomedia_plugin_entry_fn)(void);
}

#define NATOMEDIA_PLUGIN_ENTRY_SYMBOL "natomedia_plugin_entry"

// Optional second entry point: the names of the plugins this one cannot work without (the ones
// whose providers it needs), a null-terminated list. When one of them is not loaded, the core
// refuses the configuration (`apachectl configtest` fails) with a message naming both. A plugin
// without it needs nothing; the core looks it up by name, so adding it changes no ABI.
typedef const char* const* (*natomedia_plugin_requires_fn)(void);
#define NATOMEDIA_PLUGIN_REQUIRES_SYMBOL "natomedia_plugin_requires"

// Defines the plugin's entry point. Use once per plugin, at namespace scope.
#define NATOMEDIA_PLUGIN(plugin_name, plugin_version, setup_fn)                               \
  extern "C" __attribute__((visibility("default"))) const natomedia_plugin_info*              \
  natomedia_plugin_entry(void) {                                                               \
    static const natomedia_plugin_info info = {                                                \
        NATOMEDIA_ABI_VERSION, NATOMEDIA_CXX_STRING_ABI, NATOMEDIA_CXX_LIBRARY_RELEASE,         \
        plugin_name, plugin_version, setup_fn};                                                 \
    return &info;                                                                              \
  }

// Declares the plugins this one needs, by name, e.g. NATOMEDIA_PLUGIN_REQUIRES("verification").
// Use at most once per plugin, at namespace scope.
#define NATOMEDIA_PLUGIN_REQUIRES(...)                                                            \
  extern "C" __attribute__((visibility("default"))) const char* const* natomedia_plugin_requires( \
      void) {                                                                                     \
    static const char* const names[] = {__VA_ARGS__, nullptr};                                    \
    return names;                                                                                 \
  }
