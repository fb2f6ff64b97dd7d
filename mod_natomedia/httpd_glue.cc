#include "httpd_glue.h"

#include "core/request_parsing.h"

#include <http_config.h>
#include <http_core.h>
#include <http_main.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include <apr_buckets.h>
#include <apr_strings.h>

#include <cctype>


extern "C" module AP_MODULE_DECLARE_DATA natomedia_module;
APLOG_USE_MODULE(natomedia);

namespace natomedia::module {

namespace {

constexpr apr_off_t kMaxBody = 64 * 1024;

int aplog_level(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return APLOG_DEBUG;
    case LogLevel::kInfo: return APLOG_INFO;
    case LogLevel::kWarning: return APLOG_WARNING;
    case LogLevel::kError: return APLOG_ERR;
  }
  return APLOG_ERR;
}

class ServerLogger : public core::Logger {
 public:
  void log(LogLevel level, const std::string& message) override {
    ap_log_error(APLOG_MARK, aplog_level(level), 0, ap_server_conf, "mod_natomedia: %s",
                 message.c_str());
  }
};

// Reads at most kMaxBody + 1 bytes; the caller answers 413 past the limit.
void read_body(request_rec* r, core::IncomingRequest& in) {
  if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) return;
  if (r->remaining > kMaxBody) {
    in.body_too_large = true;
    return;
  }
  if (!ap_should_client_block(r)) return;
  char buf[8192];
  long n;
  while ((n = ap_get_client_block(r, buf, sizeof buf)) > 0) {
    if (static_cast<apr_off_t>(in.body.size()) + n > kMaxBody) {
      in.body_too_large = true;
      return;
    }
    in.body.append(buf, static_cast<size_t>(n));
  }
}

int collect_header(void* in_v, const char* key, const char* value) {
  auto* in = static_cast<core::IncomingRequest*>(in_v);
  std::string name = key;
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = in->headers.find(name);
  if (it == in->headers.end())
    in->headers.emplace(name, value);
  else
    it->second += (name == "cookie" ? "; " : ", ") + std::string(value);
  return 1;
}

// As httpd's own default handler sends a static file: sendfile and mmap as the server's
// EnableSendfile / EnableMMAP say, Range and conditional requests by httpd's filters.
int send_file(request_rec* r, const FileBody& file) {
  auto* dir = static_cast<core_dir_config*>(ap_get_core_module_config(r->per_dir_config));
  apr_int32_t flags = APR_READ | APR_BINARY;
#if APR_HAS_SENDFILE
  if (dir->enable_sendfile == ENABLE_SENDFILE_ON) flags |= APR_SENDFILE_ENABLED;
#endif
  apr_file_t* fd = nullptr;
  apr_status_t rv = apr_file_open(&fd, file.path.c_str(), flags, APR_OS_DEFAULT, r->pool);
  if (rv != APR_SUCCESS) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "mod_natomedia: cannot open %s", file.path.c_str());
    return HTTP_NOT_FOUND;
  }
  rv = apr_file_info_get(&r->finfo, APR_FINFO_NORM, fd);
  if (rv != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
  ap_set_content_type(r, apr_pstrdup(r->pool, file.content_type.c_str()));
  ap_update_mtime(r, r->finfo.mtime);
  ap_set_last_modified(r);
  if (!file.etag.empty())
    apr_table_setn(r->headers_out, "ETag", apr_pstrdup(r->pool, file.etag.c_str()));
  else
    ap_set_etag(r);
  apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
  if (!file.disposition.empty())
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_pstrdup(r->pool, file.disposition.c_str()));
  ap_set_content_length(r, r->finfo.size);
  int cond = ap_meets_conditions(r);
  if (cond != OK) return cond;
  apr_bucket_brigade* bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
  apr_bucket* e = apr_brigade_insert_file(bb, fd, 0, r->finfo.size, r->pool);
#if APR_HAS_MMAP
  if (dir->enable_mmap == ENABLE_MMAP_OFF) apr_bucket_file_enable_mmap(e, 0);
#else
  (void)e;
#endif
  APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
  rv = ap_pass_brigade(r->output_filters, bb);
  return rv == APR_SUCCESS || r->connection->aborted ? OK : AP_FILTER_ERROR;
}

}  // namespace

void RequestLogger::log(LogLevel level, const std::string& message) {
  ap_log_rerror(APLOG_MARK, aplog_level(level), 0, r_, "mod_natomedia: %s", message.c_str());
}

core::Logger& server_logger() {
  static ServerLogger logger;
  return logger;
}

core::IncomingRequest incoming_headers(request_rec* r) {
  core::IncomingRequest in;
  in.method = r->method ? r->method : "";
  in.path = r->uri;
  in.raw_query = r->args ? r->args : "";
  apr_table_do(collect_header, &in, r->headers_in, nullptr);
  // Under `MaxRanges none` httpd ignores Range and sends whole files: the handler must not be
  // told of a range (it reserves download quota for what will really be sent).
  auto* dir = static_cast<core_dir_config*>(ap_get_core_module_config(r->per_dir_config));
  if (dir->max_ranges == AP_MAXRANGES_NORANGES) {
    in.headers.erase("range");
    in.headers.erase("request-range");
  }
  in.client_ip = r->useragent_ip ? r->useragent_ip : "";
  in.https =
      core::connection_is_https(ap_http_scheme(r), apr_table_get(r->subprocess_env, "HTTPS"));
  return in;
}

core::IncomingRequest incoming_request(request_rec* r) {
  core::IncomingRequest in = incoming_headers(r);
  if (r->method_number == M_POST) read_body(r, in);
  return in;
}

int send_response(request_rec* r, const Response& response) {
  // Error answers keep their headers (Set-Cookie, Allow, Retry-After): err_headers_out.
  apr_table_t* headers = response.status >= 300 ? r->err_headers_out : r->headers_out;
  for (const auto& [name, value] : response.headers)
    apr_table_add(headers, apr_pstrdup(r->pool, name.c_str()),
                  apr_pstrdup(r->pool, value.c_str()));
  if (response.file && response.status == 200) return send_file(r, *response.file);
  r->status = response.status;
  ap_set_content_type(r, apr_pstrdup(r->pool, response.content_type.c_str()));
  if (!response.body.empty()) {
    ap_set_content_length(r, static_cast<apr_off_t>(response.body.size()));
    if (!r->header_only) ap_rwrite(response.body.data(), static_cast<int>(response.body.size()), r);
  } else {
    ap_set_content_length(r, 0);
  }
  return OK;
}

}  // namespace natomedia::module
