// A process's own copy of what it read lately from the server's shared cache (the ServerCache
// on httpd's socache), so that the same key asked for again costs no lock and no system call.
//
// Why: shmcb takes a global mutex (a file lock on Debian) for every call, and a request with a
// session cookie makes two calls (the session, the account's generation). With four children
// that lock was the largest cost of a gated page (docs/performance.md).
//
// How a copy stays exact: every key belongs to one of `count` groups, and each group has a
// version counter in memory shared by every process of the server (made before the children
// fork). put() and remove() change the shared cache first and move the key's group version
// after; get() reads the version before it reads the shared cache and keeps the copy under
// that version. A copy is believed only while its group's version is unchanged, so a change
// made by any process is seen by every process from the moment the call that made it returns
// (a session ended in one child is refused by every child at once). A change whose version
// moved while a get was reading makes that get's copy stale from the start: one miss more.
// Groups are shared by many keys; a change to one key costs the others of its group a miss.
//
// A copy is also believed for `max_age` at most, since the shared cache does not tell a
// value's expiry: what relies on expiry stores its own time in the value (the session cache
// does). At most `max_entries` copies are kept; when full, the copies are dropped together.
//
// Thread-safe; nothing throws out of get/put/remove but std::bad_alloc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <natomedia/services.h>

namespace natomedia::core {

class NearCache : public ServerCache {
 public:
  using Versions = std::atomic<uint64_t>;
  using Now = std::function<std::chrono::steady_clock::time_point()>;

  // `far`: the shared cache, used by every process. `versions`: `count` counters (count > 0)
  // in memory every process of the server maps, zeroed once before the first NearCache uses
  // them; neither is owned. `now`: the clock for max_age (tests pass their own).
  NearCache(ServerCache& far, Versions* versions, size_t count,
            std::chrono::milliseconds max_age = std::chrono::seconds(1), size_t max_entries = 4096,
            Now now = &std::chrono::steady_clock::now);

  std::optional<std::string> get(const std::string& key) override;
  bool put(const std::string& key, const std::string& value, std::time_t expires) override;
  bool remove(const std::string& key) override;

  // Copies held now (for the tests).
  size_t copies() const;

  // Bytes of shared memory for `count` counters, and the counters made in it (zeroed).
  static size_t shared_bytes(size_t count) { return count * sizeof(Versions); }
  static Versions* make_versions(void* shared, size_t count);

  static_assert(std::atomic<uint64_t>::is_always_lock_free,
                "the versions live in memory shared between processes");

 private:
  struct Copy {
    std::string value;
    uint64_t version = 0;
    std::chrono::steady_clock::time_point until;
  };
  Versions& version_of(const std::string& key) const;
  void changed(const std::string& key);

  ServerCache& far_;
  Versions* versions_;
  size_t count_;
  std::chrono::milliseconds max_age_;
  size_t max_entries_;
  Now now_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Copy> copies_;
};

}  // namespace natomedia::core
