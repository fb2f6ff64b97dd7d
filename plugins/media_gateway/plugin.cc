// The media gateway: the feed's news and videos as pages, Atom and RSS, and the downloads of
// video renditions for verified accounts (CONTRACT section 4, "News and videos").
#include <stdexcept>
#include <vector>

#include <natomedia/json.h>
#include <natomedia/plugin.h>
#include <natomedia/providers.h>

#include "download_log.h"
#include "download_quota.h"
#include "download_route.h"
#include "item_view.h"
#include "pages.h"
#include "search_index.h"
#include "syndication.h"

namespace {

using natomedia::Context;
using natomedia::Response;

// Where a feed item's page is, for the other plugins (natomedia.pages.items).
class ItemPages : public natomedia::PageLinks {
 public:
  std::string item_page(const Context& ctx, const std::string& item_id) const override {
    auto snapshot = ctx.feed().snapshot();
    const natomedia::NewsItem* item = snapshot->find(item_id);
    if (!item) return "";
    return item->is_video ? natomedia::media_gateway::video_path(*item)
                          : natomedia::media_gateway::news_path(*item);
  }
  std::string account_page(const Context&) const override { return ""; }
};

// The account-deleted erasure (CONTRACT section 13): the download log keeps its rows for the
// statistics, no longer linked to anyone (account_id = -id, unique and never an account); the
// day's quota count goes. The page and `natomedia-admin accounts delete` both reach it through the
// event (AccountService::erase).
void erase_account(Context& ctx, const natomedia::AccountEventData& e) {
  const std::vector<natomedia::SqlValue> id = {std::to_string(e.account.id)};
  for (const char* statement :
       {"UPDATE media_downloads SET account_id = -id WHERE account_id = %s",
        "DELETE FROM media_download_quota WHERE account_id = %s"}) {
    auto r = ctx.sql().exec(statement, id);
    if (!r.ok())
      throw std::runtime_error("download-log erasure failed: " + r.status().message());
  }
}

// Its part of the account export: every download-log row of the account (a logical download:
// the item, the rendition, the bytes sent, the requests, when it started and last continued).
natomedia::Result<natomedia::Value> export_account(Context& ctx, const natomedia::Account& a) {
  using natomedia::Value;
  auto rows = ctx.sql().query(
      "SELECT item_id, rendition, bytes, requests, status, started_at, last_at "
      "FROM media_downloads WHERE account_id = %s ORDER BY started_at, id",
      {std::to_string(a.id)});
  if (!rows.ok()) return rows.status();
  Value::List downloads;
  for (size_t i = 0; i < rows->size(); ++i)
    downloads.emplace_back(
        Value::Map{{"item", rows->text(i, "item_id")},
                   {"rendition", rows->text(i, "rendition")},
                   {"bytes", rows->text(i, "bytes")},
                   {"requests", rows->text(i, "requests")},
                   {"status", rows->text(i, "status")},
                   {"started", natomedia::json::utc_time(rows->integer(i, "started_at"))},
                   {"last", natomedia::json::utc_time(rows->integer(i, "last_at"))}});
  return Value(Value::Map{{"downloads", Value(std::move(downloads))}});
}

void setup(natomedia::PluginHost* host) {
  namespace mg = natomedia::media_gateway;
  host->migration(mg::DownloadLog::migration());
  host->migration(mg::DownloadQuota::migration());
  // Download-log rows go NatoMediaDownloadLogDays after their last request (CONTRACT 12), quota
  // counts the day after theirs.
  host->on_prune([](natomedia::Sql& sql, const natomedia::SiteConfig& config,
                    std::time_t now) -> natomedia::Result<std::vector<natomedia::Pruned>> {
    auto n = mg::DownloadLog::prune(sql, config.download_log_days, now);
    if (!n.ok()) return n.status();
    // A past day's quota count is never read again (settle ignores a day that is over).
    auto q = mg::DownloadQuota::prune(sql, now);
    if (!q.ok()) return q.status();
    return std::vector<natomedia::Pruned>{{"download-log rows", *n}, {"past days' quota counts", *q}};
  });
  host->on(natomedia::AccountEvent::kDeleted, erase_account);
  // The news search's index is built with each feed version as it loads, not by the first search.
  host->on_feed_load(mg::kSearchIndexName, [](const natomedia::FeedSnapshot& snapshot) {
    return std::static_pointer_cast<const void>(
        std::make_shared<const mg::SearchIndex>(snapshot));
  });
  host->on_export(export_account);
  host->counter(mg::kDownloadsCounter, "Logical downloads of video renditions started");
  host->counter(mg::kDownloadBytesCounter, "Bytes of video renditions sent");
  host->provide(natomedia::kDownloadServiceName, natomedia::kDownloadServiceVersion,
                std::make_shared<mg::DownloadServiceImpl>());

  host->provide(natomedia::kItemPagesName, natomedia::kPageLinksVersion,
                std::make_shared<ItemPages>());

  // /news and /videos without the slash lead to the lists.
  host->route("GET", "/", mg::home);
  host->route("GET", "/favicon.svg", mg::favicon);
  host->route("GET", "/news", natomedia::redirect_to_slash);
  host->route("GET", "/news/", mg::news_list);
  // Before /news/{id}: the first matching route wins.
  host->route("GET", "/news/feed.atom", mg::atom_feed);
  host->route("GET", "/news/feed.rss", mg::rss_feed);
  host->route("GET", "/news/{id}", mg::news_item);
  host->route("GET", "/videos", natomedia::redirect_to_slash);
  host->route("GET", "/videos/", mg::video_list);
  host->route("GET", "/videos/feed.atom", mg::videos_atom_feed);
  host->route("GET", "/videos/feed.rss", mg::videos_rss_feed);
  host->route("GET", "/videos/{id}", mg::video_item);
  host->route("GET", "/videos/{id}/thumbnail", mg::video_thumbnail);
  host->route("GET", "/videos/{id}/preview", mg::preview);
  host->route("GET", "/download/{id}/{rendition}", mg::download);
}

}  // namespace

NATOMEDIA_PLUGIN("media_gateway", "1.0", setup)
