// Validators for pages and feeds built from the feed (ETag from the feed's version, the language
// and what else the answer depends on; Last-Modified from the feed file) and the 304 answer.
#pragma once

#include <ctime>
#include <string>

#include <natomedia/http.h>

namespace natomedia::media_gateway {

struct Validators {
  std::string etag;         // with quotes, e.g. W/"news-1a2b-en-anon"
  std::time_t modified = 0; // 0: no Last-Modified
  std::string cache_control;
};

// A weak ETag from its parts: W/"PART-PART-…" (parts must be token characters).
std::string weak_etag(const std::string& parts);

// True when the request's If-None-Match (or, without one, If-Modified-Since) says the client's
// copy is current (RFC 7232 section 6 order).
bool client_copy_current(const Request& request, const Validators& v);

// ETag, Last-Modified and Cache-Control on `response`.
void add_validators(Response& response, const Validators& v);

// 304 Not Modified with the validators and no body.
Response not_modified(const Validators& v);

}  // namespace natomedia::media_gateway
