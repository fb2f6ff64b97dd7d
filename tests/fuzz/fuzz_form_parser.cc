// libFuzzer target: the form/query parser, the Cookie parser and the language choice must take
// any bytes without crashing, and must never hand out a name or value that is not clean text.
#include <natomedia/text.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/request_parsing.h"

namespace {

void check_clean(const natomedia::Params& params) {
  for (const auto& [name, value] : params.items()) {
    for (const std::string* s : {&name, &value}) {
      if (!natomedia::text::valid_utf8(*s) || s->find('\0') != std::string::npos) std::abort();
    }
  }
}

// The next '\n'-separated part of `rest`; an empty part stands for an absent value.
std::optional<std::string> next_part(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string part(rest.substr(0, nl));
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (part.empty()) return std::nullopt;
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  natomedia::core::ParseLimits small;
  small.max_fields = 8;
  small.max_field_bytes = 64;
  small.max_body = 512;
  const natomedia::core::ParseLimits* const choices[] = {&small, nullptr};  // nullptr: defaults
  for (const auto* limits : choices) {
    natomedia::Params p;
    p.add("before", "x");
    natomedia::Status s = limits ? natomedia::core::parse_urlencoded(input, p, *limits)
                                 : natomedia::core::parse_urlencoded(input, p);
    if (!s.ok() && (p.size() != 1 || s.message().empty())) std::abort();  // untouched on error
    if (limits && s.ok() && p.size() > 1 + small.max_fields) std::abort();
    check_clean(p);
  }

  natomedia::Params cookies;
  natomedia::core::parse_cookies(input, cookies);
  check_clean(cookies);
  if (cookies.size() > 256) std::abort();

  // The same bytes as "query lang \n cookie lang \n Accept-Language".
  std::string_view rest = input;
  auto query_lang = next_part(rest);
  auto cookie_lang = next_part(rest);
  std::string lang = natomedia::core::pick_language(query_lang, cookie_lang, rest);
  if (lang != "en" && lang != "fr") std::abort();
  return 0;
}
