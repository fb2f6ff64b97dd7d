// The SDK's ServerCache on httpd's socache providers (mod_socache_shmcb, …), as mod_ssl keeps its
// SSLSessionCache: the provider is chosen by name when the configuration is read, its instance is
// made in post_config (shared memory, before the children fork), and a global mutex, which each
// child reopens in child_init, serialises the calls when the provider needs it
// (AP_SOCACHE_FLAG_NOTMPSAFE, as shmcb does). The module keeps sessions in it
// (NatoMediaSessionCache; plugins/authentication/session_cache.h says what and for how long).
#pragma once

#include <ap_socache.h>
#include <apr_global_mutex.h>
#include <httpd.h>

#include <ctime>
#include <optional>
#include <string>

#include <natomedia/services.h>

namespace natomedia::module {

// NatoMediaSessionCache as written: a provider name and its arguments ("shmcb", "shmcb:/run/x(
// 512000)"), or none.
struct SocacheSpec {
  bool none = false;
  std::string provider;  // "shmcb"
  std::string args;      // after the colon; "" for the provider's defaults
};
SocacheSpec parse_socache_spec(const std::string& value);

// The name of the mutex (the `Mutex` directive configures it), registered in pre_config.
inline constexpr const char* kSessionCacheMutex = "natomedia-sessions";

class SocacheStore : public ServerCache {
 public:
  // Looks the provider up; nullptr with `error` set when no module registered it.
  static SocacheStore* create(const SocacheSpec& spec, server_rec* s, apr_pool_t* pconf,
                              apr_pool_t* ptemp, std::string* error);
  // post_config: the instance (shared memory) and the mutex; destroyed with pconf.
  apr_status_t init(server_rec* s, apr_pool_t* pconf);
  // child_init: the mutex reopened in the child.
  apr_status_t child_init(apr_pool_t* pchild);

  std::optional<std::string> get(const std::string& key) override;
  bool put(const std::string& key, const std::string& value, std::time_t expires) override;
  bool remove(const std::string& key) override;

  const std::string& name() const { return name_; }

 private:
  class Lock;
  const ap_socache_provider_t* provider_ = nullptr;
  ap_socache_instance_t* instance_ = nullptr;
  apr_global_mutex_t* mutex_ = nullptr;  // null when the provider is safe across processes
  server_rec* server_ = nullptr;
  std::string name_;
};

}  // namespace natomedia::module
