// The configuration a plugin reads: the directives of CONTRACT section 2, validated and merged
// for the virtual host that serves the request. Read-only while requests are served.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace natomedia {

struct SiteConfig {
  bool enabled = false;               // NatoMedia On|Off
  std::string base_path;              // NatoMediaBasePath, "" or "/p" (no trailing slash)
  std::string public_url;             // NatoMediaPublicURL, no trailing slash; "" when unset
  std::string feed_path;              // NatoMediaFeed
  std::string media_root;             // NatoMediaMediaRoot (realpath'd at start-up)
  std::string templates_dir;          // NatoMediaTemplates (site overrides)
  uint64_t download_quota = 0;        // NatoMediaDownloadQuota; 0: no quota
  std::string preview_rendition;      // NatoMediaPreviewRendition ("sd360"); "" = smallest video

  // Server-wide settings (the same in every virtual host).
  long code_lifetime = 1800;          // NatoMediaCodeLifetime, seconds
  long resend_cooldown = 60;          // NatoMediaResendCooldown, seconds
  long session_idle = 1800;           // NatoMediaSessionIdle, seconds
  long session_max = 43200;           // NatoMediaSessionMax, seconds
  long download_log_days = 400;       // NatoMediaDownloadLogDays (SDK ABI version 3)
  // NatoMediaSessionCacheTimeout, seconds: how long a session read from SQL is believed from the
  // server's shared-memory cache; 0 when there is no cache (SDK ABI 4).
  long session_cache_lifetime = 2;
  // Names the virtual host within the server ("main", or where its <VirtualHost> is defined):
  // what a server-wide cache keeps for one site is not believed by another, whose database may
  // differ (SDK ABI 4).
  std::string site_id = "main";
  std::string mail_transport;         // NatoMediaMailTransport URL
  std::string mail_from;              // NatoMediaMailFrom
  std::string memcached;              // NatoMediaMemcached configuration string
  std::string password_deny_list;     // NatoMediaPasswordDenyList path, "" when none
  std::string share_dir;              // templates, i18n and schemas shipped with the install
};

}  // namespace natomedia
