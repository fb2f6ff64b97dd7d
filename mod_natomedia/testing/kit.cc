// The plugin test kit (include/natomedia/testing/kit.h): the core's registry, pipeline, request
// context, templates, catalogue, crypto, migrations and feed loader around doubles. Built into
// libnatomedia_testing.so, which exports the kit's classes and nothing of the core.
#include <natomedia/testing/kit.h>
#include <natomedia/text.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "core/crypto_service.h"
#include "core/feed_loader.h"
#include "core/i18n_catalogue.h"
#include "core/migrations.h"
#include "core/plugin_registry.h"
#include "core/portal.h"
#include "core/request_context.h"
#include "core/secret_keys.h"
#include "core/sql_dbd.h"
#include "core/template_engine.h"
#include "core/xml_safe_parser.h"

namespace natomedia::testing {
namespace {

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

apr_pool_t* root_pool() {
  static apr_pool_t* pool = [] {
    apr_initialize();
    apr_pool_t* p = nullptr;
    apr_pool_create(&p, nullptr);
    return p;
  }();
  return pool;
}

// Fills a jar from Set-Cookie values: "name=value; attributes"; Max-Age=0 deletes.
void absorb_cookies(std::map<std::string, std::string>& jar,
                    const std::vector<std::string>& set_cookies) {
  for (const auto& c : set_cookies) {
    const auto eq = c.find('=');
    if (eq == std::string::npos) continue;
    const auto semi = c.find(';');
    std::string name = c.substr(0, eq);
    std::string value = c.substr(eq + 1, semi == std::string::npos ? std::string::npos
                                                                   : semi - eq - 1);
    if (text::lower_ascii(c).find("max-age=0") != std::string::npos)
      jar.erase(name);
    else
      jar[name] = value;
  }
}

std::string cookie_header(const std::map<std::string, std::string>& jar) {
  std::string h;
  for (const auto& [n, v] : jar) h += (h.empty() ? "" : "; ") + n + "=" + v;
  return h;
}

class KitIdentity : public IdentityProvider {
 public:
  Result<std::optional<Account>> resolve(Context&) override { return answer; }
  Result<std::optional<Account>> answer = std::optional<Account>();
};

class KitLogger : public core::Logger {
 public:
  void log(LogLevel level, const std::string& message) override {
    static const char* names[] = {"debug", "info", "warning", "error"};
    const int i = static_cast<int>(level);
    lines.push_back(std::string(i >= 0 && i < 4 ? names[i] : "log") + " " + message);
  }
  std::vector<std::string> lines;
};

// The one in-memory connection, lent to each request (an in-memory SQLite lives per connection).
class BorrowedSql : public Sql {
 public:
  explicit BorrowedSql(Sql& sql) : sql_(sql) {}
  Result<SqlRows> query(const std::string& s, const std::vector<SqlValue>& p) override {
    return sql_.query(s, p);
  }
  Result<int> exec(const std::string& s, const std::vector<SqlValue>& p) override {
    return sql_.exec(s, p);
  }
  Status begin() override { return sql_.begin(); }
  Status commit() override { return sql_.commit(); }
  Status rollback() override { return sql_.rollback(); }
  std::string driver() const override { return sql_.driver(); }

 private:
  Sql& sql_;
};

void kit_anchor() {}

}  // namespace

std::string share_dir() {
  if (const char* env = std::getenv("NATOMEDIA_SHARE_DIR"); env && *env) return env;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&kit_anchor), &info) && info.dli_fname) {
    std::string lib = info.dli_fname;
    const auto slash = lib.rfind('/');
    if (slash != std::string::npos) {
      const std::string candidate = lib.substr(0, slash) + "/../share/natomedia";
      if (is_dir(candidate + "/templates")) return candidate;
      // A multiarch libdir (PREFIX/lib/x86_64-linux-gnu).
      const std::string deeper = lib.substr(0, slash) + "/../../share/natomedia";
      if (is_dir(deeper + "/templates")) return deeper;
    }
  }
  return NM_DEFAULT_SHARE_DIR;
}

