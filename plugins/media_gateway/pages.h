// The HTML pages over the feed: /, /news/, /news/ID, /videos/, /videos/ID, and the thumbnails.
// Each page carries an ETag from the feed's version, the language and who is signed in, and
// answers 304 when the client's copy is current.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

constexpr size_t kPageSize = 20;
constexpr size_t kHomeVideos = 6;  // the home page's newest videos
constexpr size_t kHomeNews = 5;    // and newest news (text items)

// GET /: the site's title and tagline, the newest videos with thumbnails, the newest news, and
// the way to register and sign in (or to the account). Cached like the lists for anonymous
// visitors.
Response home(Context& ctx);

Response news_list(Context& ctx);
Response news_item(Context& ctx);
Response video_list(Context& ctx);
Response video_item(Context& ctx);
Response video_thumbnail(Context& ctx);
// GET /favicon.svg: the site's icon, which every page's header links (no 404 on every page).
Response favicon(Context& ctx);

// What /news/ (or /videos/ with `videos_only`) shows on page `page` (1..N), newest first, and
// how many items the list has in all. One pass over the snapshot and no copy of the list: this
// runs on every request, page cache or not, and a feed may have ten thousand items.
struct ListedPage {
  size_t total = 0;
  std::vector<const NewsItem*> items;  // at most kPageSize
};
ListedPage listed_page(const FeedSnapshot& snapshot, bool videos_only, size_t page);

}  // namespace natomedia::media_gateway
