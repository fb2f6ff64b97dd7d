// The PluginHost the core hands each plugin's setup function: collects routes, migrations,
// pruners, counters, listeners and providers for one configuration generation. Configuration time
// only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

#include "core/event_bus.h"
#include "core/metrics_registry.h"
#include "core/migrations.h"
#include "core/plugin_loader.h"
#include "core/retention.h"
#include "core/router.h"

namespace natomedia::core {

class PluginRegistry : public PluginHost {
 public:
  explicit PluginRegistry(SiteConfig server_config);

  // Runs the plugin's setup. Invalid when setup threw or registered something invalid (a
  // duplicate route, a second identity provider…), with the plugin's name in the message.
  Status setup(const std::shared_ptr<LoadedPlugin>& plugin);

  const std::string& plugin_name() const override { return current_; }
  const SiteConfig& server_config() const override { return server_config_; }
  void route(const std::string& method, const std::string& pattern, Handler handler,
             RouteOptions options) override;
  void migration(Migration migration) override;
  void counter(const std::string& name, const std::string& help) override;
  void on(AccountEvent event, EventListener listener) override;
  void identity_provider(std::shared_ptr<IdentityProvider> provider) override;
  void provide(const std::string& name, int version, std::shared_ptr<void> service) override;
  void resources_dir(const std::string& dir) override;
  void on_prune(Pruner pruner) override;
  void on_feed_load(const std::string& name, FeedDeriver derive) override;
  void on_export(AccountExporter exporter) override;

  const Router& router() const { return router_; }
  const Extensions& extensions() const { return extensions_; }
  MetricsRegistry& metrics() { return metrics_; }
  const std::vector<OwnedMigration>& migrations() const { return migrations_; }
  // The core's pruners first, then the plugins' in load order.
  const std::vector<OwnedPruner>& pruners() const { return pruners_; }
  struct OwnedFeedDeriver {
    std::string owner;  // the plugin's name
    std::string name;
    FeedDeriver derive;
  };
  // In load order.
  const std::vector<OwnedFeedDeriver>& feed_derivers() const { return feed_derivers_; }
  // Plugin resource folders in load order (DIR/templates/PLUGIN/NAME, DIR/i18n/*.strings).
  const std::vector<std::pair<std::string, std::string>>& resource_dirs() const {
    return resource_dirs_;
  }
  const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const { return plugins_; }

 private:
  void fail(const std::string& message);

  // First, so it is destroyed last: the handlers, listeners and providers below hold code and
  // vtables that live in the plugins' shared objects.
  std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
  SiteConfig server_config_;
  std::string current_ = "core";
  std::vector<std::string> errors_;
  Router router_;
  Extensions extensions_;
  MetricsRegistry metrics_;
  std::vector<OwnedMigration> migrations_;
  std::vector<OwnedPruner> pruners_;
  std::vector<OwnedFeedDeriver> feed_derivers_;
  std::vector<std::pair<std::string, std::string>> resource_dirs_;  // (plugin, dir)
};

// Runs `derivers` on `snapshot` before it is served, keeping what each made in
// snapshot.derived. A deriver that throws is left out and reported to `failed` (may be empty).
// Returns "NAME 1.2 ms, NAME2 0.1 ms" (empty: no deriver).
std::string derive_feed(const std::vector<PluginRegistry::OwnedFeedDeriver>& derivers,
                        const FeedSnapshot& snapshot,
                        const std::function<void(const std::string&)>& failed);

// The core's own counters (CONTRACT section 11); plugins declare theirs in setup.
void declare_core_counters(MetricsRegistry& metrics);

}  // namespace natomedia::core
