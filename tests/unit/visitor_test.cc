// Who is signed in for any request httpd serves (core/visitor.cc) and the health answer
// (core/health.cc), without httpd: one question to the identity provider per request, the
// newsletter asked through its provider, where the sign-in page sends the visitor back, and
// the JSON naming what is down.
#include <cppunit/extensions/HelperMacros.h>

#include "core/clock.h"
#include "core/crypto_service.h"
#include "core/health.h"
#include "core/i18n_catalogue.h"
#include "core/metrics_registry.h"
#include "core/plugin_registry.h"
#include "core/portal.h"
#include "core/secret_keys.h"
#include "core/template_engine.h"
#include "core/visitor.h"

#include <natomedia/providers.h>

namespace natomedia::core {
namespace {

class NullLogger : public Logger {
 public:
  void log(LogLevel, const std::string&) override {}
};

class CountingIdentity : public IdentityProvider {
 public:
  Result<std::optional<Account>> resolve(Context&) override {
    ++calls;
    return answer;
  }
  Result<std::optional<Account>> answer = std::optional<Account>();
  int calls = 0;
};

class FakeNewsletter : public NewsletterService {
 public:
  Result<bool> subscribed(Context&, int64_t account_id) override {
    asked = account_id;
    return answer;
  }
  Result<bool> answer = false;
  int64_t asked = 0;
};

class FakeSql : public Sql {
 public:
  Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>&) override {
    if (down) return Status::Unavailable("down");
    SqlRows rows;
    if (sql.find("mail_outbox") != std::string::npos) {
      rows.columns = {"backlog", "oldest"};
      rows.rows = {{std::string("3"), std::string("900")}};
    } else {
      rows.columns = {"one"};
      rows.rows = {{std::string("1")}};
    }
    return rows;
  }
  Result<int> exec(const std::string&, const std::vector<SqlValue>&) override { return 0; }
  Status begin() override { return Status::Ok(); }
  Status commit() override { return Status::Ok(); }
  Status rollback() override { return Status::Ok(); }
  std::string driver() const override { return "sqlite3"; }
  bool down = false;
};

class FakeCache : public Cache {
 public:
  CacheEntry get(const std::string&) override {
    CacheEntry e;
    e.outcome = down ? CacheOutcome::kError : CacheOutcome::kMiss;
    return e;
  }
  Status set(const std::string&, const std::string&, long) override { return Status::Ok(); }
  Status add(const std::string&, const std::string&, long) override { return Status::Ok(); }
  Status cas(const std::string&, const std::string&, long, uint64_t) override {
    return Status::Ok();
  }
  Status remove(const std::string&) override { return Status::Ok(); }
  Result<uint64_t> increment(const std::string&, uint64_t, long) override { return 1; }
  bool down = false;
};

class FakeFeed : public Feed {
 public:
  std::shared_ptr<const FeedSnapshot> snapshot() const override { return snap; }
  std::shared_ptr<FeedSnapshot> snap = std::make_shared<FeedSnapshot>();
};

class VisitorTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(VisitorTest);
  CPPUNIT_TEST(testAsksTheIdentityProviderOnce);
  CPPUNIT_TEST(testPortalReusesTheAnswer);
  CPPUNIT_TEST(testNewsletterThroughItsProvider);
  CPPUNIT_TEST(testSignInRequired);
  CPPUNIT_TEST(testRemoteUser);
  CPPUNIT_TEST(testAcceptsHtml);
  CPPUNIT_TEST(testReturnTo);
  CPPUNIT_TEST(testHealthAllWell);
  CPPUNIT_TEST(testHealthNamesWhatIsDown);
  CPPUNIT_TEST_SUITE_END();

  std::unique_ptr<PluginRegistry> registry_;
  std::unique_ptr<CryptoService> crypto_;
  std::shared_ptr<Catalogue> i18n_;
  std::unique_ptr<TemplateEngine> templates_;
  SystemClock clock_;
  Services services_;
  Site site_;
  NullLogger logger_;
  std::shared_ptr<CountingIdentity> identity_;
  std::shared_ptr<FakeNewsletter> newsletter_;

  void build(bool with_newsletter) {
    registry_ = std::make_unique<PluginRegistry>(SiteConfig{});
    registry_->route("GET", "/t/who",
                     [](Context& ctx) {
                       Response r;
                       auto a = ctx.account();
                       r.body = a ? a->email : "nobody";
                       return r;
                     },
                     {});
    identity_ = std::make_shared<CountingIdentity>();
    registry_->identity_provider(identity_);
    newsletter_ = std::make_shared<FakeNewsletter>();
    if (with_newsletter)
      registry_->provide(kNewsletterServiceName, kNewsletterServiceVersion, newsletter_);
    services_ = Services();
    services_.router = &registry_->router();
    services_.extensions = &registry_->extensions();
    services_.metrics = &registry_->metrics();
    services_.crypto = crypto_.get();
    services_.i18n = i18n_.get();
    services_.templates = templates_.get();
    services_.clock = &clock_;
  }

