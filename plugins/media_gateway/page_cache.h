// Rendered pages for anonymous visitors, kept per process: the same feed version, language and
// URL always render the same page, so it is rendered once, not on every request. Pages of a
// signed-in visitor (their header names the account) are never cached. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>

#include <natomedia/http.h>

namespace natomedia::media_gateway {

class PageCache {
 public:
  std::optional<Response> get(const std::string& key) const;
  // Keeps `response` (a 200 page without Set-Cookie) under `key`. Entries of older feed
  // versions go when the cache is full: it is emptied and starts again.
  void put(const std::string& key, const Response& response);

  static constexpr size_t kMaxEntries = 512;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, Response> pages_;
};

// The one cache of this process's pages.
PageCache& page_cache();

}  // namespace natomedia::media_gateway