Result<std::shared_ptr<const FeedSnapshot>> load_feed(const std::string& xml_path) {
  core::init_xml_library();
  const std::string xsd = share_dir() + "/schemas/natomedia-feed.xsd";
  auto schema = core::FeedSchema::load(xsd);
  if (!schema.ok()) return Status::Invalid("feed schema " + xsd + ": " + schema.status().message());
  return core::load_feed_file(xml_path, **schema, core::LoadOptions());
}

std::string Answer::header(const std::string& name) const {
  const std::string want = text::lower_ascii(name);
  for (const auto& [n, v] : response.headers)
    if (text::lower_ascii(n) == want) return v;
  return "";
}

// ---- TestDatabase ------------------------------------------------------------------------------

struct TestDatabase::Impl {
  apr_pool_t* pool = nullptr;
  std::unique_ptr<core::OwnedDbdSql> sql;
  bool core_done = false;
};

TestDatabase::TestDatabase() : impl_(std::make_unique<Impl>()) {
  apr_pool_create(&impl_->pool, root_pool());
  auto sql = core::open_dbd("sqlite3", ":memory:", impl_->pool);
  if (!sql.ok()) throw std::runtime_error("in-memory SQLite: " + sql.status().message());
  impl_->sql = std::move(*sql);
}

TestDatabase::~TestDatabase() {
  impl_->sql.reset();
  apr_pool_destroy(impl_->pool);
}

Sql& TestDatabase::sql() { return *impl_->sql; }

Status TestDatabase::migrate(const std::string& owner, const std::vector<Migration>& migrations) {
  std::vector<core::OwnedMigration> all;
  if (!impl_->core_done)
    for (auto& m : core::core_migrations()) all.push_back({"core", std::move(m)});
  for (const auto& m : migrations) all.push_back({owner, m});
  auto report = core::migrate(*impl_->sql, all);
  if (!report.ok()) return report.status();
  impl_->core_done = true;
  return Status::Ok();
}

// ---- TestPortal --------------------------------------------------------------------------------

struct TestPortal::Impl {
  Options options;
  std::vector<natomedia_plugin_info> infos;  // reserved up front: the registry keeps pointers
  std::unique_ptr<core::PluginRegistry> registry;
  TestDatabase db;
  FakeClock clock;
  FakeCache cache{clock};
  FakeServerCache server_cache{clock};
  FakeOutbox outbox;
  StaticFeed feed;
  std::unique_ptr<core::CryptoService> crypto;
  std::shared_ptr<core::Catalogue> i18n;
  std::unique_ptr<core::TemplateEngine> templates;
  std::shared_ptr<KitIdentity> identity;
  core::Services services;
  core::Site site;
  KitLogger logger;
  core::SqlFactory sql_factory;
  std::map<std::string, std::string> jar;

  core::IncomingRequest incoming(const std::string& method, const std::string& path_and_query,
                                 const std::string& lang) {
    core::IncomingRequest in;
    in.method = method;
    const auto q = path_and_query.find('?');
    in.path = site.config.base_path + path_and_query.substr(0, q);
    if (q != std::string::npos) in.raw_query = path_and_query.substr(q + 1);
    if (!lang.empty())
      in.raw_query += (in.raw_query.empty() ? "lang=" : "&lang=") + lang;
    in.client_ip = "127.0.0.1";
    in.headers["host"] = "portal.test";
    in.headers["user-agent"] = "natomedia-testing";
    if (!jar.empty()) in.headers["cookie"] = cookie_header(jar);
    return in;
  }
};

TestPortal::TestPortal(const std::string& plugin_name, Setup setup)
    : TestPortal(plugin_name, setup, Options()) {}

TestPortal::TestPortal(const natomedia_plugin_info* plugin, Options options)
    : TestPortal(plugin && plugin->name ? plugin->name : "", plugin ? plugin->setup : nullptr,
                 std::move(options)) {}

