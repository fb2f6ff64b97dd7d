// The NatoMedia* directives (CONTRACT section 2): per-server configuration, its merging into
// virtual hosts, and the checks that need more than one directive.
#pragma once

#include <httpd.h>
#include <http_config.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/portal.h"
#include "core/runtime.h"
#include "core/visitor.h"

extern "C" module AP_MODULE_DECLARE_DATA natomedia_module;

namespace natomedia::module {

// One server's directives as written; std::nullopt where the directive was not given, so that
// merging can tell "unset" from a value. Allocated in the config pool (destroyed by a cleanup).
struct ServerConf {
  int enabled = -1;  // NatoMedia: -1 unset, 0 Off, 1 On
  std::optional<std::string> base_path, public_url, feed, media_root, templates,
      preview_rendition;
  std::optional<uint64_t> download_quota;
  std::optional<core::RemoteUser> remote_user;  // NatoMediaRemoteUser email|id
  std::string feed_where;                       // "httpd.conf:12" of NatoMediaFeed, for messages

  // Main server only (checked with GLOBAL_ONLY).
  std::optional<long> code_lifetime, resend_cooldown, session_idle, session_max, download_log_days,
      prune_interval;
  std::optional<std::string> plugin_dir, share_dir, secret_file, memcached, mail_transport,
      mail_from, deny_list;
  std::optional<std::string> session_cache;  // NatoMediaSessionCache "provider[:args]" or "none"
  std::optional<long> session_cache_timeout;  // NatoMediaSessionCacheTimeout, seconds
  std::vector<core::PluginRef> plugins;

  // Built by check_config from the merged values.
  core::Site site;
};

extern const command_rec kDirectives[];

void* create_server_conf(apr_pool_t* pool, server_rec* s);
void* merge_server_conf(apr_pool_t* pool, void* base, void* add);

inline ServerConf* server_conf(server_rec* s) {
  return static_cast<ServerConf*>(ap_get_module_config(s->module_config, &natomedia_module));
}

// "" when everything required is there; else what is missing and what to write.
std::string missing_required(server_rec* main_server);
core::RuntimeSettings runtime_settings(server_rec* main_server, const std::string& prefix);
SiteConfig site_config(server_rec* s, const SiteConfig& server_wide);

// NatoMediaSessionCacheTimeout's default and range, seconds.
inline constexpr long kSessionCacheTimeoutDefault = 2;
inline constexpr long kSessionCacheTimeoutMax = 300;

}  // namespace natomedia::module
