// natomedia::Cache on memcached through libmemcached, with a pool of connections per process.
#pragma once

#include <functional>
#include <string>

#include <natomedia/services.h>

struct memcached_st;
struct memcached_pool_st;

namespace natomedia {
namespace core {

// Checks a NatoMediaMemcached value (surrounding white space is ignored): Invalid, with
// libmemcached's own complaint and an example of a right value, when libmemcached would refuse it
// or when it names no server.
Status check_memcached_config(const std::string& config);

// Every call is thread-safe: each takes a connection from the pool for its duration.
//
// Defaults set unless the configuration string says otherwise: connect and poll timeouts of
// 500 ms, retry timeout 2 s, consistent (ketama, weighted) distribution. The ring is never
// changed (no ejection), so every connection of every node maps a key alike. A server that fails
// is skipped for the retry timeout and then tried again; while it cannot be reached, each of its
// keys is served by the next live server of that key's fall-back chain (the same on every node),
// each fail-over counted through on_error. So with several servers codes keep working, new keys go
// to the live ones, and a restarted server takes its keys back without any rebuild (what was
// written to a stand-in meanwhile is then not found). With one server, its failure is an error.
// The text protocol is used (memcached 1.6 deprecates the binary one): CAS works through "gets",
// and increment() creates an absent entry with add(). A ttl_seconds <= 0 means no expiry.
//
// Keys are stored as key_prefix + key; a key memcached would refuse (white space, control or
// non-ASCII bytes), an empty one, one whose stored form would exceed kMaxKeyBytes, or one that
// starts with "h:" is stored as key_prefix + "h:" + sha256_hex(key) instead.
class MemcachedCache : public natomedia::Cache {
 public:
  explicit MemcachedCache(std::string config, std::string key_prefix = "nm:");
  ~MemcachedCache() override;
  MemcachedCache(const MemcachedCache&) = delete;
  MemcachedCache& operator=(const MemcachedCache&) = delete;

  // Builds the connection pool. Call it in each httpd child (child_init), never in the parent:
  // connections must not be shared across fork(). Until it succeeds every call is an error.
  // Not thread-safe with the other calls; a second call does nothing.
  Status start();

  CacheEntry get(const std::string& key) override;
  Status set(const std::string& key, const std::string& value, long ttl_seconds) override;
  Status add(const std::string& key, const std::string& value, long ttl_seconds) override;
  Status cas(const std::string& key, const std::string& value, long ttl_seconds,
             uint64_t cas) override;
  Status remove(const std::string& key) override;
  Result<uint64_t> increment(const std::string& key, uint64_t delta, long ttl_seconds) override;

  // The key as stored in memcached (prefix included); public so tests can look behind the cache.
  std::string storage_key(const std::string& key) const;

  // Called on every backend error (not on a miss or a conflict), e.g. to count memcached errors
  // in the metrics. Set it before start(); it must be thread-safe.
  std::function<void()> on_error;

  static constexpr size_t kMaxKeyBytes = 200;
  static constexpr unsigned kPoolMax = 64;

 private:
  class Lease;

  Status backend_error(memcached_st* memc, int rc, const std::string& op);
  Status store(const std::string& op, const std::string& key, const std::string& value,
               long ttl_seconds, uint64_t cas);

  std::string config_;
  std::string prefix_;
  memcached_st* master_ = nullptr;
  memcached_pool_st* pool_ = nullptr;
};

}  // namespace core
}  // namespace natomedia
