// GET|HEAD /download/ID/RENDITION: decides who may have the file, then hands it to httpd's own
// file path (FileBody: sendfile, Range, conditional requests). Logs the download after the
// answer went out, with the bytes really sent.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

Response download(Context& ctx);

// The strong ETag of a rendition file: stable across servers that hold the same file (item
// version, rendition, size and mtime; never the inode).
std::string download_etag(const Crypto& crypto, const NewsItem& item, const Rendition& rendition,
                          uint64_t size, std::time_t mtime);

}  // namespace natomedia::media_gateway
