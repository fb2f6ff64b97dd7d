// libFuzzer target: safe_return_to must only ever give "/" or a local path that cannot name
// another origin, and then exactly what it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <natomedia/return_to.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string out = natomedia::safe_return_to(input);
  if (out == "/") return 0;
  if (out.empty() || out[0] != '/') std::abort();
  if (out.compare(0, 2, "//") == 0) std::abort();
  if (out.find('\\') != std::string::npos) std::abort();
  for (char c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) std::abort();  // nothing a Location header could be split on
  }
  if (out != input) std::abort();
  // Idempotent: what it accepted, it accepts again.
  if (natomedia::safe_return_to(out) != out) std::abort();
  return 0;
}
