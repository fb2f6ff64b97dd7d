// GET|HEAD /download/ID/RENDITION: decides who may have the file, reserves the bytes a GET may
// carry of the account's NatoMediaDownloadQuota (refused with 429 past it), then hands the file
// to httpd's own file path (FileBody: sendfile, Range, conditional requests). After the answer
// went out, logs the download and settles the reservation with the bytes really sent. A client
// whose copy is current gets 304 here, at no cost.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

Response download(Context& ctx);

// The strong ETag of a rendition file: stable across servers that hold the same file (item
// version, rendition, size and mtime; never the inode).
std::string download_etag(const Crypto& crypto, const NewsItem& item, const Rendition& rendition,
                          uint64_t size, std::time_t mtime);

}  // namespace natomedia::media_gateway
