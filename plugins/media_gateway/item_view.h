// What pages show of a feed item, as template values: a card for the lists, the whole item for
// /news/ID and /videos/ID. Text in the visitor's language, English marked where it stands in.
#pragma once

#include <string>

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

// Link paths (below the base path, segments percent-encoded).
std::string news_path(const NewsItem& item);
std::string video_path(const NewsItem& item);
std::string thumbnail_path(const NewsItem& item);
// The one page of an item: /videos/ID for a video, /news/ID for the rest.
std::string canonical_path(const NewsItem& item);
std::string preview_path(const NewsItem& item);
std::string download_path(const NewsItem& item, const Rendition& rendition);

// A list entry: url, headline, summary, date, is_video, thumbnail, fallback, text_lang.
// What a rendition is for, from its QCode name: "broadcast" (hd720, hd1080, uhd, master…),
// "web" (sd360, web, mobile…) or "" when the name says neither.
std::string rendition_purpose(const std::string& name);

Value::Map item_card(const Context& ctx, const NewsItem& item, bool link_to_video_page);

// The whole item for its page. `signer` is the account the page hands signed download links
// to (nullptr: none).
Vars item_page(Context& ctx, const NewsItem& item, const Account* signer);

}  // namespace natomedia::media_gateway