TestPortal::TestPortal(const std::string& plugin_name, Setup setup, Options options,
                       std::vector<std::pair<std::string, Setup>> more)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = std::move(options);
  if (!setup || plugin_name.empty()) throw std::invalid_argument("TestPortal: no plugin setup");
  if (m.options.resources_dir.empty())
    if (const char* env = std::getenv("NATOMEDIA_TEST_RESOURCES")) m.options.resources_dir = env;
  SiteConfig config;
  config.enabled = true;
  config.base_path = m.options.base_path;
  config.public_url = m.options.public_url;
  config.share_dir = share_dir();
  m.registry = std::make_unique<core::PluginRegistry>(config);
  more.insert(more.begin(), {plugin_name, setup});
  m.infos.reserve(more.size());
  for (const auto& [name, fn] : more) {
    m.infos.push_back({NATOMEDIA_ABI_VERSION, NATOMEDIA_CXX_STRING_ABI,
                       NATOMEDIA_CXX_LIBRARY_RELEASE, name.c_str(), "test", fn});
    // The names live in `more` until setup is over; the registry copies what it keeps.
    m.infos.back().name = strdup(name.c_str());
    auto plugin = std::make_shared<core::LoadedPlugin>(nullptr, &m.infos.back(), "(test) " + name);
    Status s = m.registry->setup(plugin);
    if (!s.ok()) throw std::runtime_error(s.message());
  }
  if (m.options.fake_identity) {
    m.identity = std::make_shared<KitIdentity>();
    m.registry->identity_provider(m.identity);
  }

  // Migrations (the core's first, as the module runs them).
  auto report = core::migrate(m.db.sql(), m.registry->migrations());
  if (!report.ok()) throw std::runtime_error("migrations: " + report.status().message());

  // Templates and strings: what setup passed to resources_dir, Options::resources_dir, then
  // the installed defaults — the module's look-up order without a site folder.
  std::vector<std::string> template_dirs, i18n_dirs;
  for (const auto& [plugin, dir] : m.registry->resource_dirs()) {
    template_dirs.push_back(dir + "/templates");
    i18n_dirs.push_back(dir + "/i18n");
  }
  if (!m.options.resources_dir.empty()) {
    template_dirs.push_back(m.options.resources_dir + "/templates");
    i18n_dirs.push_back(m.options.resources_dir + "/i18n");
  }
  template_dirs.push_back(config.share_dir + "/templates");
  i18n_dirs.push_back(config.share_dir + "/i18n");
  auto catalogue = core::Catalogue::load(i18n_dirs);
  if (!catalogue.ok())
    throw std::runtime_error("string catalogues: " + catalogue.status().message());
  m.i18n = *catalogue;
  m.templates = std::make_unique<core::TemplateEngine>(template_dirs, m.i18n);

  auto keys = core::SecretKeys::parse(std::string(64, 'k'), "natomedia-testing");
  if (!keys.ok()) throw std::runtime_error("test key: " + keys.status().message());
  m.crypto = std::make_unique<core::CryptoService>(*keys);

  if (!m.options.feed_file.empty()) {
    auto snapshot = load_feed(m.options.feed_file);
    if (!snapshot.ok()) throw std::runtime_error(snapshot.status().message());
    // As httpd does before serving it: the plugins' feed derivers (on_feed_load).
    core::derive_feed(m.registry->feed_derivers(), **snapshot, [](const std::string& problem) {
      throw std::runtime_error("feed deriver: " + problem);
    });
    m.feed.set(*snapshot);
  }

  m.services.router = &m.registry->router();
  m.services.extensions = &m.registry->extensions();
  m.services.metrics = &m.registry->metrics();
  m.services.cache = &m.cache;
  m.services.crypto = m.crypto.get();
  m.services.templates = m.templates.get();
  m.services.i18n = m.i18n.get();
  m.services.outbox = &m.outbox;
  m.services.clock = &m.clock;
  m.services.server_cache = m.options.server_cache ? &m.server_cache : nullptr;
  m.site.config = config;
  m.site.feed = &m.feed;
  Sql* sql = &m.db.sql();
  m.sql_factory = [sql]() -> std::unique_ptr<Sql> { return std::make_unique<BorrowedSql>(*sql); };
}

TestPortal::~TestPortal() {
  for (auto& info : impl_->infos) free(const_cast<char*>(info.name));
}

