// Content-Disposition for downloads (RFC 6266, with RFC 8187's filename* for UTF-8 names).
// Pure functions; thread-safe.
#pragma once

#include <string>

namespace natomedia::media_gateway {

// `name` without quotes, slashes, backslashes, control characters (C0, DEL, C1) and invalid
// UTF-8, trimmed of spaces and dots at both ends; "download" when nothing is left.
std::string safe_filename(const std::string& name);

// The filename's ASCII stand-in: every non-ASCII character and '%' become '_'.
std::string ascii_filename(const std::string& safe_name);

// `attachment; filename="ASCII"; filename*=UTF-8''PERCENT-ENCODED` for `name` (cleaned first).
std::string attachment_disposition(const std::string& name);

}  // namespace natomedia::media_gateway
