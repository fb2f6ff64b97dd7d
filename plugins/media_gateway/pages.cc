#include "pages.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include <natomedia/text.h>

#include "conditional.h"
#include "formatting.h"
#include "image_types.h"
#include "item_view.h"
#include "media_paths.h"
#include "page_cache.h"
#include "search_index.h"
#include "syndication.h"

namespace natomedia::media_gateway {

namespace {

// Who a page is rendered for: it shows the account in its header (and signed links, which die
// with the account's credential epoch: a new epoch is a new page).
std::string audience(Context& ctx) {
  auto account = ctx.account();
  return account
             ? "a" + std::to_string(account->id) + "e" + std::to_string(account->credential_epoch)
             : "anon";
}

Validators page_validators(Context& ctx, const FeedSnapshot& snapshot, const std::string& kind) {
  Validators v;
  v.etag = weak_etag(kind + "-" + snapshot.version + "-" + ctx.request().lang + "-" +
                     audience(ctx));
  v.modified = snapshot.modified;
  v.cache_control = "private, no-cache";
  return v;
}

Response with_validators(Response r, const Validators& v) {
  if (r.status == 200) add_validators(r, v);
  return r;
}

// The page for this URL, feed version and language: from the cache for anonymous visitors,
// else rendered by `render` (and kept when anonymous).
Response cached_page(Context& ctx, const FeedSnapshot& snapshot, const Validators& v,
                     const std::function<Response()>& render) {
  if (ctx.account()) return with_validators(render(), v);
  const Request& req = ctx.request();
  const std::string key = snapshot.version + "|" + req.lang + "|" + req.base_path + req.path +
                          "?" + req.query.get_or("page");
  if (auto hit = page_cache().get(key)) return *hit;
  Response r = with_validators(render(), v);
  page_cache().put(key, r);
  return r;
}

// ?page=N: 1 when absent, 0 when malformed.
size_t page_number(const Request& request) {
  auto p = request.query.get("page");
  if (!p) return 1;
  return all_digits(*p, 6) ? static_cast<size_t>(std::stoul(*p)) : 0;
}

Response render_list(Context& ctx, const std::vector<const NewsItem*>& items, size_t page,
                     size_t pages, bool videos_only);

Response search_page(Context& ctx, const std::shared_ptr<const FeedSnapshot>& snapshot,
                     size_t page) {
  const Request& req = ctx.request();
  const std::string q(text::trim(req.query.get_or("q")));
  const std::string topic(text::trim(req.query.get_or("topic")));
  if (q.size() > 500 || topic.size() > 200) return ctx.error(400, "error.400.message");
  std::vector<std::string> words = search_words(q);
  if (words.size() > 20) words.resize(20);
  auto index = search_index(snapshot);
  std::vector<uint32_t> hits;
  if (!words.empty() || !topic.empty()) hits = index->find(req.lang, words, topic);
  const size_t pages = std::max<size_t>(1, (hits.size() + kPageSize - 1) / kPageSize);
  if (page > pages) return ctx.error(404, "error.404.message");
  Value::List cards;
  for (size_t i = (page - 1) * kPageSize; i < hits.size() && i < page * kPageSize; ++i)
    cards.emplace_back(item_card(ctx, snapshot->items[hits[i]], false));
  std::string query = "?";
  if (!q.empty()) query += "q=" + text::url_encode(q) + "&";
  if (!topic.empty()) query += "topic=" + text::url_encode(topic) + "&";
  const std::string list_url = ctx.url("/news/") + query;
  Vars vars;
  vars["title"] = ctx.i18n().text(req.lang, "media.search.title");
  vars["videos_only"] = false;
  vars["searched"] = true;
  vars["q"] = q;
  vars["topic"] = topic;
  vars["topic_name"] = topic.empty() ? std::string() : index->topic_name(topic, req.lang);
  if (vars["topic_name"].str().empty() && !topic.empty()) vars["topic_name"] = topic;
  vars["result_count"] = std::to_string(hits.size());
  vars["items"] = std::move(cards);
  vars["page"] = std::to_string(page);
  vars["pages"] = std::to_string(pages);
  vars["paginated"] = pages > 1;
  if (page > 1) vars["newer_url"] = list_url + "page=" + std::to_string(page - 1);
  if (page < pages) vars["older_url"] = list_url + "page=" + std::to_string(page + 1);
  vars["atom_url"] = ctx.url(feed_path(ctx, "/news/feed.atom"));
  vars["rss_url"] = ctx.url(feed_path(ctx, "/news/feed.rss"));
  vars["news_url"] = ctx.url("/news/");
  Response r = ctx.page(200, "media_gateway/list.html", std::move(vars));
  r.header("Cache-Control", "private, no-cache");
  return r;
}

Response list_page(Context& ctx, bool videos_only) {
  auto snapshot = ctx.feed().snapshot();
  const size_t page = page_number(ctx.request());
  if (page == 0) return ctx.error(400, "error.400.message");
  if (!videos_only && (ctx.request().query.get("q") || ctx.request().query.get("topic")))
    return search_page(ctx, snapshot, page);
  const ListedPage listed = listed_page(*snapshot, videos_only, page);
  const size_t pages = std::max<size_t>(1, (listed.total + kPageSize - 1) / kPageSize);
  if (page > pages) return ctx.error(404, "error.404.message");
  const std::string kind = std::string(videos_only ? "videos" : "news") + "-p" +
                           std::to_string(page);
  const Validators v = page_validators(ctx, *snapshot, kind);
  if (client_copy_current(ctx.request(), v)) return not_modified(v);
  return cached_page(ctx, *snapshot, v, [&] { return render_list(ctx, listed.items, page, pages,
                                                                 videos_only); });
}

Response render_list(Context& ctx, const std::vector<const NewsItem*>& items, size_t page,
                     size_t pages, bool videos_only) {
  Value::List cards;
  for (const NewsItem* item : items) cards.emplace_back(item_card(ctx, *item, videos_only));
  const std::string list_url = ctx.url(videos_only ? "/videos/" : "/news/");
  Vars vars;
  const std::string title_key = videos_only ? "media.videos.title" : "media.news.title";
  vars["title"] = ctx.i18n().text(ctx.request().lang, title_key);
  vars["videos_only"] = videos_only;
  vars["items"] = std::move(cards);
  vars["page"] = std::to_string(page);
  vars["pages"] = std::to_string(pages);
  vars["paginated"] = pages > 1;
  if (page > 1) vars["newer_url"] = page == 2 ? list_url : list_url + "?page=" +
                                                                std::to_string(page - 1);
  if (page < pages) vars["older_url"] = list_url + "?page=" + std::to_string(page + 1);
  const std::string feeds = videos_only ? "/videos/" : "/news/";
  vars["atom_url"] = ctx.url(feed_path(ctx, feeds + "feed.atom"));
  vars["rss_url"] = ctx.url(feed_path(ctx, feeds + "feed.rss"));
  vars["news_url"] = ctx.url("/news/");
  return ctx.page(200, "media_gateway/list.html", std::move(vars));
}

Response item_page_answer(Context& ctx, bool video_page) {
  auto snapshot = ctx.feed().snapshot();
  const NewsItem* item = snapshot->find(ctx.request().route.get_or("id"));
  if (!item || (video_page && !item->is_video)) return ctx.error(404, "error.404.message");
  // A video has one page: its /news/ID address leads there.
  if (!video_page && item->is_video) {
    std::string to = ctx.url(video_path(*item));
    if (auto lang = ctx.request().query.get("lang")) to += "?lang=" + text::url_encode(*lang);
    return Response::Redirect(to, 301);
  }
  auto account = ctx.account();
  const bool verified = account && account->state == "verified";
  const Account* signer = item->is_video && verified ? &*account : nullptr;
  // Signed links change every hour: so does the page of an account that gets them.
  std::string kind = std::string(video_page ? "video-" : "item-") + item->id;
  if (signer) kind += "-h" + std::to_string(ctx.clock().now() / 3600);
  const Validators v = page_validators(ctx, *snapshot, kind);
  if (client_copy_current(ctx.request(), v)) return not_modified(v);
  return cached_page(ctx, *snapshot, v, [&] {
    Vars vars = item_page(ctx, *item, signer);
    vars["video_page"] = video_page;
    const std::string feeds = item->is_video ? "/videos/" : "/news/";
    vars["atom_url"] = ctx.url(feed_path(ctx, feeds + "feed.atom"));
    vars["rss_url"] = ctx.url(feed_path(ctx, feeds + "feed.rss"));
    vars["anonymous"] = !account.has_value();
    vars["unverified"] = account.has_value() && !verified;
    vars["login_url"] = ctx.url("/account/login") + "?return_to=" +
                        text::url_encode(video_path(*item));  // base-relative return_to
    return ctx.page(200, "media_gateway/item.html", std::move(vars));
  });
}

// notice_key: a catalogue key for the notice at the top (after an account's deletion), or null.
Response render_home(Context& ctx, const FeedSnapshot& snapshot, const char* notice_key) {
  Value::List videos, news;
  for (const auto& item : snapshot.items) {  // newest first
    if (item.is_video && videos.size() < kHomeVideos) videos.emplace_back(item_card(ctx, item, true));
    if (!item.is_video && news.size() < kHomeNews) news.emplace_back(item_card(ctx, item, false));
    if (videos.size() >= kHomeVideos && news.size() >= kHomeNews) break;
  }
  auto account = ctx.account();
  Vars vars;
  vars["home"] = true;
  if (notice_key) vars["notice"] = ctx.i18n().text(ctx.request().lang, notice_key);
  vars["videos"] = std::move(videos);
  vars["news"] = std::move(news);
  vars["has_videos"] = vars["videos"].truthy();
  vars["has_news"] = vars["news"].truthy();
  vars["anonymous"] = !account.has_value();
  vars["account_url"] = ctx.url("/account/");
  vars["login_url"] = ctx.url("/account/login");
  vars["register_url"] = ctx.url("/account/register");
  vars["atom_url"] = ctx.url(feed_path(ctx, "/news/feed.atom"));
  vars["rss_url"] = ctx.url(feed_path(ctx, "/news/feed.rss"));
  return ctx.page(200, "media_gateway/home.html", std::move(vars));
}

}  // namespace

Response home(Context& ctx) {
  auto snapshot = ctx.feed().snapshot();
  // POST /account/delete ends on /?done=deleted: the home page with a notice, never cached (nor
  // answered 304: the copy the browser holds has no notice).
  if (ctx.request().query.get_or("done") == "deleted") {
    Response r = render_home(ctx, *snapshot, "media.home.notice.deleted");
    r.header("Cache-Control", "no-store");
    return r;
  }
  const Validators v = page_validators(ctx, *snapshot, "home");
  if (client_copy_current(ctx.request(), v)) return not_modified(v);
  return cached_page(ctx, *snapshot, v, [&] { return render_home(ctx, *snapshot, nullptr); });
}

ListedPage listed_page(const FeedSnapshot& snapshot, bool videos_only, size_t page) {
  ListedPage out;
  const size_t first = page == 0 ? SIZE_MAX : (page - 1) * kPageSize;  // page 0: none
  out.items.reserve(kPageSize);
  if (!videos_only) {  // every item is listed: the page is a slice
    out.total = snapshot.items.size();
    for (size_t i = first; i < out.total && i - first < kPageSize; ++i)
      out.items.push_back(&snapshot.items[i]);
    return out;
  }
  for (const auto& item : snapshot.items) {  // the snapshot keeps them newest first
    if (!item.is_video) continue;
    if (out.total >= first && out.total - first < kPageSize) out.items.push_back(&item);
    ++out.total;
  }
  return out;
}

Response news_list(Context& ctx) { return list_page(ctx, false); }
Response video_list(Context& ctx) { return list_page(ctx, true); }
Response news_item(Context& ctx) { return item_page_answer(ctx, false); }
Response video_item(Context& ctx) { return item_page_answer(ctx, true); }

Response favicon(Context&) {
  // A four-pointed star on the header's blue: small enough to live in the module.
  static const std::string kIcon =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
      "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#004990\"/>"
      "<path d=\"M16 3l3 10 10 3-10 3-3 10-3-10-10-3 10-3z\" fill=\"#fff\"/></svg>\n";
  Response r;
  r.content_type = "image/svg+xml";
  r.body = kIcon;
  r.header("Cache-Control", "public, max-age=604800");
  return r;
}

Response video_thumbnail(Context& ctx) {
  auto snapshot = ctx.feed().snapshot();
  const NewsItem* item = snapshot->find(ctx.request().route.get_or("id"));
  if (!item || item->icon_href.empty()) return ctx.error(404, "error.404.message");
  auto file = resolve_under(ctx.config().media_root, item->icon_href);
  if (!file.ok()) {
    ctx.log(file.status().code() == Status::Code::kInvalid ? LogLevel::kWarning : LogLevel::kInfo,
            "thumbnail of item " + item->id + " refused: " + file.status().message());
    return ctx.error(404, "error.404.message");
  }
  // Served as what its bytes are, never as the feed says: anything but a JPEG, PNG, WebP or GIF
  // (an SVG or HTML page behind an image name) is not served at all.
  auto type = image_types().type_of(*file);
  if (!type.ok() || type->empty()) {
    ctx.log(LogLevel::kWarning, "thumbnail of item " + item->id + " refused: " +
                                    (type.ok() ? "its file " + item->icon_href +
                                                     " is not a JPEG, PNG, WebP or GIF image"
                                               : type.status().message()));
    return ctx.error(404, "error.404.message");
  }
  Response r;
  r.file = FileBody{file->path, *type, "", ""};
  r.header("Cache-Control", "public, max-age=86400");
  return r;
}

}  // namespace natomedia::media_gateway
