#include "syndication.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <natomedia/text.h>

#include "conditional.h"
#include "download_route.h"
#include "formatting.h"
#include "item_view.h"
#include "pages.h"

namespace natomedia::media_gateway {

namespace {

// The same escaper as every page: its entities (&amp; &lt; &gt; &quot; &#39;) are valid XML.
std::string x(const std::string& s) { return text::html_escape(s); }

std::string element(const std::string& name, const std::string& value) {
  return "<" + name + ">" + x(value) + "</" + name + ">\n";
}

// Links in feeds are absolute (readers fetch them out of context); relative without a public URL.
std::string link(const Context& ctx, const std::string& path) {
  return ctx.config().public_url.empty() ? ctx.url(path) : ctx.absolute_url(path);
}

std::string local(const LocalizedText& t, const std::string& lang) {
  auto p = t.get(lang);
  return p.text ? *p.text : std::string();
}

std::vector<const NewsItem*> feed_items(const FeedSnapshot& snapshot, bool videos_only) {
  return listed_page(snapshot, videos_only, 1).items;
}

// The page a feed entry links to: its one canonical page (a video's is /videos/ID).
std::string item_link(const Context& ctx, const NewsItem& item) {
  return link(ctx, canonical_path(item));
}

// The feed's own address in the language it is written in (the language a reader asked for
// goes with the link, since a feed reader sends neither cookie nor Accept-Language).
std::string self_link(const Context& ctx, const std::string& path) {
  return link(ctx, feed_path(ctx, path));
}

std::time_t last_update(const FeedSnapshot& snapshot, const std::vector<const NewsItem*>& items) {
  std::time_t t = 0;
  for (const auto* item : items) t = std::max({t, item->version_created, item->first_created});
  return t != 0 ? t : snapshot.modified;
}

std::string title(const Context& ctx, bool videos_only) {
  const std::string& lang = ctx.request().lang;
  return ctx.i18n().text(lang, "site.name") + " · " +
         ctx.i18n().text(lang, videos_only ? "media.videos.title" : "media.news.title");
}

// Answers 304 or runs `render`, with the feed's validators either way.
Response syndicated(Context& ctx, const std::string& kind, const std::string& content_type,
                    const std::function<std::string(const FeedSnapshot&)>& render) {
  auto snapshot = ctx.feed().snapshot();
  Validators v;
  v.etag = "\"" + kind + "-" + snapshot->version + "-" + ctx.request().lang + "\"";
  v.modified = snapshot->modified;
  v.cache_control = "public, max-age=300";
  Response r = client_copy_current(ctx.request(), v) ? not_modified(v) : Response();
  if (r.status == 200) {
    r.content_type = content_type;
    r.body = render(*snapshot);
    add_validators(r, v);
  }
  r.header("Vary", "Accept-Language, Cookie");
  r.header("Content-Language", ctx.request().lang);
  r.header("X-Content-Type-Options", "nosniff");
  return r;
}

std::string atom_entry(const Context& ctx, const NewsItem& item) {
  const std::string& lang = ctx.request().lang;
  std::string e = "<entry>\n";
  e += element("id", item_link(ctx, item));
  e += element("title", local(item.headline, lang));
  e += "<link rel=\"alternate\" type=\"text/html\" href=\"" + x(item_link(ctx, item)) +
       "\"/>\n";
  if (const Rendition* p = preview_rendition(item, ctx.config().preview_rendition)) {
    e += "<link rel=\"enclosure\" type=\"" + x(p->content_type) + "\" href=\"" +
         x(link(ctx, preview_path(item))) + "\"";
    if (p->size > 0) e += " length=\"" + std::to_string(p->size) + "\"";
    e += "/>\n";
  }
  e += element("published", rfc3339(item.first_created));
  e += element("updated", rfc3339(std::max(item.version_created, item.first_created)));
  for (const auto& s : item.subjects)
    e += "<category term=\"" + x(s.qcode) + "\" label=\"" + x(local(s.name, lang)) + "\"/>\n";
  const std::string summary = local(item.summary, lang);
  if (!summary.empty()) e += element("summary", summary);
  const std::string body = local(item.body_html, lang);
  if (!body.empty()) e += "<content type=\"html\">" + x(body) + "</content>\n";
  return e + "</entry>\n";
}

// Media RSS: the preview file (what anyone may play), with its type, size, frame and length.
std::string rss_media(const Context& ctx, const NewsItem& item) {
  const std::string& lang = ctx.request().lang;
  const std::string page = x(link(ctx, video_path(item)));
  const Rendition* best = preview_rendition(item, ctx.config().preview_rendition);
  if (!best) return "";
  std::string m = "<media:content url=\"" + x(link(ctx, preview_path(item))) + "\" type=\"" +
                  x(best->content_type) + "\" medium=\"video\"";
  if (best->size > 0) m += " fileSize=\"" + std::to_string(best->size) + "\"";
  if (best && best->duration_seconds > 0)
    m += " duration=\"" + std::to_string(std::lround(best->duration_seconds)) + "\"";
  if (best && best->width > 0)
    m += " width=\"" + std::to_string(best->width) + "\" height=\"" +
         std::to_string(best->height) + "\"";
  m += ">\n";
  m += element("media:title", local(item.headline, lang));
  const std::string summary = local(item.summary, lang);
  if (!summary.empty()) m += element("media:description", summary);
  m += "<media:player url=\"" + page + "\"/>\n";
  if (!item.icon_href.empty())
    m += "<media:thumbnail url=\"" + x(link(ctx, thumbnail_path(item))) + "\"/>\n";
  return m + "</media:content>\n";
}

std::string rss_item(const Context& ctx, const NewsItem& item) {
  const std::string& lang = ctx.request().lang;
  std::string e = "<item>\n";
  e += element("title", local(item.headline, lang));
  e += element("link", item_link(ctx, item));
  e += "<guid isPermaLink=\"true\">" + x(item_link(ctx, item)) + "</guid>\n";
  e += element("pubDate", http_date(item.first_created));
  const std::string summary = local(item.summary, lang);
  if (!summary.empty()) e += element("description", summary);
  for (const auto& s : item.subjects) e += element("category", local(s.name, lang));
  if (item.is_video) e += rss_media(ctx, item);
  return e + "</item>\n";
}

}  // namespace

namespace {

Response atom(Context& ctx, bool videos_only) {
  const std::string list = videos_only ? "/videos/" : "/news/";
  return syndicated(ctx, videos_only ? "vatom" : "atom", "application/atom+xml; charset=utf-8",
                    [&ctx, videos_only, list](const FeedSnapshot& snapshot) {
    const std::string& lang = ctx.request().lang;
    const auto items = feed_items(snapshot, videos_only);
    std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"" + x(lang) +
                      "\">\n";
    out += element("title", title(ctx, videos_only));
    out += element("subtitle", ctx.i18n().text(lang, "site.tagline"));
    out += element("id", self_link(ctx, list + "feed.atom"));
    out += "<link rel=\"self\" type=\"application/atom+xml\" href=\"" +
           x(self_link(ctx, list + "feed.atom")) + "\"/>\n";
    out += "<link rel=\"alternate\" type=\"text/html\" href=\"" + x(link(ctx, list)) +
           "\"/>\n";
    out += element("updated", rfc3339(last_update(snapshot, items)));
    out += "<author><name>NATO</name></author>\n";
    for (const auto* item : items) out += atom_entry(ctx, *item);
    return out + "</feed>\n";
  });
}

Response rss(Context& ctx, bool videos_only) {
  const std::string list = videos_only ? "/videos/" : "/news/";
  return syndicated(ctx, videos_only ? "vrss" : "rss", "application/rss+xml; charset=utf-8",
                    [&ctx, videos_only, list](const FeedSnapshot& snapshot) {
    const std::string& lang = ctx.request().lang;
    const auto items = feed_items(snapshot, videos_only);
    std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                      "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" "
                      "xmlns:media=\"http://search.yahoo.com/mrss/\">\n<channel>\n";
    out += element("title", title(ctx, videos_only));
    out += element("link", link(ctx, list));
    out += element("description", ctx.i18n().text(lang, "site.tagline"));
    out += element("language", lang);
    out += element("lastBuildDate", http_date(last_update(snapshot, items)));
    out += "<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"" +
           x(self_link(ctx, list + "feed.rss")) + "\"/>\n";
    for (const auto* item : items) out += rss_item(ctx, *item);
    return out + "</channel>\n</rss>\n";
  });
}

}  // namespace

std::string feed_path(const Context& ctx, const std::string& path) {
  const std::string& lang = ctx.request().lang;
  return lang == "en" ? path : path + "?lang=" + text::url_encode(lang);
}

Response atom_feed(Context& ctx) { return atom(ctx, false); }
Response rss_feed(Context& ctx) { return rss(ctx, false); }
Response videos_atom_feed(Context& ctx) { return atom(ctx, true); }
Response videos_rss_feed(Context& ctx) { return rss(ctx, true); }

}  // namespace natomedia::media_gateway