  IncomingRequest get(const std::string& path) {
    IncomingRequest in;
    in.method = "GET";
    in.path = path;
    in.headers["cookie"] = "nm_session=x";
    return in;
  }

  static Account account() {
    Account a;
    a.id = 42;
    a.email = "ann@example.org";
    a.state = "verified";
    return a;
  }

 public:
  void setUp() override {
    auto keys = SecretKeys::parse(std::string(64, 'k'), "test");
    crypto_ = std::make_unique<CryptoService>(*keys);
    i18n_ = *Catalogue::load({std::string(NM_SOURCE_DIR) + "/share/i18n"});
    templates_ = std::make_unique<TemplateEngine>(
        std::vector<std::string>{std::string(NM_SOURCE_DIR) + "/share/templates"}, i18n_);
    site_ = Site();
    site_.config.enabled = true;
    build(true);
  }

  void testAsksTheIdentityProviderOnce() {
    identity_->answer = std::optional<Account>(account());
    Visitor v(services_, site_, get("/static/x.html"), nullptr, logger_);
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"), v.account()->email);
    CPPUNIT_ASSERT(v.account());
    CPPUNIT_ASSERT(!v.known().unknowable);
    CPPUNIT_ASSERT_EQUAL(1, identity_->calls);
  }

  void testPortalReusesTheAnswer() {
    identity_->answer = std::optional<Account>(account());
    Visitor v(services_, site_, get("/t/who"), nullptr, logger_);
    IncomingRequest in = get("/t/who");
    in.known_account = v.known();
    Answer a = handle_request(services_, site_, in, nullptr, logger_);
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"), a.response.body);
    CPPUNIT_ASSERT_EQUAL(1, identity_->calls);
    // Without a known answer the portal asks for itself.
    handle_request(services_, site_, get("/t/who"), nullptr, logger_);
    CPPUNIT_ASSERT_EQUAL(2, identity_->calls);
  }

