// GET|HEAD /download/ID/RENDITION: decides who may have the file, reserves the bytes a GET may
// carry of the account's NatoMediaDownloadQuota (refused with 429 past it), then hands the file
// to httpd's own file path (FileBody: sendfile, Range, conditional requests). After the answer
// went out, logs the download and settles the reservation with the bytes really sent. A client
// whose copy is current gets 304 here, at no cost.
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::media_gateway {

Response download(Context& ctx);

// GET|HEAD /videos/ID/preview (CONTRACT 13): the rendition the player plays, public, sent by
// httpd's file path as downloads are (Range, strong ETag), `Content-Disposition: inline`.
Response preview(Context& ctx);

// The rendition /videos/ID/preview serves: the one named by NatoMediaPreviewRendition (`named`,
// "" for none) when the item has it as a video, else the smallest video/* rendition (by bytes,
// then by pixels); nullptr when the item has no video rendition.
const Rendition* preview_rendition(const NewsItem& item, const std::string& named);

// The strong ETag of a rendition file: stable across servers that hold the same file (item
// version, rendition, size and mtime; never the inode).
std::string download_etag(const Crypto& crypto, const NewsItem& item, const Rendition& rendition,
                          uint64_t size, std::time_t mtime);

}  // namespace natomedia::media_gateway
