#include "conditional.h"

#include "formatting.h"

namespace natomedia::media_gateway {

std::string weak_etag(const std::string& parts) { return "W/\"" + parts + "\""; }

bool client_copy_current(const Request& request, const Validators& v) {
  if (auto inm = request.header("if-none-match")) return etag_matches(*inm, v.etag);
  if (v.modified == 0) return false;
  auto ims = request.header("if-modified-since");
  if (!ims) return false;
  auto since = parse_http_date(*ims);
  return since && v.modified <= *since;
}

void add_validators(Response& response, const Validators& v) {
  if (!v.etag.empty()) response.header("ETag", v.etag);
  if (v.modified != 0) response.header("Last-Modified", http_date(v.modified));
  if (!v.cache_control.empty()) response.header("Cache-Control", v.cache_control);
}

Response not_modified(const Validators& v) {
  Response r;
  r.status = 304;
  add_validators(r, v);
  return r;
}

}  // namespace natomedia::media_gateway
