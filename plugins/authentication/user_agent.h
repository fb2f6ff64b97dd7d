// A User-Agent header made readable for the sessions page: "Firefox on Linux", "Chrome on
// Android". Plain C++, no I/O; the page puts the two names into its own language's sentence.
#pragma once

#include <string>

namespace natomedia::auth {

struct ReadableAgent {
  std::string browser;  // "Firefox", "Chrome", ...; "" when not recognised
  std::string os;       // "Linux", "Android", ...; "" when not recognised
  std::string shortened;  // the raw string cut to at most kShortAgentChars characters, with "…"
};

constexpr size_t kShortAgentChars = 40;

// The browser and system a User-Agent names. Where both are known the page says "B on O";
// otherwise it shows `shortened`.
ReadableAgent readable_agent(const std::string& user_agent);

}  // namespace natomedia::auth
