// The request pipeline (core/portal.cc) without httpd: routing answers, input checks, CSRF,
// language choice, exceptions turned into 500, and the base path.
#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

#include "core/clock.h"
#include "core/crypto_service.h"
#include "core/i18n_catalogue.h"
#include "core/metrics_registry.h"
#include "core/plugin_registry.h"
#include "core/portal.h"
#include "core/secret_keys.h"
#include "core/template_engine.h"

namespace natomedia::core {
namespace {

class NullLogger : public Logger {
 public:
  void log(LogLevel, const std::string& m) override { last = m; }
  std::string last;
};

std::string header(const Response& r, const std::string& name) {
  std::string out;
  for (const auto& [n, v] : r.headers)
    if (n == name) out += (out.empty() ? "" : "\n") + v;
  return out;
}

// Answers what the test sets: an account, nobody, or Unavailable (the database is down).
class FakeIdentity : public IdentityProvider {
 public:
  Result<std::optional<Account>> resolve(Context&) override { return answer; }
  Result<std::optional<Account>> answer = std::optional<Account>();
};

class PortalTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PortalTest);
  CPPUNIT_TEST(testDeclinesWhatIsNotThePortals);
  CPPUNIT_TEST(testNotFoundAndMethodNotAllowed);
  CPPUNIT_TEST(testBadQueryAndBadFormAre400);
  CPPUNIT_TEST(testBodyTooLargeIs413);
  CPPUNIT_TEST(testPostNeedsCsrfToken);
  CPPUNIT_TEST(testCrossSiteOriginRefused);
  CPPUNIT_TEST(testRouteWithoutCsrf);
  CPPUNIT_TEST(testHandlerExceptionIs500);
  CPPUNIT_TEST(testLanguageFromQueryIsRemembered);
  CPPUNIT_TEST(testBasePath);
  CPPUNIT_TEST(testSignInRequired);
  CPPUNIT_TEST(testFileAnswersAreData);
  CPPUNIT_TEST(testPrivateAnswersAreNotStored);
  CPPUNIT_TEST(testPublicAnswersKeepTheirCaching);
  CPPUNIT_TEST_SUITE_END();

  std::unique_ptr<PluginRegistry> registry_;
  std::unique_ptr<CryptoService> crypto_;
  std::shared_ptr<Catalogue> i18n_;
  std::unique_ptr<TemplateEngine> templates_;
  SystemClock clock_;
  Services services_;
  Site site_;
  NullLogger logger_;
  SqlFactory no_sql_;
  std::shared_ptr<FakeIdentity> identity_;

  IncomingRequest get(const std::string& path, const std::string& query = "") {
    IncomingRequest in;
    in.method = "GET";
    in.path = path;
    in.raw_query = query;
    in.client_ip = "127.0.0.1";
    in.headers["host"] = "portal.test";
    return in;
  }

  IncomingRequest post(const std::string& path, const std::string& body,
                       const std::string& cookie = "") {
    IncomingRequest in = get(path);
    in.method = "POST";
    in.body = body;
    in.headers["content-type"] = "application/x-www-form-urlencoded";
    if (!cookie.empty()) in.headers["cookie"] = cookie;
    return in;
  }

  Answer handle(const IncomingRequest& in) {
    return handle_request(services_, site_, in, no_sql_, logger_);
  }

