// /news/feed.atom (Atom 1.0, RFC 4287) and /news/feed.rss (RSS 2.0 with Media RSS for video
// items): the items of /news/ page 1, with absolute links from NatoMediaPublicURL. Entries link
// each item's canonical page; Media RSS and Atom enclosures point at its public preview.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

Response atom_feed(Context& ctx);
Response rss_feed(Context& ctx);
// /videos/feed.atom and /videos/feed.rss: the same over the items of /videos/ page 1.
Response videos_atom_feed(Context& ctx);
Response videos_rss_feed(Context& ctx);

// `path` (a feed's) with `?lang=` of the request's language when it is not English: the link a
// French page gives leads to the French feed.
std::string feed_path(const Context& ctx, const std::string& path);

}  // namespace natomedia::media_gateway
