// libFuzzer target: whatever the fragment, sanitize_xhtml_string gives only escaped text and
// the allow-list's bare tags.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/xhtml_sanitizer.h"
#include "safe_html_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string out = natomedia::core::sanitize_xhtml_string(input);
  if (!natomedia::fuzz::is_safe_html(out)) std::abort();
  return 0;
}
