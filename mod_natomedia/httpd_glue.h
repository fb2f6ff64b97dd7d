// Translation between request_rec and the core's types, and httpd's logging behind core::Logger.
#pragma once

#include <httpd.h>

#include "core/portal.h"

namespace natomedia::module {

// Logs through ap_log_rerror, so lines carry the request's id and client.
class RequestLogger : public core::Logger {
 public:
  explicit RequestLogger(request_rec* r) : r_(r) {}
  void log(LogLevel level, const std::string& message) override;

 private:
  request_rec* r_;
};

// Logs through ap_log_error for the main server: for work outside a request (feed reloads).
core::Logger& server_logger();

// The method, path, query and headers, without reading the body.
core::IncomingRequest incoming_headers(request_rec* r);

// Reads the body (at most 64 KiB: more sets body_too_large and reads no further).
core::IncomingRequest incoming_request(request_rec* r);

// Writes the core's answer: status, headers, cookies, then the body or the file (which httpd
// sends itself: sendfile, Range and conditional requests).
int send_response(request_rec* r, const Response& response);

}  // namespace natomedia::module
