// The plugin test kit (CMake target NatoMedia::testing, installed with the SDK): runs a plugin's
// setup in the core's own registry and serves it with the core's own request pipeline, templates,
// string catalogue and CSRF, on an in-memory SQLite database that holds the plugin's migrations,
// with doubles (doubles.h) for memcached, mail, the clock and the feed. A broken template, a
// missing string, a migration that SQLite refuses or a route that forgets CSRF fails here, in a
// unit test, not as a 500 in production.
//
//   natomedia::testing::TestPortal portal(setup, {"/path/to/resources"});   // setup: the plugin's
//   auto page = portal.get("/watchlist/");                                    // NATOMEDIA_PLUGIN fn
//   portal.sign_in(natomedia::testing::account(7, "ann@example.org"));
//   auto done = portal.post("/watchlist/", {{"item", "urn:x"}});  // CSRF token added (see post)
//
// Paths are base-relative, as everywhere in the SDK: the portal adds Options::base_path once.
// Not thread-safe: one test, one thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <natomedia/plugin.h>
#include <natomedia/testing/doubles.h>

#define NATOMEDIA_TESTING_API __attribute__((visibility("default")))

// The entry point NATOMEDIA_PLUGIN defines, for a test that compiles the plugin's sources in.
extern "C" const natomedia_plugin_info* natomedia_plugin_entry(void);

namespace natomedia::testing {

// The folder holding the installed defaults (templates/core/*.html, i18n/core.*.strings,
// schemas/): $NATOMEDIA_SHARE_DIR when set, else the share/natomedia next to the kit's library
// (PREFIX/lib/../share/natomedia), else the install prefix's.
NATOMEDIA_TESTING_API std::string share_dir();

// A NewsML-G2 file read, validated and reduced by the core's own feed loader (the installed
// schema), or the loader's Invalid with line numbers.
NATOMEDIA_TESTING_API Result<std::shared_ptr<const FeedSnapshot>> load_feed(
    const std::string& xml_path);

// An SQLite database in memory, through the same apr_dbd driver and prepared statements the
// module uses. migrate() applies migrations the way the module does (schema_migrations, one
// transaction each), so a migration SQLite refuses fails here.
class NATOMEDIA_TESTING_API TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Sql& sql();
  // Applies `owner`'s migrations (and the core's, once). Ok, or the failing one's error.
  Status migrate(const std::string& owner, const std::vector<Migration>& migrations);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An account as the identity provider gives it: verified, English, epoch 1.
inline Account account(int64_t id, std::string email, std::string lang = "en") {
  Account a;
  a.id = id;
  a.email = std::move(email);
  a.state = "verified";
  a.lang = std::move(lang);
  a.credential_epoch = 1;
  return a;
}

// What the portal answered: the Response as the core finished it (security and cache headers
// added), and the cookies it set.
struct Answer {
  Response response;
  bool declined = false;  // outside the portal: httpd would have served it
  int status() const { return response.status; }
  const std::string& body() const { return response.body; }
  // The first header of that name (case-insensitive), or "".
  NATOMEDIA_TESTING_API std::string header(const std::string& name) const;
};

class FakeContext;

// How a TestPortal is set up.
struct PortalOptions {
  // The plugin's resources, laid out as for PluginHost::resources_dir and natomedia_add_plugin
  // RESOURCES: DIR/templates/PLUGIN/NAME.html and DIR/i18n/*.strings. Looked up before the
  // installed defaults (share_dir()), after what the plugin's setup passed to resources_dir.
  // Empty: $NATOMEDIA_TEST_RESOURCES (natomedia_add_plugin_test sets it from the plugin's
  // RESOURCES), if set.
  std::string resources_dir;
  // NatoMediaBasePath of the test site ("" or "/prefix").
  std::string base_path;
  // NatoMediaPublicURL.
  std::string public_url = "https://portal.test";
  // A NewsML-G2 file for Context::feed() (loaded with load_feed); none: an empty feed.
  std::string feed_file;
  // Answer Context::account() with sign_in()'s account (a fake identity provider). Off when
  // the plugin under test is itself the identity provider.
  bool fake_identity = true;
  // Give Context::server_cache() a FakeServerCache (TestPortal::server_cache()), as a server
  // with NatoMediaSessionCache has; off: nullptr, as `NatoMediaSessionCache none`.
  bool server_cache = false;
};

// One plugin (or several) set up in the core's registry, with the core's services around it.
class NATOMEDIA_TESTING_API TestPortal {
 public:
  using Setup = void (*)(PluginHost*);

  using Options = PortalOptions;

  // Runs `setup` (the function given to NATOMEDIA_PLUGIN) under `plugin_name`, then each of
  // `more` (other plugins it needs, by name), then the migrations. Throws std::runtime_error
  // with the core's message when setup registers something invalid, a migration fails, a
  // catalogue does not load or the feed file is refused.
  TestPortal(const std::string& plugin_name, Setup setup, Options options,
             std::vector<std::pair<std::string, Setup>> more = {});
  TestPortal(const std::string& plugin_name, Setup setup);
  // The plugin compiled into the test (its NATOMEDIA_PLUGIN entry: natomedia_plugin_entry()).
  explicit TestPortal(const natomedia_plugin_info* plugin, Options options = Options());
  ~TestPortal();
  TestPortal(const TestPortal&) = delete;
  TestPortal& operator=(const TestPortal&) = delete;