 public:
  void setUp() override {
    registry_ = std::make_unique<PluginRegistry>(SiteConfig{});
    registry_->route("GET", "/t/page", [](Context& ctx) {
      Response r;
      r.content_type = "text/plain";
      r.body = "lang=" + ctx.request().lang + " token=" + ctx.csrf_token();
      return r;
    }, {});
    registry_->route("POST", "/t/form", [](Context& ctx) {
      Response r;
      r.content_type = "text/plain";
      r.body = "got " + ctx.request().form.get_or("x");
      return r;
    }, {});
    registry_->route("POST", "/t/open", [](Context&) {
      Response r;
      r.body = "open";
      return r;
    }, RouteOptions{false});
    registry_->route("GET", "/t/throw", [](Context&) -> Response {
      throw std::runtime_error("boom");
    }, {});
    registry_->route("GET", "/t/mine", [](Context& ctx) {
      auto account = ctx.account();
      if (!account) return ctx.sign_in_required("/t/mine?x=1");
      Response r;
      r.body = "hello " + account->email;
      return r;
    }, {});
    // A page that shows the sign-out form (with its CSRF token) only to a signed-in visitor.
    registry_->route("GET", "/t/public",
                     [](Context& ctx) {
                       Vars vars;
                       vars["status"] = "200";
                       vars["title"] = "public";
                       vars["message"] = "news";
                       Response r = ctx.page(200, "core/error.html", std::move(vars));
                       r.header("Cache-Control", "public, max-age=60");
                       return r;
                     },
                     {});
    registry_->route("GET", "/t/file",
                     [](Context& ctx) {
                       ctx.account();
                       Response r;
                       r.file = FileBody{"/dev/null", "image/png", "", ""};
                       r.header("Cache-Control", "public, max-age=86400");
                       // A plugin's weaker word, which the core replaces.
                       r.header("Content-Security-Policy", "default-src *");
                       r.header("x-content-type-options", "sniff-away");
                       return r;
                     },
                     {});
    registry_->route("GET", "/t/session",
                     [](Context& ctx) {
                       ctx.set_cookie({"nm_session", "s3cret", -1, true, "Lax"});
                       Response r;
                       r.content_type = "text/plain";
                       r.header("Cache-Control", "public, max-age=60");
                       return r;
                     },
                     {});
    identity_ = std::make_shared<FakeIdentity>();
    registry_->identity_provider(identity_);
    auto keys = SecretKeys::parse(std::string(64, 'k'), "test");
    crypto_ = std::make_unique<CryptoService>(*keys);
    i18n_ = *Catalogue::load({std::string(NM_SOURCE_DIR) + "/share/i18n"});
    templates_ = std::make_unique<TemplateEngine>(
        std::vector<std::string>{std::string(NM_SOURCE_DIR) + "/share/templates"}, i18n_);
    services_ = Services();
    services_.router = &registry_->router();
    services_.extensions = &registry_->extensions();
    services_.metrics = &registry_->metrics();
    services_.crypto = crypto_.get();
    services_.i18n = i18n_.get();
    services_.templates = templates_.get();
    services_.clock = &clock_;
    site_ = Site();
    site_.config.enabled = true;
  }

  // Every file answer is data (CONTRACT section 12), whatever the handler set; pages keep theirs.
  void testFileAnswersAreData() {
    Answer file = handle(get("/t/file"));
    CPPUNIT_ASSERT(file.response.file);
    CPPUNIT_ASSERT_EQUAL(std::string("sandbox"), header(file.response, "Content-Security-Policy"));
    CPPUNIT_ASSERT_EQUAL(std::string("nosniff"), header(file.response, "X-Content-Type-Options"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), header(file.response, "x-content-type-options"));
    Answer page = handle(get("/t/page"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), header(page.response, "Content-Security-Policy"));
  }

  void testDeclinesWhatIsNotThePortals() {
    CPPUNIT_ASSERT(handle(get("/static.txt")).declined);
    CPPUNIT_ASSERT(handle(get("/")).declined);
    site_.config.enabled = false;
    CPPUNIT_ASSERT(handle(get("/t/page")).declined);
  }

