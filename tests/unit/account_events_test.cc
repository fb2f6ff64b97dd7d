// The account events and the account export as the core hands them out (core/account_events.h),
// natomedia-admin's Context (core/tool_context.h) on a real SQLite database, and the SDK's JSON
// writer (include/natomedia/json.h): listeners run in load order with the caller's connection, a
// listener that throws is reported (named) and the others still run, exporters' parts come under
// their plugin's names and the first failure is the answer.
#include <cppunit/extensions/HelperMacros.h>

#include <apr_general.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <natomedia/json.h>

#include "core/account_events.h"
#include "core/crypto_service.h"
#include "core/secret_keys.h"
#include "core/sql_dbd.h"
#include "core/tool_context.h"

namespace natomedia::core {
namespace {

class RecordingLogger : public Logger {
 public:
  void log(LogLevel, const std::string& message) override { lines.push_back(message); }
  std::vector<std::string> lines;
};

Account ann() {
  Account a;
  a.id = 42;
  a.email = "ann@example.org";
  a.state = "verified";
  a.lang = "en";
  return a;
}

class AccountEventsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AccountEventsTest);
  CPPUNIT_TEST(testListenersRunInOrderWithTheToolsConnection);
  CPPUNIT_TEST(testAFailingListenerIsNamedAndOthersStillRun);
  CPPUNIT_TEST(testOtherEventsAreNotDelivered);
  CPPUNIT_TEST(testExportIsKeyedByPlugin);
  CPPUNIT_TEST(testExportFailureIsTheAnswer);
  CPPUNIT_TEST(testToolContextWithoutRequestServices);
  CPPUNIT_TEST(testJsonWriter);
  CPPUNIT_TEST_SUITE_END();

  apr_pool_t* pool_ = nullptr;
  std::string dir_;
  std::unique_ptr<OwnedDbdSql> sql_;
  std::unique_ptr<CryptoService> crypto_;
  RecordingLogger logger_;
  Extensions ext_;

  std::unique_ptr<ToolContext> context() {
    ToolServices s;
    s.sql = sql_.get();
    s.extensions = &ext_;
    s.crypto = crypto_.get();
    s.logger = &logger_;
    return std::make_unique<ToolContext>(s, SiteConfig{});
  }

  int count(const std::string& table) {
    auto r = sql_->query("SELECT COUNT(*) AS n FROM " + table, {});
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
    return static_cast<int>(r->integer(0, "n"));
  }

 public:
  void setUp() override {
    apr_initialize();
    apr_pool_create(&pool_, nullptr);
    char tmpl[] = "/tmp/nm-events-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto sql = open_dbd("sqlite3", dir_ + "/test.db", pool_);
    CPPUNIT_ASSERT_MESSAGE(sql.status().message(), sql.ok());
    sql_ = std::move(*sql);
    for (const char* t : {"alpha_rows", "beta_rows"}) {
      CPPUNIT_ASSERT(sql_->exec(std::string("CREATE TABLE ") + t +
                                    " (account_id BIGINT NOT NULL, note TEXT NOT NULL)",
                                {})
                         .ok());
      CPPUNIT_ASSERT(sql_->exec(std::string("INSERT INTO ") + t +
                                    " (account_id, note) VALUES (42, 'mine'), (7, 'theirs')",
                                {})
                         .ok());
    }
    auto keys = SecretKeys::parse(std::string(48, 'k'), "test");
    CPPUNIT_ASSERT(keys.ok());
    crypto_ = std::make_unique<CryptoService>(*keys);
    ext_ = Extensions{};
    logger_.lines.clear();
  }

