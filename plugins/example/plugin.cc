// An example third-party plugin: a page at /example/hello that greets the visitor, counts its
// visits in SQL and in a counter, a memcached probe at /example/cache, and a note in the error log
// for each new account. Build it out of tree
// against the installed SDK (see CMakeLists.txt and docs/plugins.md); its templates/ and i18n/
// are installed with it (natomedia_add_plugin ... RESOURCES), so it names no folder of its own.
#include <stdexcept>
#include <string>

#include <natomedia/plugin.h>

namespace {

using natomedia::Context;
using natomedia::Response;

Response hello(Context& ctx) {
  auto& sql = ctx.sql();
  auto updated = sql.exec("UPDATE example_visits SET n = n + 1 WHERE id = 1");
  if (!updated.ok()) return ctx.error(503, "error.503.message");
  auto rows = sql.query("SELECT n FROM example_visits WHERE id = 1");
  if (!rows.ok() || rows->empty()) return ctx.error(503, "error.503.message");
  ctx.metrics().add("natomedia_example_hellos_total");
  if (auto account = ctx.account()) {
    const std::string id = std::to_string(account->id);
    sql.exec("INSERT INTO example_account_visits (account_id, n) VALUES (%s, 0) "
             "ON CONFLICT (account_id) DO NOTHING", {id});
    sql.exec("UPDATE example_account_visits SET n = n + 1 WHERE account_id = %s", {id});
  }
  natomedia::Vars vars;
  vars["visits"] = rows->text(0, "n");
  vars["name"] = ctx.request().query.get_or("name", "visitor");
  return ctx.page(200, "example/hello.html", std::move(vars));
}

// Reports what memcached says of ?key=K: "hit", "miss" (then stores it) or "error" — the three
// answers a cache lookup can give.
Response cache_probe(Context& ctx) {
  const std::string key = "example:" + ctx.request().query.get_or("key", "probe");
  natomedia::CacheEntry e = ctx.cache().get(key);
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  switch (e.outcome) {
    case natomedia::CacheOutcome::kHit: r.body = "hit " + e.value + "\n"; break;
    case natomedia::CacheOutcome::kMiss:
      r.body = ctx.cache().set(key, "stored", 300).ok() ? "miss\n" : "miss, not stored\n";
      break;
    case natomedia::CacheOutcome::kError:
      r.status = 503;
      r.body = "error\n";
      break;
  }
  r.header("Cache-Control", "no-store");
  return r;
}

// Shows back the posted field `text` (escaped by the template engine): a form to try CSRF and input
// checks on.
Response echo(Context& ctx) {
  natomedia::Vars vars;
  vars["name"] = ctx.request().form.get_or("text");
  vars["visits"] = "-";
  return ctx.page(200, "example/hello.html", std::move(vars));
}

void setup(natomedia::PluginHost* host) {
  host->migration({1, "example visit counter",
                   {"CREATE TABLE example_visits (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
                    "INSERT INTO example_visits (id, n) VALUES (1, 0)"},
                   {}});
  host->counter("natomedia_example_hellos_total", "Greetings served by the example plugin");
  host->route("GET", "/example/hello", hello);
  host->route("GET", "/example/cache", cache_probe);
  host->route("POST", "/example/hello", echo);
  // A third-party plugin's part of an account's erasure: whatever it keeps about the account
  // goes (here the visits of signed-in visitors it counted, keyed by account id).
  host->migration({2, "example visits by account",
                   {"CREATE TABLE example_account_visits (account_id BIGINT PRIMARY KEY, "
                    "n INTEGER NOT NULL)"},
                   {}});
  host->on(natomedia::AccountEvent::kDeleted,
           [](Context& ctx, const natomedia::AccountEventData& e) {
             auto r = ctx.sql().exec("DELETE FROM example_account_visits WHERE account_id = %s",
                                     {std::to_string(e.account.id)});
             if (!r.ok()) throw std::runtime_error("example erasure: " + r.status().message());
             ctx.log(natomedia::LogLevel::kInfo,
                     "example plugin: account " + std::to_string(e.account.id) + " erased");
           });
  // Its part of the account export: the visits it counted for the account.
  host->on_export(
      [](Context& ctx, const natomedia::Account& a) -> natomedia::Result<natomedia::Value> {
        auto r = ctx.sql().query("SELECT n FROM example_account_visits WHERE account_id = %s",
                                 {std::to_string(a.id)});
        if (!r.ok()) return r.status();
        return natomedia::Value(
            natomedia::Value::Map{{"visits", r->empty() ? std::string("0") : r->text(0, "n")}});
      });
  host->on(natomedia::AccountEvent::kCreated,
           [](Context& ctx, const natomedia::AccountEventData& e) {
             ctx.log(natomedia::LogLevel::kInfo,
                     "example plugin: account " + std::to_string(e.account.id) + " created");
           });
}

}  // namespace

NATOMEDIA_PLUGIN("example", "1.0", setup)