  // ---- requests through the core's pipeline (routing, 404/405, CSRF and Origin checks, the
  // language, the base path, exceptions into 500, page headers). The cookie jar keeps what
  // answers set (the language, the CSRF binding…), as a browser would. `path_and_query` is
  // base-relative ("/watchlist/?lang=fr"); the portal adds the base path.
  Answer get(const std::string& path_and_query, const std::string& lang = "");
  // POST with an application/x-www-form-urlencoded body made of `form`. Unless `form` holds
  // csrf_token already, a valid token for the jar's binding is added (csrf_token()).
  Answer post(const std::string& path_and_query,
              const std::vector<std::pair<std::string, std::string>>& form,
              const std::string& lang = "");
  // A request as written; `headers` with lower-case names. The jar's cookies are added.
  Answer request(const std::string& method, const std::string& path_and_query,
                 const std::string& body, std::map<std::string, std::string> headers);
  // A CSRF token valid for the jar's binding cookie (sets one in the jar when there is none).
  std::string csrf_token();
  std::map<std::string, std::string>& cookies();

  // Who Context::account() says is signed in from now on (fake identity only); sign_out():
  // nobody; identity_down(): the identity provider answers Unavailable (the database is away).
  void sign_in(const Account& account);
  void sign_out();
  void identity_down();

  // ---- a Context for calling one handler (or any plugin function taking a Context) directly.
  std::unique_ptr<FakeContext> context(const std::string& method,
                                       const std::string& path_and_query,
                                       std::vector<std::pair<std::string, std::string>> form = {},
                                       const std::string& lang = "en");

  // ---- what the plugin sees and leaves behind.
  Sql& sql();                            // the in-memory SQLite, migrated
  FakeClock& clock();                    // Context::clock()
  FakeCache& cache();                    // Context::cache()
  FakeServerCache& server_cache();       // Context::server_cache() with Options::server_cache
  FakeOutbox& outbox();                  // Context::outbox(): the mails queued
  StaticFeed& feed();                    // Context::feed()
  Crypto& crypto();                      // the core's crypto with a fixed test key
  const Templates& templates() const;    // the real engine: plugin resources, then defaults
  const I18n& i18n() const;              // the real catalogue: plugin strings, then defaults
  uint64_t counter(const std::string& name) const;  // a declared counter's value
  const std::vector<std::string>& log() const;      // what Context::log wrote, "LEVEL message"
  const SiteConfig& config() const;
  // The provider a plugin registered with PluginHost::provide, or nullptr.
  std::shared_ptr<void> provider(const std::string& name, int version) const;
  // The routes registered, "METHOD pattern", in order.
  std::vector<std::string> routes() const;

 private:
  friend class FakeContext;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A Context for one request of a TestPortal, as a handler receives it (the core's own request
// context: real page(), error(), csrf_token(), cookies, sign_in_required…). run() calls the
// handler the route table gives for the method and path, as the pipeline would (without its
// checks: use TestPortal::get/post for those); call() calls any handler. The answer is recorded.
class NATOMEDIA_TESTING_API FakeContext : public Context {
 public:
  ~FakeContext() override;

  // The matched route's handler with this context (route values filled); a 404 when none.
  Response& run();
  Response& call(const Handler& handler);
  // The last answer run() or call() gave.
  Response& answer() { return answer_; }
  // The Set-Cookie values this request produced ("name=value; Path=/; …").
  std::vector<std::string> set_cookies() const;
  // Whether the form's csrf_token matches the request's binding cookie.
  bool csrf_valid() const;
  Request& mutable_request();

  const Request& request() const override;
  const SiteConfig& config() const override;
  Sql& sql() override;
  Cache& cache() override;
  Outbox& outbox() override;
  const Templates& templates() const override;
  const I18n& i18n() const override;
  Crypto& crypto() override;
  const Feed& feed() const override;
  Metrics& metrics() override;
  const Clock& clock() const override;
  std::optional<Account> account() override;
  void reset_account() override;
  Response sign_in_required(const std::string& return_to) override;
  Status emit(const AccountEventData& event) override;
  Result<Value::Map> account_data(const Account& account) override;
  std::shared_ptr<void> provider(const std::string& name, int version) const override;
  void set_cookie(const CookieSpec& cookie) override;
  std::optional<std::string> cookie(const std::string& name) const override;
  std::string csrf_token() override;
  void rotate_csrf() override;
  void log(LogLevel level, const std::string& message) override;
  Response page(int status, const std::string& tmpl, Vars vars) override;
  Response error(int status, const std::string& message_key) override;
  Response unavailable(long retry_after_seconds) override;
  ServerCache* server_cache() override;

 private:
  friend class TestPortal;
  struct Impl;
  explicit FakeContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Response answer_;
};

}  // namespace natomedia::testing
