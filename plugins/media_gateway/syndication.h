// /news/feed.atom (Atom 1.0, RFC 4287) and /news/feed.rss (RSS 2.0 with Media RSS for video
// items): the items of /news/ page 1, with absolute links from NatoMediaPublicURL.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

Response atom_feed(Context& ctx);
Response rss_feed(Context& ctx);

}  // namespace natomedia::media_gateway
