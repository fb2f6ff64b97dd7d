#include "core/memcached_cache.h"

#include <libmemcached/memcached.h>
#include <libmemcachedutil-1.0/pool.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string_view>
#include <vector>

#include <natomedia/text.h>

#include "core/crypto_service.h"

namespace natomedia {
namespace core {
namespace {

constexpr char kExample[] =
    "\"--SERVER=127.0.0.1:11211\" or "
    "\"--SERVER=10.0.0.1:11211 --SERVER=10.0.0.2:11211\"";
constexpr uint64_t kTimeoutMs = 500;
constexpr uint64_t kRetrySeconds = 2;
constexpr uint64_t kFailureLimit = 2;
constexpr long kRelativeTtlMax = 30L * 24 * 3600;  // beyond this memcached reads a Unix time

bool mentions(const std::string& config, const std::string& option) {
  std::string upper = config;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper.find("--" + option) != std::string::npos;
}

time_t expiration(long ttl_seconds) {
  if (ttl_seconds <= 0) return 0;
  if (ttl_seconds > kRelativeTtlMax) return std::time(nullptr) + ttl_seconds;
  return ttl_seconds;
}

bool storable_byte(char c) { return c > 0x20 && c < 0x7f; }

// Whether `rc` says a server could not be reached, as opposed to an answer from one.
bool unreachable(memcached_return_t rc) {
  switch (rc) {
    case MEMCACHED_CONNECTION_FAILURE:
    case MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE:
    case MEMCACHED_HOST_LOOKUP_FAILURE:
    case MEMCACHED_SERVER_MARKED_DEAD:
    case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
    case MEMCACHED_SOME_ERRORS:
    case MEMCACHED_ERRNO:
    case MEMCACHED_TIMEOUT:
    case MEMCACHED_READ_FAILURE:
    case MEMCACHED_WRITE_FAILURE:
    case MEMCACHED_UNKNOWN_READ_FAILURE:
      return true;
    default:
      return false;
  }
}

constexpr unsigned kMaxFallbacks = 16;

// Runs op(group_key) on the server of `key` and, while a server cannot be reached, on the next
// server of the key's fallback chain (group keys key, key#1, key#2 ... hashed on the one fixed
// ring). Every connection of every node computes the same chain, so a key written while its
// server is down is read back from the same stand-in; a live server's miss is never passed on.
// `on_failover` is called for each failure that is followed by another try.
template <typename Op>
memcached_return_t on_key_server(memcached_st* memc, const std::string& key, Op&& op,
                                 const std::function<void()>& on_failover) {
  const uint32_t servers = memcached_server_count(memc);
  std::vector<const memcached_instance_st*> failed;
  memcached_return_t rc = MEMCACHED_FAILURE;
  for (unsigned i = 0; i <= kMaxFallbacks; ++i) {
    const std::string group = i == 0 ? key : key + "#" + std::to_string(i);
    memcached_return_t lookup;
    const memcached_instance_st* server =
        memcached_server_by_key(memc, group.data(), group.size(), &lookup);
    if (std::find(failed.begin(), failed.end(), server) != failed.end()) continue;
    rc = op(group);
    if (!unreachable(rc) || servers < 2) return rc;
    failed.push_back(server);
    if (failed.size() >= servers) return rc;
    if (on_failover) on_failover();
  }
  return rc;
}

}  // namespace

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Status refuse(const std::string& what) {
  return Status::Invalid(what + "; a right value is " + kExample);
}

// One --SERVER= value: HOST or HOST:PORT, optionally followed by /?WEIGHT; the port, when
// given, is a real one (1-65535). libmemcached takes 99999 without a word and then talks to
// another port.
Status check_server(const std::string& option, std::string_view value) {
  const std::string quoted = "`" + option + "`";
  if (value.empty()) return refuse(quoted + " names no server (nothing after `=`)");
  if (size_t w = value.find("/?"); w != std::string_view::npos) {
    if (!all_digits(value.substr(w + 2)))
      return refuse(quoted + ": the weight after `/?` must be a number");
    value = value.substr(0, w);
  }
  if (value.find('[') != std::string_view::npos || std::count(value.begin(), value.end(), ':') > 1)
    return refuse(quoted +
                  ": libmemcached's configuration string takes no IPv6 address; name "
                  "the server by a host name that resolves to it");
  std::string_view host = value, port;
  if (size_t colon = value.find(':'); colon != std::string_view::npos) {
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (port.empty()) return refuse(quoted + ": no port after `:`");
  }
  if (host.empty()) return refuse(quoted + " names no host");
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return refuse(quoted + ": `" + std::string(host) + "` is not a host name or address");
  if (!port.empty()) {
    if (!all_digits(port) || port.size() > 5 || std::stol(std::string(port)) < 1 ||
        std::stol(std::string(port)) > 65535)
      return refuse(quoted + ": `" + std::string(port) + "` is not a port (1 to 65535)");
  }
  return Status::Ok();
}

}  // namespace

Status check_memcached_config(const std::string& raw) {
  const std::string config(text::trim(raw));
  if (config.empty()) return refuse("the memcached configuration is empty");
  // Checked option by option, so the message names the one at fault; libmemcached's own
  // complaint (a pointer, its source file and line) is for its developers, not for the admin.
  size_t i = 0;
  while (i < config.size()) {
    if (std::isspace(static_cast<unsigned char>(config[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < config.size() && !std::isspace(static_cast<unsigned char>(config[end]))) ++end;
    const std::string option = config.substr(i, end - i);
    i = end;
    if (option.compare(0, 2, "--") != 0)
      return refuse("`" + option + "` is not an option (each one starts with `--`, e.g. " +
                    "`--SERVER=HOST:PORT`, with no space around `=`)");
    const size_t eq = option.find('=');
    const std::string name = upper_ascii(option.substr(0, eq));
    if (name == "--SERVER") {
      if (eq == std::string::npos) return refuse("`" + option + "` needs `=HOST:PORT`");
      Status s = check_server(option, std::string_view(option).substr(eq + 1));
      if (!s.ok()) return s;
    }
    char error[1024] = {0};
    if (libmemcached_check_configuration(option.data(), option.size(), error, sizeof error) !=
        MEMCACHED_SUCCESS)
      return refuse("libmemcached does not accept `" + option +
                    "` (an unknown option, or a value of the wrong kind)");
  }
  // The options one by one were fine; together (a repeated option, say) they may not be.
  char error[1024] = {0};
  if (libmemcached_check_configuration(config.data(), config.size(), error, sizeof error) !=
      MEMCACHED_SUCCESS)
    return refuse("libmemcached does not accept \"" + config + "\" as a whole");
  memcached_st* memc = memcached(config.data(), config.size());
  const uint32_t servers = memc ? memcached_server_count(memc) : 0;
  if (memc) memcached_free(memc);
  if (servers == 0) return refuse("\"" + config + "\" names no server (--SERVER=HOST:PORT)");
  return Status::Ok();
}

// One connection taken from the pool for the length of one call.
class MemcachedCache::Lease {
 public:
  explicit Lease(memcached_pool_st* pool) : pool_(pool) {
    if (!pool_) return;
    struct timespec wait = {1, 0};
    memc_ = memcached_pool_fetch(pool_, &wait, &rc_);
  }
  ~Lease() {
    if (memc_) memcached_pool_release(pool_, memc_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  memcached_st* get() const { return memc_; }
  // Why there is no connection.
  std::string why() const {
    if (!pool_) return "not started";
    return std::string("no connection free in the pool (") + memcached_strerror(nullptr, rc_) + ")";
  }

 private:
  memcached_pool_st* pool_;
  memcached_st* memc_ = nullptr;
  memcached_return_t rc_ = MEMCACHED_FAILURE;
};

MemcachedCache::MemcachedCache(std::string config, std::string key_prefix)
    : config_(text::trim(config)), prefix_(std::move(key_prefix)) {}

MemcachedCache::~MemcachedCache() {
  if (pool_) memcached_pool_destroy(pool_);
  if (master_) memcached_free(master_);
}

Status MemcachedCache::start() {
  if (pool_) return Status::Ok();
  Status valid = check_memcached_config(config_);
  if (!valid.ok()) return valid;
  master_ = memcached(config_.data(), config_.size());
  if (!master_) return Status::Internal("memcached: cannot create a client");

  auto set = [this](memcached_behavior_t flag, uint64_t value) {
    memcached_behavior_set(master_, flag, value);
  };
  if (!mentions(config_, "CONNECT-TIMEOUT")) set(MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, kTimeoutMs);
  if (!mentions(config_, "POLL-TIMEOUT")) set(MEMCACHED_BEHAVIOR_POLL_TIMEOUT, kTimeoutMs);
  if (!mentions(config_, "RETRY-TIMEOUT")) set(MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, kRetrySeconds);
  if (!mentions(config_, "DISTRIBUTION")) set(MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  set(MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);
  set(MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, kFailureLimit);
  // The ring stays whole (no ejection), the same on every connection of every node: a failed
  // server answers "temporarily disabled" at once until its retry time, and on_key_server()
  // moves its keys along their fallback chain meanwhile.
  set(MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 0);
  // Without a dead timeout libmemcached never tries an ejected server again: it would stay
  // "marked dead" (and, its retry time passed, back in the ring) until the process restarts.
  if (!mentions(config_, "DEAD-TIMEOUT"))
    set(MEMCACHED_BEHAVIOR_DEAD_TIMEOUT,
        memcached_behavior_get(master_, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT));

  pool_ = memcached_pool_create(master_, 1, kPoolMax);
  if (!pool_) return Status::Internal("memcached: cannot create the connection pool");
  return Status::Ok();
}

std::string MemcachedCache::storage_key(const std::string& key) const {
  bool plain =
      !key.empty() && prefix_.size() + key.size() <= kMaxKeyBytes && key.compare(0, 2, "h:") != 0;
  for (char c : key)
    if (!storable_byte(c)) plain = false;
  if (plain) return prefix_ + key;
  return prefix_ + "h:" + text::hex_encode(sha256(key));
}

Status MemcachedCache::backend_error(memcached_st* memc, int rc, const std::string& op) {
  auto code = static_cast<memcached_return_t>(rc);
  const char* detail = memc ? memcached_last_error_message(memc) : nullptr;
  std::string message =
      "memcached " + op + ": " + (detail && *detail ? detail : memcached_strerror(memc, code));
  if (on_error) on_error();
  return Status::Unavailable(message);
}

CacheEntry MemcachedCache::get(const std::string& key) {
  CacheEntry entry;
  Lease lease(pool_);
  memcached_st* memc = lease.get();
  if (!memc) {
    entry.error = "memcached get: " + lease.why();
    if (on_error) on_error();
    return entry;
  }
  std::string k = storage_key(key);
  const char* keys[] = {k.data()};
  size_t lengths[] = {k.size()};
  auto get_once = [&](const std::string& group) {
    entry = CacheEntry();
    memcached_return_t rc =
        memcached_mget_by_key(memc, group.data(), group.size(), keys, lengths, 1);
    if (!memcached_success(rc)) return rc;
    memcached_result_st* result = memcached_fetch_result(memc, nullptr, &rc);
    if (result) {
      entry.outcome = CacheOutcome::kHit;
      entry.value.assign(memcached_result_value(result), memcached_result_length(result));
      entry.cas = memcached_result_cas(result);
      memcached_result_free(result);
      // Read up to the END line so the connection goes back to the pool clean.
      while ((result = memcached_fetch_result(memc, nullptr, &rc)) != nullptr)
        memcached_result_free(result);
      if (rc == MEMCACHED_END || rc == MEMCACHED_NOTFOUND) return MEMCACHED_SUCCESS;
      entry = CacheEntry();
      return rc;
    }
    if (rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND) return rc;
    entry.outcome = CacheOutcome::kMiss;
    return MEMCACHED_SUCCESS;
  };
  memcached_return_t rc = on_key_server(memc, k, get_once, on_error);
  if (memcached_success(rc)) return entry;
  entry = CacheEntry();
  entry.outcome = CacheOutcome::kError;
  entry.error = backend_error(memc, rc, "get").message();
  return entry;
}

Status MemcachedCache::store(const std::string& op, const std::string& key,
                             const std::string& value, long ttl_seconds, uint64_t cas) {
  Lease lease(pool_);
  memcached_st* memc = lease.get();
  if (!memc) {
    if (on_error) on_error();
    return Status::Unavailable("memcached " + op + ": " + lease.why());
  }
  std::string k = storage_key(key);
  time_t exp = expiration(ttl_seconds);
  auto store_once = [&](const std::string& g) {
    if (op == "add")
      return memcached_add_by_key(memc, g.data(), g.size(), k.data(), k.size(), value.data(),
                                  value.size(), exp, 0);
    if (op == "cas")
      return memcached_cas_by_key(memc, g.data(), g.size(), k.data(), k.size(), value.data(),
                                  value.size(), exp, 0, cas);
    return memcached_set_by_key(memc, g.data(), g.size(), k.data(), k.size(), value.data(),
                                value.size(), exp, 0);
  };
  memcached_return_t rc = on_key_server(memc, k, store_once, on_error);
  if (memcached_success(rc)) return Status::Ok();
  if (op == "add" && (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS))
    return Status::Conflict("memcached add: the key exists");
  if (op == "cas" && rc == MEMCACHED_DATA_EXISTS)
    return Status::Conflict("memcached cas: the entry changed");
  if (op == "cas" && rc == MEMCACHED_NOTFOUND)
    return Status::NotFound("memcached cas: the entry is gone");
  if (rc == MEMCACHED_E2BIG) return Status::Invalid("memcached " + op + ": the value is too big");
  return backend_error(memc, rc, op);
}

Status MemcachedCache::set(const std::string& key, const std::string& value, long ttl_seconds) {
  return store("set", key, value, ttl_seconds, 0);
}

Status MemcachedCache::add(const std::string& key, const std::string& value, long ttl_seconds) {
  return store("add", key, value, ttl_seconds, 0);
}

Status MemcachedCache::cas(const std::string& key, const std::string& value, long ttl_seconds,
                           uint64_t cas) {
  return store("cas", key, value, ttl_seconds, cas);
}

Status MemcachedCache::remove(const std::string& key) {
  Lease lease(pool_);
  memcached_st* memc = lease.get();
  if (!memc) {
    if (on_error) on_error();
    return Status::Unavailable("memcached delete: " + lease.why());
  }
  std::string k = storage_key(key);
  memcached_return_t rc = on_key_server(
      memc, k,
      [&](const std::string& g) {
        return memcached_delete_by_key(memc, g.data(), g.size(), k.data(), k.size(), 0);
      },
      on_error);
  if (memcached_success(rc)) return Status::Ok();
  if (rc == MEMCACHED_NOTFOUND) return Status::NotFound("memcached delete: no such key");
  return backend_error(memc, rc, "delete");
}

Result<uint64_t> MemcachedCache::increment(const std::string& key, uint64_t delta,
                                           long ttl_seconds) {
  if (delta > UINT32_MAX) return Status::Invalid("memcached incr: delta above 2^32 - 1");
  Lease lease(pool_);
  memcached_st* memc = lease.get();
  if (!memc) {
    if (on_error) on_error();
    return Status::Unavailable("memcached incr: " + lease.why());
  }
  std::string k = storage_key(key);
  std::string initial = std::to_string(delta);
  // incr never creates; add creates but loses to a racing add, after which incr must succeed.
  for (int attempt = 0; attempt < 3; ++attempt) {
    uint64_t value = 0;
    memcached_return_t rc = on_key_server(
        memc, k,
        [&](const std::string& g) {
          return memcached_increment_by_key(memc, g.data(), g.size(), k.data(), k.size(), delta,
                                            &value);
        },
        on_error);
    if (memcached_success(rc)) return value;
    if (rc != MEMCACHED_NOTFOUND) return backend_error(memc, rc, "incr");
    rc = on_key_server(
        memc, k,
        [&](const std::string& g) {
          return memcached_add_by_key(memc, g.data(), g.size(), k.data(), k.size(), initial.data(),
                                      initial.size(), expiration(ttl_seconds), 0);
        },
        on_error);
    if (memcached_success(rc)) return delta;
    if (rc != MEMCACHED_NOTSTORED && rc != MEMCACHED_DATA_EXISTS)
      return backend_error(memc, rc, "add");
  }
  return Status::Conflict("memcached incr: the entry kept appearing and vanishing");
}

}  // namespace core
}  // namespace natomedia