  void testNewsletterThroughItsProvider() {
    Visitor nobody(services_, site_, get("/x"), nullptr, logger_);
    CPPUNIT_ASSERT(!*nobody.subscribed());
    CPPUNIT_ASSERT_EQUAL(int64_t(0), newsletter_->asked);

    identity_->answer = std::optional<Account>(account());
    Visitor ann(services_, site_, get("/x"), nullptr, logger_);
    CPPUNIT_ASSERT(!*ann.subscribed());
    CPPUNIT_ASSERT_EQUAL(int64_t(42), newsletter_->asked);
    newsletter_->answer = true;
    CPPUNIT_ASSERT(*ann.subscribed());
    newsletter_->answer = Status::Unavailable("database down");
    CPPUNIT_ASSERT(!ann.subscribed().ok());

    build(false);  // no newsletter plugin loaded: cannot be told
    identity_->answer = std::optional<Account>(account());
    Visitor alone(services_, site_, get("/x"), nullptr, logger_);
    CPPUNIT_ASSERT(!alone.subscribed().ok());
  }

  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return "";
  }

  void testSignInRequired() {
    Visitor v(services_, site_, get("/members/a b.html"), nullptr, logger_);
    const std::string location =
        "/account/login?return_to=%2Fmembers%2Fa%2520b.html%3Fx%3D1%26y%3D2";
    Response browser = v.refusal("/members/a%20b.html", "x=1&y=2", "text/html,*/*;q=0.8");
    CPPUNIT_ASSERT_EQUAL(303, browser.status);
    CPPUNIT_ASSERT_EQUAL(location, header(browser, "Location"));
    CPPUNIT_ASSERT_EQUAL(std::string("Accept, Cookie"), header(browser, "Vary"));
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), header(browser, "Cache-Control"));

    Response api = v.refusal("/members/a%20b.html", "x=1&y=2", "application/json");
    CPPUNIT_ASSERT_EQUAL(401, api.status);
    CPPUNIT_ASSERT_EQUAL(std::string(""), header(api, "Location"));
    CPPUNIT_ASSERT_EQUAL("NatoMedia sign_in=\"" + location + "\"", header(api, "WWW-Authenticate"));
    CPPUNIT_ASSERT_EQUAL("<" + location + ">; rel=\"login\"", header(api, "Link"));
    CPPUNIT_ASSERT_EQUAL("Sign in first: " + location + "\n", api.body);
    CPPUNIT_ASSERT_EQUAL(401, v.refusal("/members/", "", "").status);

    identity_->answer = Status::Unavailable("database down");
    Visitor unknown(services_, site_, get("/members/"), nullptr, logger_);
    CPPUNIT_ASSERT(!unknown.account());
    CPPUNIT_ASSERT(unknown.known().unknowable);
    for (const char* accept : {"text/html", "application/json"}) {
      Response r = unknown.refusal("/members/", "", accept);
      CPPUNIT_ASSERT_EQUAL(503, r.status);
      CPPUNIT_ASSERT(!header(r, "Retry-After").empty());
    }
  }

  void testRemoteUser() {
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"),
                         remote_user(account(), RemoteUser::kEmail));
    CPPUNIT_ASSERT_EQUAL(std::string("42"), remote_user(account(), RemoteUser::kId));
  }

  void testAcceptsHtml() {
    CPPUNIT_ASSERT(accepts_html("text/html,application/xhtml+xml,*/*;q=0.8"));
    CPPUNIT_ASSERT(accepts_html("application/json, TEXT/HTML ;q=0.5"));
    CPPUNIT_ASSERT(!accepts_html("application/json"));
    CPPUNIT_ASSERT(!accepts_html("*/*"));
    CPPUNIT_ASSERT(!accepts_html(""));
    CPPUNIT_ASSERT(!accepts_html("text/html;q=0"));
    CPPUNIT_ASSERT(!accepts_html("text/html;q=0.000, application/json"));
    CPPUNIT_ASSERT(!accepts_html("text/htmlx"));
  }

  void testReturnTo() {
    CPPUNIT_ASSERT_EQUAL(std::string("/members/p?x=1"), return_to_for("", "/members/p", "x=1"));
    CPPUNIT_ASSERT_EQUAL(std::string("/members/p"), return_to_for("", "/members/p", ""));
    CPPUNIT_ASSERT_EQUAL(std::string("/news/?a"), return_to_for("/portal", "/portal/news/", "a"));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), return_to_for("/portal", "/portal", ""));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), return_to_for("/portal", "/portalx/p", ""));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), return_to_for("/portal", "/members/p", "x=1"));
  }

  HealthInputs healthy(FakeSql& sql, FakeCache& cache, FakeFeed& feed) {
    HealthInputs in;
    in.sql = &sql;
    in.cache = &cache;
    in.memcached_configured = true;
    in.feed = &feed;
    in.feed_configured = true;
    feed.snap->items.resize(2);
    feed.snap->loaded_at = 1000;
    feed.snap->modified = 500;
    in.mail_sender_configured = true;
    in.mail_sender_last_run = 1190;
    in.now = 1200;
    return in;
  }

  void testHealthAllWell() {
    FakeSql sql;
    FakeCache cache;
    FakeFeed feed;
    HealthReport r = check_health(healthy(sql, cache, feed));
    CPPUNIT_ASSERT(r.ok);
    CPPUNIT_ASSERT_EQUAL(
        std::string("{\"status\":\"ok\",\"down\":[],\"sql\":{\"ok\":true},"
                    "\"memcached\":{\"ok\":true,\"configured\":true},"
                    "\"feed\":{\"ok\":true,\"configured\":true,\"items\":2,\"age_seconds\":700},"
                    "\"outbox\":{\"ok\":true,\"backlog\":3,\"oldest_age_seconds\":300},"
                    "\"mail_sender\":{\"ok\":true,\"configured\":true,\"last_run\":1190,"
                    "\"age_seconds\":10}}\n"),
        r.json);
  }

  void testHealthNamesWhatIsDown() {
    FakeSql sql;
    FakeCache cache;
    FakeFeed feed;
    HealthInputs in = healthy(sql, cache, feed);
    cache.down = true;
    HealthReport r = check_health(in);
    CPPUNIT_ASSERT(!r.ok);
    CPPUNIT_ASSERT(r.json.find("\"down\":[\"memcached\"]") != std::string::npos);
    CPPUNIT_ASSERT(r.json.find("\"memcached\":{\"ok\":false") != std::string::npos);
    cache.down = false;
    sql.down = true;
    r = check_health(in);
    CPPUNIT_ASSERT(r.json.find("\"down\":[\"sql\",\"outbox\"]") != std::string::npos);
    in.sql = nullptr;  // no connection at all
    CPPUNIT_ASSERT(check_health(in).json.find("\"down\":[\"sql\",\"outbox\"]") !=
                   std::string::npos);
    sql.down = false;
    in.sql = &sql;
    in.mail_sender_last_run = in.now - kMailSenderStaleSeconds - 1;
    CPPUNIT_ASSERT(check_health(in).json.find("\"down\":[\"mail_sender\"]") != std::string::npos);
    in.mail_sender_last_run = 0;  // not run yet since the start: no failure
    CPPUNIT_ASSERT(check_health(in).ok);
    feed.snap->loaded_at = 0;  // a configured feed that never loaded
    CPPUNIT_ASSERT(check_health(in).json.find("\"down\":[\"feed\"]") != std::string::npos);
    in.feed_configured = false;
    in.memcached_configured = false;
    cache.down = true;
    CPPUNIT_ASSERT(check_health(in).ok);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(VisitorTest);

}  // namespace
}  // namespace natomedia::core
