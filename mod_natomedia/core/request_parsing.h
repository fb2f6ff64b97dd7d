// The one parser for what a visitor sends in a query string, a form body and the Cookie header,
// plus the two choices made from that input: the page language and the local return_to path.
// Every function here is pure and thread-safe; none can fail on any byte sequence except by
// returning a Status (CONTRACT section 7: nothing a visitor sends can crash or give a 500).
#pragma once

#include <natomedia/http.h>
#include <natomedia/status.h>

#include <cstddef>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

namespace natomedia {
namespace core {

struct ParseLimits {
  size_t max_body = 65536;         // bytes of the whole input (CONTRACT: 64 KiB forms)
  size_t max_fields = 256;         // non-empty '&'-separated pairs
  size_t max_field_bytes = 65536;  // bytes of one decoded name or value
};

// Parses application/x-www-form-urlencoded text (a query string without '?', or a form body):
// pairs separated by '&', '+' is a space, %XX decoded, empty pairs skipped, a pair without '='
// has the value "". Returns Invalid with a short human message on a bad % escape, invalid UTF-8,
// a NUL byte (raw or %00), too many fields, a field over max_field_bytes or input over max_body.
// On error `out` is left as it was; on success the pairs are appended in arrival order.
Status parse_urlencoded(std::string_view input, Params& out, const ParseLimits& limits = {});

// True when parse_urlencoded refused `input` only because of its size (the caller answers 413
// rather than 400).
bool exceeds_body_limit(std::string_view input, const ParseLimits& limits = {});

// Parses a Cookie header (RFC 6265 section 5.4): "name=value" pairs split on ';', trimmed, a
// value in double quotes unquoted, nothing percent-decoded. A malformed pair (no '=', an empty
// or non-token name, control characters, invalid UTF-8) is skipped silently: a forged cookie
// must never turn into a 400 or a 500. At most 256 pairs are kept.
void parse_cookies(std::string_view header, Params& out);

// The page languages when no catalogue says otherwise; the first is the default.
inline constexpr const char* kLanguages[] = {"en", "fr"};

// One of `languages` (the catalogue's, "en" first; empty means kLanguages): the query's ?lang=
// when supported, then the language cookie, then the best supported Accept-Language range by
// q-value (ties: the first listed; "*" means the first language), else the first language.
// Region subtags are ignored ("fr-CH" is "fr").
std::string pick_language(const std::optional<std::string>& query_lang,
                          const std::optional<std::string>& cookie_lang,
                          std::string_view accept_language,
                          const std::vector<std::string>& languages = {});

// Whether the visitor's connection is HTTPS: httpd's own view (`scheme`, ap_http_scheme: "https"
// under mod_ssl), or the environment variable HTTPS (`https_env`, null when unset) being "on",
// which an administrator sets behind a TLS-terminating proxy with
// `SetEnvIf X-Forwarded-Proto ^https$ HTTPS=on` (CONTRACT section 12, docs/operations.md).
bool connection_is_https(const char* scheme, const char* https_env);

}  // namespace core
}  // namespace natomedia