Answer TestPortal::request(const std::string& method, const std::string& path_and_query,
                           const std::string& body, std::map<std::string, std::string> headers) {
  Impl& m = *impl_;
  core::IncomingRequest in = m.incoming(method, path_and_query, "");
  for (auto& [n, v] : headers) in.headers[text::lower_ascii(n)] = v;
  in.body = body;
  core::Answer a = core::handle_request(m.services, m.site, in, m.sql_factory, m.logger);
  std::vector<std::string> set;
  for (const auto& [n, v] : a.response.headers)
    if (text::lower_ascii(n) == "set-cookie") set.push_back(v);
  absorb_cookies(m.jar, set);
  Answer out;
  out.response = std::move(a.response);
  out.declined = a.declined;
  return out;
}

Answer TestPortal::get(const std::string& path_and_query, const std::string& lang) {
  std::string p = path_and_query;
  if (!lang.empty()) p += (p.find('?') == std::string::npos ? "?lang=" : "&lang=") + lang;
  return request("GET", p, "", {});
}

Answer TestPortal::post(const std::string& path_and_query,
                        const std::vector<std::pair<std::string, std::string>>& form,
                        const std::string& lang) {
  std::string body;
  bool has_token = false;
  for (const auto& [n, v] : form) {
    if (n == "csrf_token") has_token = true;
    body += (body.empty() ? "" : "&") + text::url_encode(n) + "=" + text::url_encode(v);
  }
  if (!has_token) body += (body.empty() ? "" : "&") + std::string("csrf_token=") +
                          text::url_encode(csrf_token());
  std::string p = path_and_query;
  if (!lang.empty()) p += (p.find('?') == std::string::npos ? "?lang=" : "&lang=") + lang;
  return request("POST", p, body,
                 {{"content-type", "application/x-www-form-urlencoded"},
                  {"origin", impl_->site.config.public_url}});
}

std::string TestPortal::csrf_token() {
  auto ctx = context("GET", "/");
  std::string token = ctx->csrf_token();
  absorb_cookies(impl_->jar, ctx->set_cookies());
  return token;
}

std::map<std::string, std::string>& TestPortal::cookies() { return impl_->jar; }

void TestPortal::sign_in(const Account& account) {
  if (!impl_->identity) throw std::logic_error("sign_in needs Options::fake_identity");
  impl_->identity->answer = std::optional<Account>(account);
}
void TestPortal::sign_out() {
  if (impl_->identity) impl_->identity->answer = std::optional<Account>();
}
void TestPortal::identity_down() {
  if (impl_->identity) impl_->identity->answer = Status::Unavailable("identity down (test)");
}

Sql& TestPortal::sql() { return impl_->db.sql(); }
FakeClock& TestPortal::clock() { return impl_->clock; }
FakeCache& TestPortal::cache() { return impl_->cache; }
FakeServerCache& TestPortal::server_cache() { return impl_->server_cache; }
FakeOutbox& TestPortal::outbox() { return impl_->outbox; }
StaticFeed& TestPortal::feed() { return impl_->feed; }
Crypto& TestPortal::crypto() { return *impl_->crypto; }
const Templates& TestPortal::templates() const { return *impl_->templates; }
const I18n& TestPortal::i18n() const { return *impl_->i18n; }
uint64_t TestPortal::counter(const std::string& name) const {
  return impl_->registry->metrics().value(name);
}
const std::vector<std::string>& TestPortal::log() const { return impl_->logger.lines; }
const SiteConfig& TestPortal::config() const { return impl_->site.config; }
std::shared_ptr<void> TestPortal::provider(const std::string& name, int version) const {
  const auto& p = impl_->registry->extensions().providers;
  auto it = p.find({name, version});
  return it == p.end() ? nullptr : it->second;
}
std::vector<std::string> TestPortal::routes() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->registry->router().routes()) out.push_back(r.method + " " + r.pattern);
  return out;
}

// ---- FakeContext -------------------------------------------------------------------------------