  void tearDown() override {
    sql_.reset();
    apr_pool_destroy(pool_);
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

  // Each plugin's listener deletes its own rows of the account with ctx.sql(): the tool's
  // connection, so the caller's transaction holds them all.
  void addEraser(const std::string& plugin, const std::string& table,
                 std::vector<std::string>* order) {
    ext_.listeners.push_back(
        {AccountEvent::kDeleted,
         {plugin, [table, plugin, order](Context& ctx, const AccountEventData& e) {
            order->push_back(plugin);
            auto r = ctx.sql().exec("DELETE FROM " + table + " WHERE account_id = %s",
                                    {std::to_string(e.account.id)});
            if (!r.ok()) throw std::runtime_error(r.status().message());
          }}});
  }

  void testListenersRunInOrderWithTheToolsConnection() {
    std::vector<std::string> order;
    addEraser("alpha", "alpha_rows", &order);
    addEraser("beta", "beta_rows", &order);
    auto ctx = context();
    CPPUNIT_ASSERT(sql_->begin().ok());
    Status s = ctx->emit({AccountEvent::kDeleted, ann()});
    CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
    CPPUNIT_ASSERT(sql_->rollback().ok());  // the caller's transaction: nothing happened
    CPPUNIT_ASSERT_EQUAL(2, count("alpha_rows"));
    CPPUNIT_ASSERT_EQUAL(2, count("beta_rows"));
    CPPUNIT_ASSERT(ctx->emit({AccountEvent::kDeleted, ann()}).ok());
    CPPUNIT_ASSERT_EQUAL(std::string("alpha,beta,alpha,beta"),
                         order[0] + "," + order[1] + "," + order[2] + "," + order[3]);
    CPPUNIT_ASSERT_EQUAL(1, count("alpha_rows"));  // account 7's row stays
    CPPUNIT_ASSERT_EQUAL(1, count("beta_rows"));
  }

  void testAFailingListenerIsNamedAndOthersStillRun() {
    std::vector<std::string> order;
    ext_.listeners.push_back(
        {AccountEvent::kDeleted, {"broken", [](Context&, const AccountEventData&) {
                                    throw std::runtime_error("disk on fire");
                                  }}});
    addEraser("beta", "beta_rows", &order);
    ext_.listeners.push_back(
        {AccountEvent::kDeleted, {"odd", [](Context&, const AccountEventData&) { throw 7; }}});
    auto ctx = context();
    Status s = ctx->emit({AccountEvent::kDeleted, ann()});
    CPPUNIT_ASSERT(!s.ok());
    CPPUNIT_ASSERT(s.message().find("plugin broken") != std::string::npos);
    CPPUNIT_ASSERT(s.message().find("disk on fire") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, order.size());  // beta still ran
    CPPUNIT_ASSERT_EQUAL(1, count("beta_rows"));
    CPPUNIT_ASSERT_EQUAL(size_t{2}, logger_.lines.size());  // both failures logged
    CPPUNIT_ASSERT(logger_.lines[1].find("plugin odd") != std::string::npos);
  }

  void testOtherEventsAreNotDelivered() {
    std::vector<std::string> order;
    addEraser("alpha", "alpha_rows", &order);
    auto ctx = context();
    CPPUNIT_ASSERT(ctx->emit({AccountEvent::kCreated, ann()}).ok());
    CPPUNIT_ASSERT(order.empty());
    CPPUNIT_ASSERT_EQUAL(2, count("alpha_rows"));
  }

  void testExportIsKeyedByPlugin() {
    ext_.exporters.push_back({"alpha", [](Context& ctx, const Account& a) -> Result<Value> {
                                auto r = ctx.sql().query(
                                    "SELECT note FROM alpha_rows WHERE account_id = %s",
                                    {std::to_string(a.id)});
                                if (!r.ok()) return r.status();
                                return Value(Value::Map{{"note", r->text(0, "note")}});
                              }});
    ext_.exporters.push_back({"beta", [](Context&, const Account& a) -> Result<Value> {
                                return Value(Value::List{Value(a.email)});
                              }});
    auto data = context()->account_data(ann());
    CPPUNIT_ASSERT_MESSAGE(data.ok() ? "" : data.status().message(), data.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, data->size());
    CPPUNIT_ASSERT_EQUAL(std::string("mine"), data->at("alpha").map().at("note").str());
    CPPUNIT_ASSERT_EQUAL(std::string("ann@example.org"), data->at("beta").list().at(0).str());
  }

  void testExportFailureIsTheAnswer() {
    ext_.exporters.push_back(
        {"alpha", [](Context&, const Account&) -> Result<Value> { return Value("fine"); }});
    ext_.exporters.push_back({"down", [](Context&, const Account&) -> Result<Value> {
                                return Status::Unavailable("database away");
                              }});
    auto data = context()->account_data(ann());
    CPPUNIT_ASSERT(!data.ok());
    CPPUNIT_ASSERT(data.status().code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(data.status().message().find("down") != std::string::npos);
    ext_.exporters.pop_back();
    ext_.exporters.push_back({"thrower", [](Context&, const Account&) -> Result<Value> {
                                throw std::runtime_error("bug");
                              }});
    data = context()->account_data(ann());
    CPPUNIT_ASSERT(!data.ok());
    CPPUNIT_ASSERT(data.status().code() == Status::Code::kInternal);
    CPPUNIT_ASSERT(data.status().message().find("thrower") != std::string::npos);
  }

  void testToolContextWithoutRequestServices() {
    auto ctx = context();
    CPPUNIT_ASSERT(!ctx->account());
    CPPUNIT_ASSERT(ctx->cache().remove("x").code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT(ctx->cache().get("x").outcome == CacheOutcome::kError);
    CPPUNIT_ASSERT(ctx->outbox().queue(*sql_, MailMessage{}).code() == Status::Code::kUnavailable);
    CPPUNIT_ASSERT_EQUAL(500, ctx->page(200, "x.html", {}).status);
    CPPUNIT_ASSERT_EQUAL(503, ctx->unavailable(30).status);
    CPPUNIT_ASSERT(ctx->feed().snapshot() != nullptr);
    CPPUNIT_ASSERT(ctx->provider("natomedia.accounts", 1) == nullptr);
    ext_.providers[{"natomedia.accounts", 1}] = std::make_shared<int>(5);
    CPPUNIT_ASSERT_EQUAL(5, *std::static_pointer_cast<int>(ctx->provider("natomedia.accounts", 1)));
    CPPUNIT_ASSERT(ctx->clock().now() > 1700000000);
    // The site's crypto: the same HMAC as a request's would make with the same secret.
    CPPUNIT_ASSERT_EQUAL(crypto_->hmac("codes.key", "ann"), ctx->crypto().hmac("codes.key", "ann"));
  }

  void testJsonWriter() {
    Value v(Value::Map{{"b", Value(Value::List{Value(true), Value(), Value(12)})},
                       {"a", Value("q\"\\\n\x01 é")},
                       {"e", Value(Value::Map{})},
                       {"l", Value(Value::List{})}});
    CPPUNIT_ASSERT_EQUAL(std::string("{\"a\":\"q\\\"\\\\\\n\\u0001 é\",\"b\":[true,null,\"12\"],"
                                     "\"e\":{},\"l\":[]}"),
                         json::write(v));
    CPPUNIT_ASSERT_EQUAL(std::string("{\n  \"k\": [\n    \"v\"\n  ]\n}"),
                         json::write(Value(Value::Map{{"k", Value(Value::List{Value("v")})}}), 2));
    CPPUNIT_ASSERT_EQUAL(std::string("\"2027-01-15T08:00:00Z\""),
                         json::write(json::utc_time(1800000000)));
    CPPUNIT_ASSERT_EQUAL(std::string("null"), json::write(json::utc_time(0)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AccountEventsTest);

}  // namespace
}  // namespace natomedia::core
