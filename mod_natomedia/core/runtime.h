// Everything one configuration generation of the portal needs while it serves: loaded plugins,
// the route table, and the services behind natomedia::Context. Built once in the parent while
// httpd reads its configuration (so errors stop start-up); the per-process parts (the memcached
// pool) are started in each child. Read-only while requests are served, hence thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

#include "core/clock.h"
#include "core/mail_outbox.h"
#include "core/plugin_registry.h"
#include "core/portal.h"
#include "core/settings.h"

namespace natomedia::core {

class CryptoService;
class MailSender;
class MemcachedCache;
class FeedSchema;
class FeedService;

struct PluginRef {
  std::string name_or_path;
  std::string where;  // "httpd.conf:12", for messages
};

struct RuntimeSettings {
  SiteConfig server;                 // the main server's merged values
  std::string plugin_dir;
  std::string secret_file;
  std::vector<PluginRef> plugins;
  long prune_interval = 600;  // NatoMediaPruneInterval, seconds
};

class Runtime {
 public:
  Runtime();
  ~Runtime();

  // Loads the plugins, the secret, templates, strings and the feed schema. Invalid with a
  // message naming the directive at fault.
  Status build(const RuntimeSettings& settings, Logger& logger);
  // The feed service for a path (one per distinct NatoMediaFeed), created and loaded on first
  // call; an empty feed for "". Configuration time only. When that first load fails, `refused`
  // (if given) gets the reasons, with line numbers, and startup_problems() a line saying so.
  const Feed* feed_for(const std::string& path, Logger& logger, Status* refused = nullptr);
  // Sets the feed gauges (items, last good reload) from the current snapshots.
  void refresh_gauges();
  // Per child: opens the memcached pool.
  Status start_child();
  // Per child, at its start: each feed takes the server's current version now and is then
  // watched on a thread of the child's own (FeedService::start_watching), so the child serves
  // a change within kFeedWatchPeriod plus one load whether requests come or not. An error
  // when a watcher cannot start (that feed is then looked at by requests, once a second).
  Status watch_feeds();
  // Per child, at its exit: stops the watchers.
  void stop_watching_feeds();
  // How often each child looks at the feed file and the server's shared snapshot: two stats,
  // off the request path. A change is served by every child within this plus one load.
  static constexpr std::chrono::milliseconds kFeedWatchPeriod{500};

  PluginRegistry& registry() { return *registry_; }
  MetricsRegistry& metrics() { return registry_->metrics(); }
  const Services& services() const { return services_; }
  // The server's shared-memory cache, from post_config on (null: none). Before the children fork.
  void set_server_cache(ServerCache* cache) { services_.server_cache = cache; }
  const RuntimeSettings& settings() const { return settings_; }
  const MailTransport& mail_transport() const { return transport_; }
  // Null when no NatoMediaMailTransport is configured.
  MailSender* mail_sender() { return sender_.get(); }
  CryptoService& crypto() { return *crypto_; }
  const std::vector<std::unique_ptr<FeedService>>& feeds() const { return feeds_; }
  // Problems found while building that do not stop start-up (a feed that does not load yet),
  // for the module to log once the error log is open.
  const std::vector<std::string>& startup_problems() const { return startup_problems_; }
  // What the start-up loads made ready (the plugins' feed derivers, how long each took), for
  // the module to log at info level once the error log is open.
  const std::vector<std::string>& startup_notes() const { return startup_notes_; }

 private:
  RuntimeSettings settings_;
  std::unique_ptr<PluginRegistry> registry_;
  SystemClock clock_;
  std::unique_ptr<CryptoService> crypto_;
  std::unique_ptr<MemcachedCache> cache_;
  std::shared_ptr<const I18n> i18n_;
  std::unique_ptr<Templates> templates_;
  std::unique_ptr<SqlOutbox> outbox_;
  std::shared_ptr<const FeedSchema> schema_;
  std::vector<std::unique_ptr<FeedService>> feeds_;
  std::map<std::string, const Feed*> feed_by_path_;
  std::unique_ptr<Feed> empty_feed_;
  MailTransport transport_;
  std::unique_ptr<MailSender> sender_;
  std::vector<std::string> startup_problems_;
  std::vector<std::string> startup_notes_;
  Services services_;
};

}  // namespace natomedia::core