struct FakeContext::Impl {
  TestPortal::Impl& portal;
  std::unique_ptr<core::RequestContext> ctx;
};

std::unique_ptr<FakeContext> TestPortal::context(
    const std::string& method, const std::string& path_and_query,
    std::vector<std::pair<std::string, std::string>> form, const std::string& lang) {
  Impl& m = *impl_;
  core::IncomingRequest in = m.incoming(method, path_and_query, lang);
  Request request = core::make_request(m.site, in);
  for (auto& [n, v] : form) request.form.add(n, v);
  auto impl = std::make_unique<FakeContext::Impl>(FakeContext::Impl{m, nullptr});
  impl->ctx = std::make_unique<core::RequestContext>(m.services, m.site, std::move(request),
                                                     m.sql_factory, m.logger);
  return std::unique_ptr<FakeContext>(new FakeContext(std::move(impl)));
}

FakeContext::FakeContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeContext::~FakeContext() = default;

Response& FakeContext::run() {
  auto match = impl_->portal.registry->router().match(request().method, request().path);
  if (!match.route) {
    answer_ = error(404, "error.404.message");
    return answer_;
  }
  mutable_request().route = match.params;
  return call(match.route->handler);
}

Response& FakeContext::call(const Handler& handler) {
  answer_ = handler(*this);
  return answer_;
}

std::vector<std::string> FakeContext::set_cookies() const { return impl_->ctx->set_cookies(); }
bool FakeContext::csrf_valid() const { return impl_->ctx->csrf_valid(); }
Request& FakeContext::mutable_request() { return const_cast<Request&>(impl_->ctx->request()); }

const Request& FakeContext::request() const { return impl_->ctx->request(); }
const SiteConfig& FakeContext::config() const { return impl_->ctx->config(); }
Sql& FakeContext::sql() { return impl_->ctx->sql(); }
Cache& FakeContext::cache() { return impl_->ctx->cache(); }
Outbox& FakeContext::outbox() { return impl_->ctx->outbox(); }
const Templates& FakeContext::templates() const { return impl_->ctx->templates(); }
const I18n& FakeContext::i18n() const { return impl_->ctx->i18n(); }
Crypto& FakeContext::crypto() { return impl_->ctx->crypto(); }
const Feed& FakeContext::feed() const { return impl_->ctx->feed(); }
Metrics& FakeContext::metrics() { return impl_->ctx->metrics(); }
const Clock& FakeContext::clock() const { return impl_->ctx->clock(); }
ServerCache* FakeContext::server_cache() { return impl_->ctx->server_cache(); }
std::optional<Account> FakeContext::account() { return impl_->ctx->account(); }
void FakeContext::reset_account() { impl_->ctx->reset_account(); }
Response FakeContext::sign_in_required(const std::string& return_to) {
  return impl_->ctx->sign_in_required(return_to);
}
Status FakeContext::emit(const AccountEventData& event) { return impl_->ctx->emit(event); }
Result<Value::Map> FakeContext::account_data(const Account& account) {
  return impl_->ctx->account_data(account);
}
std::shared_ptr<void> FakeContext::provider(const std::string& name, int version) const {
  return impl_->ctx->provider(name, version);
}
void FakeContext::set_cookie(const CookieSpec& cookie) { impl_->ctx->set_cookie(cookie); }
std::optional<std::string> FakeContext::cookie(const std::string& name) const {
  return impl_->ctx->cookie(name);
}
std::string FakeContext::csrf_token() { return impl_->ctx->csrf_token(); }
void FakeContext::rotate_csrf() { impl_->ctx->rotate_csrf(); }
void FakeContext::log(LogLevel level, const std::string& message) {
  impl_->ctx->log(level, message);
}
Response FakeContext::page(int status, const std::string& tmpl, Vars vars) {
  return impl_->ctx->page(status, tmpl, std::move(vars));
}
Response FakeContext::error(int status, const std::string& message_key) {
  return impl_->ctx->error(status, message_key);
}
Response FakeContext::unavailable(long retry_after_seconds) {
  return impl_->ctx->unavailable(retry_after_seconds);
}

}  // namespace natomedia::testing
