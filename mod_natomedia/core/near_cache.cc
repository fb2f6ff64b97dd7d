#include "near_cache.h"

#include <mutex>
#include <new>
#include <utility>

namespace natomedia::core {

NearCache::NearCache(ServerCache& far, Versions* versions, size_t count,
                     std::chrono::milliseconds max_age, size_t max_entries, Now now)
    : far_(far),
      versions_(versions),
      count_(count == 0 ? 1 : count),
      max_age_(max_age),
      max_entries_(max_entries),
      now_(std::move(now)) {}

NearCache::Versions* NearCache::make_versions(void* shared, size_t count) {
  auto* versions = static_cast<Versions*>(shared);
  for (size_t i = 0; i < count; ++i) new (&versions[i]) Versions(0);
  return versions;
}

// FNV-1a: the same group for a key in every process (std::hash makes no such promise).
NearCache::Versions& NearCache::version_of(const std::string& key) const {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return versions_[h % count_];
}

std::optional<std::string> NearCache::get(const std::string& key) {
  // Read before the shared cache: a change that lands after this read moves it, and the copy
  // made below is then never believed.
  const uint64_t version = version_of(key).load();
  const auto now = now_();
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    auto it = copies_.find(key);
    if (it != copies_.end() && it->second.version == version && now < it->second.until)
      return it->second.value;
  }
  std::optional<std::string> value = far_.get(key);
  if (!value) return value;
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (copies_.size() >= max_entries_ && copies_.find(key) == copies_.end()) copies_.clear();
  copies_[key] = Copy{*value, version, now + max_age_};
  return value;
}

void NearCache::changed(const std::string& key) {
  version_of(key).fetch_add(1);
  std::unique_lock<std::shared_mutex> lock(mutex_);
  copies_.erase(key);
}

bool NearCache::put(const std::string& key, const std::string& value, std::time_t expires) {
  const bool stored = far_.put(key, value, expires);
  changed(key);  // even when the put failed: the shared cache may hold anything now
  return stored;
}

bool NearCache::remove(const std::string& key) {
  const bool removed = far_.remove(key);
  changed(key);
  return removed;
}

size_t NearCache::copies() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return copies_.size();
}

}  // namespace natomedia::core
