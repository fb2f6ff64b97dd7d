// libFuzzer target: load_feed_memory on arbitrary bytes never crashes, and what it accepts
// keeps the loader's promises (newest first, ids indexed, an English headline, safe hrefs,
// bodies reduced to the allow-list).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/feed_loader.h"
#include "safe_html_check.h"

namespace {

const natomedia::core::FeedSchema& schema() {
  static std::shared_ptr<const natomedia::core::FeedSchema> loaded = [] {
    auto result = natomedia::core::FeedSchema::load(NM_SOURCE_DIR "/schemas/natomedia-feed.xsd");
    if (!result.ok()) std::abort();
    return result.value();
  }();
  return *loaded;
}

bool safe_href(const std::string& href) {
  if (href.empty() || href[0] == '/' || href.find('\\') != std::string::npos) return false;
  std::string padded = "/" + href + "/";
  return padded.find("/../") == std::string::npos && padded.find("/./") == std::string::npos &&
         padded.find("//") == std::string::npos;
}

void check(const natomedia::FeedSnapshot& feed) {
  if (feed.by_id.size() != feed.items.size()) std::abort();
  for (size_t i = 0; i < feed.items.size(); ++i) {
    const natomedia::NewsItem& item = feed.items[i];
    if (i > 0 && feed.items[i - 1].first_created < item.first_created) std::abort();
    if (feed.find(item.id) != &item) std::abort();
    if (item.pub_status != "stat:usable") std::abort();
    if (item.headline.by_lang.count("en") == 0) std::abort();
    if (!item.icon_href.empty() && !safe_href(item.icon_href)) std::abort();
    for (const natomedia::Rendition& r : item.renditions)
      if (!safe_href(r.href) || r.id.empty() || item.rendition(r.id) != &r) std::abort();
    for (const auto& [lang, body] : item.body_html.by_lang)
      if (!natomedia::fuzz::is_safe_html(body)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  natomedia::core::LoadOptions options;
  options.max_bytes = 256 * 1024;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto result = natomedia::core::load_feed_memory(xml, schema(), options);
  if (result.ok()) {
    check(**result);
  } else if (result.status().message().empty()) {
    std::abort();  // a refusal always says why
  }
  return 0;
}
