// The HTML pages over the feed: /news/, /news/ID, /videos/, /videos/ID, and the thumbnails.
// Each page carries an ETag from the feed's version, the language and who is signed in, and
// answers 304 when the client's copy is current.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

constexpr size_t kPageSize = 20;

Response news_list(Context& ctx);
Response news_item(Context& ctx);
Response video_list(Context& ctx);
Response video_item(Context& ctx);
Response video_thumbnail(Context& ctx);

// The items /news/ (or /videos/ with `videos_only`) shows on page 1..N, newest first.
std::vector<const NewsItem*> listed_items(const FeedSnapshot& snapshot, bool videos_only);

}  // namespace natomedia::media_gateway
