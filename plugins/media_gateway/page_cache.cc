#include "page_cache.h"

#include <mutex>

namespace natomedia::media_gateway {

std::optional<Response> PageCache::get(const std::string& key) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = pages_.find(key);
  if (it == pages_.end()) return std::nullopt;
  return it->second;
}

void PageCache::put(const std::string& key, const Response& response) {
  if (response.status != 200 || response.after_sent || response.file) return;
  for (const auto& [name, value] : response.headers)
    if (name == "Set-Cookie") return;
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (pages_.size() >= kMaxEntries) pages_.clear();
  pages_[key] = response;
}

PageCache& page_cache() {
  static PageCache cache;
  return cache;
}

}  // namespace natomedia::media_gateway
