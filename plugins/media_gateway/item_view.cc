#include "item_view.h"

#include <cmath>

#include <natomedia/text.h>

#include "download_route.h"

#include "formatting.h"
#include "signed_links.h"

namespace natomedia::media_gateway {

namespace {

// One piece of localized text: the value, and whether English stood in for the language asked.
struct Localized {
  std::string text;
  bool fallback = false;
};

Localized pick(const LocalizedText& t, const std::string& lang) {
  auto p = t.get(lang);
  if (!p.text) return {};
  return {*p.text, p.fallback};
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    std::string line(text::trim(std::string_view(s).substr(start, nl - start)));
    if (!line.empty()) out.push_back(std::move(line));
    start = nl + 1;
  }
  return out;
}

Value::List strings(const std::vector<std::string>& v) {
  Value::List out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

// Each subject, named in the page's language (the feed's names, English when it has none in that
// language), with the search of its topic (CONTRACT 13: /news/?topic=QCODE).
Value::List subjects(const Context& ctx, const NewsItem& item, const std::string& lang) {
  Value::List out;
  for (const auto& s : item.subjects) {
    Localized name = pick(s.name, lang);
    if (name.text.empty()) continue;
    Value::Map m;
    m["name"] = name.text;
    m["text_lang"] = name.fallback ? "en" : lang;
    m["url"] = ctx.url("/news/") + "?topic=" + text::url_encode(s.qcode);
    out.emplace_back(std::move(m));
  }
  return out;
}

// The item's keywords in the page's language (English when it has none in it), each with the
// search of that word (/news/?q=WORD).
Value::List keywords(const Context& ctx, const NewsItem& item, const std::string& lang,
                     bool* fallback) {
  auto it = item.keywords.find(lang);
  if (it == item.keywords.end()) {
    it = item.keywords.find("en");
    if (it != item.keywords.end() && lang != "en") *fallback = true;
  }
  Value::List out;
  if (it == item.keywords.end()) return out;
  for (const auto& word : it->second) {
    Value::Map m;
    m["word"] = word;
    m["url"] = ctx.url("/news/") + "?q=" + text::url_encode(word);
    out.emplace_back(std::move(m));
  }
  return out;
}

// "141 kbit/s", "8.5 Mbit/s" (French "8,5 Mbit/s").
std::string bitrate_text(uint64_t bps, const std::string& lang) {
  std::string out;
  if (bps >= 1000000) {
    const uint64_t tenths = (bps + 50000) / 100000;
    out = std::to_string(tenths / 10);
    if (tenths % 10 != 0) out += (lang == "fr" ? "," : ".") + std::to_string(tenths % 10);
    return out + " Mbit/s";
  }
  return std::to_string((bps + 500) / 1000) + " kbit/s";
}

// "25 fps", "29.97 fps".
std::string frame_rate_text(double fps, const std::string& lang) {
  const long hundredths = std::lround(fps * 100);
  std::string out = std::to_string(hundredths / 100);
  if (hundredths % 100 != 0) {
    std::string frac = std::to_string(hundredths % 100 + 100).substr(1);
    if (frac.back() == '0') frac.pop_back();
    out += (lang == "fr" ? "," : ".") + frac;
  }
  return out + (lang == "fr" ? " i/s" : " fps");
}

}  // namespace

std::string rendition_purpose(const std::string& name) {
  const std::string n = text::lower_ascii(name);
  auto starts = [&](const char* p) { return n.rfind(p, 0) == 0; };
  auto has = [&](const char* p) { return n.find(p) != std::string::npos; };
  if (has("broadcast") || has("master") || has("prores") || starts("hd") || starts("uhd") ||
      starts("4k") || has("1080") || has("2160"))
    return "broadcast";
  if (has("web") || has("mobile") || has("proxy") || has("preview") || starts("sd") ||
      starts("ld") || has("360") || has("480") || has("270"))
    return "web";
  return "";
}

namespace {

Value::List renditions(Context& ctx, const NewsItem& item, const Account* signer) {
  const std::string& lang = ctx.request().lang;
  const std::time_t expires = link_expiry(ctx.clock().now());
  Value::List out;
  for (const auto& r : item.renditions) {
    Value::Map row;
    const std::string path = download_path(item, r);
    row["id"] = r.id;
    row["format"] = format_name(r.content_type);
    if (r.width > 0 && r.height > 0)
      row["resolution"] = std::to_string(r.width) + " × " + std::to_string(r.height);
    row["duration"] = r.duration_seconds > 0 ? clock_duration(r.duration_seconds) : "";
    row["size"] = r.size > 0 ? human_size(r.size, lang) : "";
    row["bytes"] = std::to_string(r.size);
    std::vector<std::string> details;
    if (!r.video_codec.empty() || !r.audio_codec.empty())
      details.push_back(r.video_codec + (!r.video_codec.empty() && !r.audio_codec.empty()
                                             ? " / " : "") + r.audio_codec);
    if (r.bitrate > 0) details.push_back(bitrate_text(r.bitrate, lang));
    if (r.frame_rate > 0) details.push_back(frame_rate_text(r.frame_rate, lang));
    std::string joined;
    for (const auto& d : details) joined += (joined.empty() ? "" : " · ") + d;
    row["details"] = joined;
    const std::string purpose = rendition_purpose(r.id);
    row["purpose"] = purpose.empty() ? std::string()
                                     : ctx.i18n().text(lang, "media.renditions.purpose." + purpose);
    row["download_url"] = ctx.url(path);
    if (signer) {
      const std::string query = signed_query(ctx.crypto(), path, *signer, expires);
      const std::string base =
          ctx.config().public_url.empty() ? ctx.url(path) : ctx.absolute_url(path);
      row["signed_url"] = base + "?" + query;
    }
    out.emplace_back(std::move(row));
  }
  return out;
}

}  // namespace

std::string news_path(const NewsItem& item) { return "/news/" + text::url_encode(item.id); }
std::string video_path(const NewsItem& item) { return "/videos/" + text::url_encode(item.id); }
std::string thumbnail_path(const NewsItem& item) { return video_path(item) + "/thumbnail"; }
std::string canonical_path(const NewsItem& item) {
  return item.is_video ? video_path(item) : news_path(item);
}
std::string preview_path(const NewsItem& item) { return video_path(item) + "/preview"; }
std::string download_path(const NewsItem& item, const Rendition& rendition) {
  return "/download/" + text::url_encode(item.id) + "/" + text::url_encode(rendition.id);
}

Value::Map item_card(const Context& ctx, const NewsItem& item, bool link_to_video_page) {
  const std::string& lang = ctx.request().lang;
  Localized headline = pick(item.headline, lang);
  Localized summary = pick(item.summary, lang);
  Value::Map card;
  card["id"] = item.id;
  (void)link_to_video_page;  // every list links an item's one page
  card["url"] = ctx.url(canonical_path(item));
  card["headline"] = headline.text;
  card["summary"] = summary.text;
  card["date"] = ctx.i18n().long_date(item.first_created, lang);
  card["datetime"] = rfc3339(item.first_created);
  card["is_video"] = item.is_video;
  if (!item.icon_href.empty()) card["thumbnail"] = ctx.url(thumbnail_path(item));
  const bool fallback = headline.fallback || (!summary.text.empty() && summary.fallback);
  card["fallback"] = fallback;
  card["text_lang"] = fallback ? "en" : lang;
  return card;
}

Vars item_page(Context& ctx, const NewsItem& item, const Account* signer) {
  const std::string& lang = ctx.request().lang;
  Localized headline = pick(item.headline, lang);
  Localized dateline = pick(item.dateline, lang);
  Localized summary = pick(item.summary, lang);
  Localized body = pick(item.body_html, lang);
  Localized shotlist = pick(item.shotlist, lang);
  bool keyword_fallback = false;
  Vars v;
  v["title"] = headline.text;
  v["id"] = item.id;
  v["headline"] = headline.text;
  v["headline_lang"] = headline.fallback ? "en" : lang;
  v["dateline"] = dateline.text;
  v["date"] = ctx.i18n().long_date(item.first_created, lang);
  v["datetime"] = rfc3339(item.first_created);
  // Place and credit in the page's language where the feed names them in it (lang="en" on the
  // element where English stands in; they alone do not mark the whole page as English).
  Localized located = pick(item.located, lang);
  Localized credit = pick(item.creditline, lang);
  v["located"] = located.text;
  v["located_lang"] = located.fallback ? "en" : lang;
  v["summary"] = summary.text;
  // The feed loader has reduced the body to the allow-list of CONTRACT section 7.
  v["body"] = Value::TrustedHtml(body.text);
  v["subjects"] = subjects(ctx, item, lang);
  v["keywords"] = keywords(ctx, item, lang, &keyword_fallback);
  v["keywords_lang"] = keyword_fallback ? "en" : lang;
  v["creditline"] = credit.text;
  v["creditline_lang"] = credit.fallback ? "en" : lang;
  v["is_video"] = item.is_video;
  v["shotlist"] = strings(split_lines(shotlist.text));
  v["has_shotlist"] = v["shotlist"].truthy();
  v["has_subjects"] = v["subjects"].truthy();
  v["has_keywords"] = v["keywords"].truthy();
  v["renditions"] = renditions(ctx, item, signer);
  v["signed_links"] = signer != nullptr;
  if (signer)
    v["links_valid_until"] = ctx.i18n().long_date(link_expiry(ctx.clock().now()), lang) + ", " +
                             rfc3339(link_expiry(ctx.clock().now())).substr(11, 5) + " UTC";
  if (!item.icon_href.empty()) v["thumbnail"] = ctx.url(thumbnail_path(item));
  if (const Rendition* p = preview_rendition(item, ctx.config().preview_rendition)) {
    v["preview_url"] = ctx.url(preview_path(item));
    v["preview_type"] = p->content_type;
    if (p->width > 0 && p->height > 0) {
      v["preview_width"] = std::to_string(p->width);
      v["preview_height"] = std::to_string(p->height);
    }
  }
  v["news_url"] = ctx.url(news_path(item));
  v["video_url"] = ctx.url(video_path(item));
  v["fallback"] = headline.fallback || (!dateline.text.empty() && dateline.fallback) ||
                  (!summary.text.empty() && summary.fallback) ||
                  (!body.text.empty() && body.fallback) ||
                  (!shotlist.text.empty() && shotlist.fallback) || keyword_fallback;
  return v;
}

}  // namespace natomedia::media_gateway
