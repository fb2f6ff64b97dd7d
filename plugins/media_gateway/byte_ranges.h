// How many bytes of a file a GET may carry, told before httpd sends it: the download quota
// reserves this much before the answer and settles on the bytes really sent after it.
#pragma once

#include <cstdint>
#include <string>

#include <natomedia/http.h>

namespace natomedia::media_gateway {

// The most body bytes httpd's own file path (its byterange filter: Range, If-Range, several
// ranges as multipart/byteranges) can send for a GET of a file of `size` bytes whose strong ETag
// is `etag` and type `content_type`. Never less than httpd may send: one range httpd would
// serve counts its length, an unsatisfiable one 0 (416), several ranges the file plus the
// multipart framing, and anything else (no Range, a Range httpd ignores, an If-Range that is not
// exactly `etag`) the whole file. Pure; thread-safe.
uint64_t most_bytes_sent(const Request& request, uint64_t size, const std::string& etag,
                         const std::string& content_type);

}  // namespace natomedia::media_gateway