  void testNotFoundAndMethodNotAllowed() {
    Answer a = handle(get("/t/nothing"));
    CPPUNIT_ASSERT(!a.declined);
    CPPUNIT_ASSERT_EQUAL(404, a.response.status);
    CPPUNIT_ASSERT(a.response.body.find("<html") != std::string::npos);
    Answer b = handle(post("/t/page", ""));
    CPPUNIT_ASSERT_EQUAL(405, b.response.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD"), header(b.response, "Allow"));
  }

  void testBadQueryAndBadFormAre400() {
    CPPUNIT_ASSERT_EQUAL(400, handle(get("/t/page", "a=%ff")).response.status);
    CPPUNIT_ASSERT_EQUAL(400, handle(get("/t/page", "a=%00")).response.status);
    CPPUNIT_ASSERT_EQUAL(400, handle(get("/t/page", "a=%zz")).response.status);
    CPPUNIT_ASSERT_EQUAL(400, handle(post("/t/form", "x=%C3%28")).response.status);
    IncomingRequest multipart = post("/t/form", "--b\r\n");
    multipart.headers["content-type"] = "multipart/form-data; boundary=b";
    CPPUNIT_ASSERT_EQUAL(400, handle(multipart).response.status);
  }

  void testBodyTooLargeIs413() {
    IncomingRequest in = post("/t/form", "");
    in.body_too_large = true;
    CPPUNIT_ASSERT_EQUAL(413, handle(in).response.status);
  }

  // A token from a page, with the cookie it is bound to.
  std::pair<std::string, std::string> token_and_cookie() {
    Answer page = handle(get("/t/page"));
    std::string body = page.response.body;
    std::string token = body.substr(body.find("token=") + 6);
    std::string set_cookie = header(page.response, "Set-Cookie");
    CPPUNIT_ASSERT(set_cookie.find("nm_csrf=") == 0);
    CPPUNIT_ASSERT(set_cookie.find("HttpOnly") != std::string::npos);
    CPPUNIT_ASSERT(set_cookie.find("SameSite=Lax") != std::string::npos);
    return {token, set_cookie.substr(0, set_cookie.find(';'))};
  }

  void testPostNeedsCsrfToken() {
    auto [token, cookie] = token_and_cookie();
    CPPUNIT_ASSERT_EQUAL(403, handle(post("/t/form", "x=1")).response.status);
    CPPUNIT_ASSERT_EQUAL(403, handle(post("/t/form", "x=1&csrf_token=" + token)).response.status);
    CPPUNIT_ASSERT_EQUAL(403, handle(post("/t/form", "x=1&csrf_token=forged", cookie)).response.status);
    CPPUNIT_ASSERT_EQUAL(403, handle(post("/t/form", "x=1&csrf_token=" + token,
                                          "nm_csrf=someone-elses")).response.status);
    Answer ok = handle(post("/t/form", "x=1&csrf_token=" + token, cookie));
    CPPUNIT_ASSERT_EQUAL(200, ok.response.status);
    CPPUNIT_ASSERT_EQUAL(std::string("got 1"), ok.response.body);
  }

  void testCrossSiteOriginRefused() {
    auto [token, cookie] = token_and_cookie();
    IncomingRequest in = post("/t/form", "x=1&csrf_token=" + token, cookie);
    in.headers["origin"] = "https://evil.example";
    CPPUNIT_ASSERT_EQUAL(403, handle(in).response.status);
    in.headers["origin"] = "http://portal.test";
    CPPUNIT_ASSERT_EQUAL(200, handle(in).response.status);
    in.headers["sec-fetch-site"] = "cross-site";
    CPPUNIT_ASSERT_EQUAL(403, handle(in).response.status);
  }

  void testRouteWithoutCsrf() {
    CPPUNIT_ASSERT_EQUAL(200, handle(post("/t/open", "List-Unsubscribe=One-Click")).response.status);
    IncomingRequest multipart = post("/t/open", "--b\r\nContent-Disposition: form-data; "
                                     "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n");
    multipart.headers["content-type"] = "multipart/form-data; boundary=b";
    CPPUNIT_ASSERT_EQUAL(200, handle(multipart).response.status);
  }

  // A page that needs a signed-in visitor: nobody -> sign in and come back; the provider cannot
  // tell (database down) -> 503 with Retry-After, not "sign in" to someone who is signed in.
  void testSignInRequired() {
    Answer anonymous = handle(get("/t/mine"));
    CPPUNIT_ASSERT_EQUAL(303, anonymous.response.status);
    CPPUNIT_ASSERT_EQUAL(std::string("/account/login?return_to=%2Ft%2Fmine%3Fx%3D1"),
                         header(anonymous.response, "Location"));
    Account a;
    a.id = 7;
    a.email = "a@example.org";
    a.state = "verified";
    identity_->answer = std::optional<Account>(a);
    Answer signed_in = handle(get("/t/mine"));
    CPPUNIT_ASSERT_EQUAL(200, signed_in.response.status);
    CPPUNIT_ASSERT_EQUAL(std::string("hello a@example.org"), signed_in.response.body);
    identity_->answer = Status::Unavailable("database down");
    Answer unknown = handle(get("/t/mine"));
    CPPUNIT_ASSERT_EQUAL(503, unknown.response.status);
    CPPUNIT_ASSERT_EQUAL(std::string("30"), header(unknown.response, "Retry-After"));
    CPPUNIT_ASSERT(unknown.response.body.find("temporarily unavailable") != std::string::npos);
    CPPUNIT_ASSERT(logger_.last.find("database down") != std::string::npos);
  }

  void testHandlerExceptionIs500() {
    Answer a = handle(get("/t/throw"));
    CPPUNIT_ASSERT_EQUAL(500, a.response.status);
    CPPUNIT_ASSERT(logger_.last.find("boom") != std::string::npos);
  }

  void testLanguageFromQueryIsRemembered() {
    Answer a = handle(get("/t/page", "lang=fr"));
    CPPUNIT_ASSERT(a.response.body.find("lang=fr") == 0);
    CPPUNIT_ASSERT(header(a.response, "Set-Cookie").find("nm_lang=fr") != std::string::npos);
    IncomingRequest with_cookie = get("/t/page");
    with_cookie.headers["cookie"] = "nm_lang=fr";
    CPPUNIT_ASSERT(handle(with_cookie).response.body.find("lang=fr") == 0);
    IncomingRequest accept = get("/t/page");
    accept.headers["accept-language"] = "fr-CH, fr;q=0.9, en;q=0.8";
    CPPUNIT_ASSERT(handle(accept).response.body.find("lang=fr") == 0);
    CPPUNIT_ASSERT(handle(get("/t/page")).response.body.find("lang=en") == 0);
    Answer error_fr = handle(get("/t/nothing", "lang=fr"));
    CPPUNIT_ASSERT(error_fr.response.body.find("lang=\"fr\"") != std::string::npos);
  }

  void testBasePath() {
    site_.config.base_path = "/portal";
    CPPUNIT_ASSERT(handle(get("/t/page")).declined);
    CPPUNIT_ASSERT(handle(get("/portalx/t/page")).declined);
    CPPUNIT_ASSERT_EQUAL(200, handle(get("/portal/t/page")).response.status);
    CPPUNIT_ASSERT_EQUAL(404, handle(get("/portal/anything")).response.status);
  }

  Account signed_in_account() {
    Account a;
    a.id = 7;
    a.email = "a@example.org";
    a.state = "verified";
    return a;
  }

  // CONTRACT section 12: an answer with a CSRF token, a session, the signed-in account or the
  // echo of a form is sent with Cache-Control: no-store, whatever the handler said.
  void testPrivateAnswersAreNotStored() {
    Answer token = handle(get("/t/page"));  // the handler asked for the token
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), header(token.response, "Cache-Control"));
    Answer session = handle(get("/t/session"));
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), header(session.response, "Cache-Control"));
    Answer form = handle(post("/t/open", ""));
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), header(form.response, "Cache-Control"));
    identity_->answer = std::optional<Account>(signed_in_account());
    Answer mine = handle(get("/t/public"));
    CPPUNIT_ASSERT(mine.response.body.find("name=\"csrf_token\"") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), header(mine.response, "Cache-Control"));
    CPPUNIT_ASSERT(header(mine.response, "Set-Cookie").find("nm_csrf=") == 0);
  }

  void testPublicAnswersKeepTheirCaching() {
    // No form on the page: no token minted, no cookie, the handler's caching stands.
    Answer page = handle(get("/t/public"));
    CPPUNIT_ASSERT_EQUAL(200, page.response.status);
    CPPUNIT_ASSERT(page.response.body.find("csrf_token") == std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("public, max-age=60"), header(page.response, "Cache-Control"));
    CPPUNIT_ASSERT_EQUAL(std::string(), header(page.response, "Set-Cookie"));
    // The language cookie is no secret.
    Answer fr = handle(get("/t/public", "lang=fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("public, max-age=60"), header(fr.response, "Cache-Control"));
    CPPUNIT_ASSERT(header(fr.response, "Set-Cookie").find("nm_lang=fr") == 0);
    // A file keeps its own caching, even for a signed-in visitor.
    identity_->answer = std::optional<Account>(signed_in_account());
    Answer file = handle(get("/t/file"));
    CPPUNIT_ASSERT_EQUAL(std::string("public, max-age=86400"),
                         header(file.response, "Cache-Control"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PortalTest);

}  // namespace
}  // namespace natomedia::core
