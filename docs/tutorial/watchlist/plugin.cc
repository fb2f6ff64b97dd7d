// The watchlist: a signed-in visitor keeps a list of feed items to come back to.
//   GET  /watchlist   -> /watchlist/ (the SDK's trailing-slash redirect)
//   GET  /watchlist/  the list and a form to add an item (needs a signed-in visitor)
//   POST /watchlist/  adds the item named by the form field `item` (CSRF checked by the core)
// The list is personal data: it is in the visitor's account export (on_export) and goes when the
// account is erased (the AccountEvent::kDeleted listener), whether the visitor deletes the
// account or an operator runs `natomedia-admin accounts delete`.
#include <stdexcept>

#include <natomedia/json.h>
#include <natomedia/plugin.h>
#include <natomedia/providers.h>

namespace {

using natomedia::Context;
using natomedia::Response;

Response show(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/watchlist/");  // base-relative
  auto rows = ctx.sql().query(
      "SELECT item_id FROM watchlist_items WHERE account_id = %s ORDER BY added_at, item_id",
      {std::to_string(account->id)});
  if (!rows.ok()) return ctx.unavailable(30);
  auto pages = natomedia::find_provider<natomedia::PageLinks>(ctx, natomedia::kItemPagesName,
                                                              natomedia::kPageLinksVersion);
  natomedia::Value::List items;
  for (size_t i = 0; i < rows->rows.size(); ++i) {
    natomedia::Vars item;
    const std::string id = rows->text(i, "item_id");
    item["id"] = id;
    const std::string page = pages ? pages->item_page(ctx, id) : "";
    if (!page.empty()) item["href"] = ctx.url(page);
    items.emplace_back(std::move(item));
  }
  natomedia::Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "watchlist.title");
  vars["count"] = rows->rows.size();
  vars["has_items"] = !items.empty();
  vars["items"] = std::move(items);
  return ctx.page(200, "watchlist/list.html", std::move(vars));
}

Response add(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/watchlist/");
  const std::string item = ctx.request().form.get_or("item");
  if (item.empty() || item.size() > 200) return ctx.error(400, "watchlist.bad_item");
  auto done = ctx.sql().exec(
      "INSERT INTO watchlist_items (account_id, item_id, added_at) VALUES (%s, %s, %s) "
      "ON CONFLICT (account_id, item_id) DO NOTHING",
      {std::to_string(account->id), item, std::to_string(ctx.clock().now())});
  if (!done.ok()) return ctx.unavailable(30);
  ctx.metrics().add("natomedia_watchlist_added_total");
  return Response::Redirect(ctx.url("/watchlist/"), 303);
}

// The account's part of GET /account/export: its items, with when each was added.
natomedia::Result<natomedia::Value> export_items(Context& ctx, const natomedia::Account& account) {
  auto rows = ctx.sql().query(
      "SELECT item_id, added_at FROM watchlist_items WHERE account_id = %s "
      "ORDER BY added_at, item_id",
      {std::to_string(account.id)});
  if (!rows.ok()) return rows.status();
  natomedia::Value::List items;
  for (size_t i = 0; i < rows->rows.size(); ++i)
    items.emplace_back(
        natomedia::Value::Map{{"item", rows->text(i, "item_id")},
                              {"added", natomedia::json::utc_time(rows->integer(i, "added_at"))}});
  return natomedia::Value(natomedia::Value::Map{{"items", natomedia::Value(std::move(items))}});
}

// The account's part of its erasure. Throwing makes the whole erasure roll back (it runs in the
// erasure's transaction, with ctx.sql()), so the account is never erased half-way.
void erase_items(Context& ctx, const natomedia::AccountEventData& e) {
  auto gone = ctx.sql().exec("DELETE FROM watchlist_items WHERE account_id = %s",
                             {std::to_string(e.account.id)});
  if (!gone.ok()) throw std::runtime_error("watchlist erasure: " + gone.status().message());
}

void setup(natomedia::PluginHost* host) {
  host->migration({1, "watchlist items",
                   {"CREATE TABLE watchlist_items (account_id BIGINT NOT NULL, "
                    "item_id TEXT NOT NULL, added_at BIGINT NOT NULL, "
                    "PRIMARY KEY (account_id, item_id))"},
                   {}});
  host->counter("natomedia_watchlist_added_total", "Items added to watchlists");
  host->route("GET", "/watchlist", natomedia::redirect_to_slash);
  host->route("GET", "/watchlist/", show);
  host->route("POST", "/watchlist/", add);
  host->on(natomedia::AccountEvent::kDeleted, erase_items);
  host->on_export(export_items);
}

}  // namespace

NATOMEDIA_PLUGIN("watchlist", "1.0", setup)
