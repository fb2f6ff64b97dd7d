#include "user_agent.h"

namespace natomedia::auth {

namespace {

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

// Order matters: Edge and Opera say "Chrome", Chrome says "Safari", Android says "Linux".
std::string browser_of(const std::string& ua) {
  if (has(ua, "Edg/") || has(ua, "EdgA/") || has(ua, "EdgiOS/")) return "Edge";
  if (has(ua, "OPR/") || has(ua, "Opera")) return "Opera";
  if (has(ua, "SamsungBrowser/")) return "Samsung Internet";
  if (has(ua, "Firefox/") || has(ua, "FxiOS/")) return "Firefox";
  if (has(ua, "Chromium/")) return "Chromium";
  if (has(ua, "Chrome/") || has(ua, "CriOS/")) return "Chrome";
  if (has(ua, "Safari/") && has(ua, "Version/")) return "Safari";
  if (has(ua, "curl/")) return "curl";
  return "";
}

std::string os_of(const std::string& ua) {
  if (has(ua, "Android")) return "Android";
  if (has(ua, "iPhone") || has(ua, "iPad") || has(ua, "iPod")) return "iOS";
  if (has(ua, "CrOS")) return "ChromeOS";
  if (has(ua, "Windows")) return "Windows";
  if (has(ua, "Mac OS X") || has(ua, "Macintosh")) return "macOS";
  if (has(ua, "Linux") || has(ua, "X11")) return "Linux";
  return "";
}

// At most kShortAgentChars characters (UTF-8 aware), "…" when cut.
std::string shorten(const std::string& ua) {
  size_t chars = 0;
  for (size_t i = 0; i < ua.size(); ++i) {
    if ((static_cast<unsigned char>(ua[i]) & 0xC0) == 0x80) continue;
    if (chars == kShortAgentChars) return ua.substr(0, i) + "\xE2\x80\xA6";
    ++chars;
  }
  return ua;
}

}  // namespace

ReadableAgent readable_agent(const std::string& user_agent) {
  return {browser_of(user_agent), os_of(user_agent), shorten(user_agent)};
}

}  // namespace natomedia::auth
