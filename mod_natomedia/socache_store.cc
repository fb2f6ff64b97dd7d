#include "socache_store.h"

#include <ap_provider.h>
#include <http_log.h>
#include <util_mutex.h>

#include <apr_strings.h>

#include <algorithm>

#include "pool_new.h"

extern "C" module AP_MODULE_DECLARE_DATA natomedia_module;
APLOG_USE_MODULE(natomedia);

namespace natomedia::module {

namespace {

// Longest value the module stores (a session entry is ~150 bytes); a longer one is a miss.
constexpr unsigned kMaxValue = 2048;

// The pool a provider may allocate from during one call: one per thread (pools are not
// thread-safe), cleared after each call so it never grows. It lives as long as the thread.
class CallPool {
 public:
  CallPool() {
    thread_local apr_pool_t* pool = nullptr;
    if (!pool) apr_pool_create_unmanaged_ex(&pool, nullptr, nullptr);
    pool_ = pool;
  }
  ~CallPool() {
    if (pool_) apr_pool_clear(pool_);
  }
  apr_pool_t* get() const { return pool_; }

 private:
  apr_pool_t* pool_ = nullptr;
};

}  // namespace

SocacheSpec parse_socache_spec(const std::string& value) {
  SocacheSpec spec;
  if (value == "none") {
    spec.none = true;
    return spec;
  }
  const size_t colon = value.find(':');
  spec.provider = value.substr(0, colon);
  if (colon != std::string::npos) spec.args = value.substr(colon + 1);
  return spec;
}

// Holds the global mutex, when there is one, for one call.
class SocacheStore::Lock {
 public:
  explicit Lock(apr_global_mutex_t* m) : m_(m) {
    ok_ = !m_ || apr_global_mutex_lock(m_) == APR_SUCCESS;
  }
  ~Lock() {
    if (m_ && ok_) apr_global_mutex_unlock(m_);
  }
  bool ok() const { return ok_; }

 private:
  apr_global_mutex_t* m_;
  bool ok_ = false;
};

SocacheStore* SocacheStore::create(const SocacheSpec& spec, server_rec* s, apr_pool_t* pconf,
                                   apr_pool_t* ptemp, std::string* error) {
  const auto* provider = static_cast<const ap_socache_provider_t*>(ap_lookup_provider(
      AP_SOCACHE_PROVIDER_GROUP, spec.provider.c_str(), AP_SOCACHE_PROVIDER_VERSION));
  if (!provider) {
    const std::string& p = spec.provider;
    *error = "NatoMediaSessionCache: no socache provider called `" + p + "` is loaded. Load it " +
             "(`LoadModule socache_" + p + "_module modules/mod_socache_" + p +
             ".so`; on Debian `a2enmod socache_" + p +
             "`), or write `NatoMediaSessionCache none` to read every session from SQL";
    return nullptr;
  }
  ap_socache_instance_t* instance = nullptr;
  const char* refused = provider->create(
      &instance, spec.args.empty() ? nullptr : apr_pstrdup(pconf, spec.args.c_str()), ptemp, pconf);
  if (refused) {
    *error = "NatoMediaSessionCache " + spec.provider + ":" + spec.args + ": " + refused;
    return nullptr;
  }
  auto* store = pool_new<SocacheStore>(pconf);
  store->provider_ = provider;
  store->instance_ = instance;
  store->server_ = s;
  store->name_ = spec.provider;
  return store;
}

apr_status_t SocacheStore::init(server_rec* s, apr_pool_t* pconf) {
  if (provider_->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
    apr_status_t rv =
        ap_global_mutex_create(&mutex_, nullptr, kSessionCacheMutex, nullptr, s, pconf, 0);
    if (rv != APR_SUCCESS) return rv;
  }
  static const ap_socache_hints hints = {66, 160, apr_time_from_sec(60)};
  apr_status_t rv = provider_->init(instance_, "natomedia-sess", &hints, s, pconf);
  if (rv != APR_SUCCESS) return rv;
  // Destroyed before pconf's memory goes (cleanups run in reverse order of registration).
  apr_pool_cleanup_register(
      pconf, this,
      [](void* p) -> apr_status_t {
        auto* store = static_cast<SocacheStore*>(p);
        store->provider_->destroy(store->instance_, store->server_);
        return APR_SUCCESS;
      },
      apr_pool_cleanup_null);
  return APR_SUCCESS;
}

apr_status_t SocacheStore::child_init(apr_pool_t* pchild) {
  if (!mutex_) return APR_SUCCESS;
  return apr_global_mutex_child_init(&mutex_, apr_global_mutex_lockfile(mutex_), pchild);
}

std::optional<std::string> SocacheStore::get(const std::string& key) {
  unsigned char data[kMaxValue];
  unsigned int len = sizeof data;
  apr_status_t rv;
  {
    CallPool pool;
    Lock lock(mutex_);
    if (!pool.get() || !lock.ok()) return std::nullopt;
    rv = provider_->retrieve(instance_, server_, reinterpret_cast<const unsigned char*>(key.data()),
                             static_cast<unsigned>(key.size()), data, &len, pool.get());
  }
  if (rv != APR_SUCCESS) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(data), len);
}

bool SocacheStore::put(const std::string& key, const std::string& value, std::time_t expires) {
  if (value.size() > kMaxValue) return false;
  unsigned char data[kMaxValue];
  std::copy(value.begin(), value.end(), data);
  CallPool pool;
  Lock lock(mutex_);
  if (!pool.get() || !lock.ok()) return false;
  return provider_->store(instance_, server_, reinterpret_cast<const unsigned char*>(key.data()),
                          static_cast<unsigned>(key.size()), apr_time_from_sec(expires), data,
                          static_cast<unsigned>(value.size()), pool.get()) == APR_SUCCESS;
}

bool SocacheStore::remove(const std::string& key) {
  CallPool pool;
  Lock lock(mutex_);
  if (!pool.get() || !lock.ok()) return false;
  apr_status_t rv =
      provider_->remove(instance_, server_, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<unsigned>(key.size()), pool.get());
  return rv == APR_SUCCESS || APR_STATUS_IS_NOTFOUND(rv);
}

}  // namespace natomedia::module
