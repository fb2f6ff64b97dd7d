#include "core/plugin_registry.h"

#include <chrono>
#include <cstdio>
#include <exception>

#include "core/mail_sender.h"
#include "core/mail_outbox.h"

namespace natomedia::core {

void declare_core_counters(MetricsRegistry& m) {
  m.declare("natomedia_requests_total", "Requests answered by the portal");
  m.declare("natomedia_mails_queued_total", "Mails written to the outbox");
  m.declare("natomedia_mails_sent_total", "Mails delivered by the sender");
  m.declare("natomedia_mails_failed_total", "Mails given up after 24 hours of retries");
  m.declare("natomedia_mail_attempt_errors_total", "Delivery attempts that failed (retried)");
  m.declare("natomedia_memcached_errors_total", "memcached operations that failed");
  m.declare("natomedia_sql_errors_total", "SQL connections or statements that failed");
  m.declare("natomedia_feed_items", "Items in the current feed", true);
  m.declare("natomedia_feed_last_reload_timestamp_seconds",
            "When the current feed was loaded (Unix time)", true);
  m.declare("natomedia_feed_reload_failures_total", "Feed reloads refused (last good kept)");
  m.declare(kMailSenderLastRunGauge, "When the mail sender last read the outbox (Unix time)", true);
}

PluginRegistry::PluginRegistry(SiteConfig server_config)
    : server_config_(std::move(server_config)) {
  declare_core_counters(metrics_);
  for (auto& m : core_migrations()) migrations_.push_back({"core", std::move(m)});
  pruners_.push_back({"core", prune_outbox});
}

void PluginRegistry::fail(const std::string& message) {
  errors_.push_back(message);
}

Status PluginRegistry::setup(const std::shared_ptr<LoadedPlugin>& plugin) {
  current_ = plugin->info().name;
  for (const auto& p : plugins_)
    if (current_ == p->info().name) {
      current_ = "core";
      return Status::Invalid("plugin '" + std::string(plugin->info().name) + "' is loaded twice (" +
                             p->path() + " and " + plugin->path() + ")");
    }
  errors_.clear();
  try {
    plugin->info().setup(this);
  } catch (const std::exception& e) {
    fail(std::string("setup threw: ") + e.what());
  } catch (...) {
    fail("setup threw an unknown exception");
  }
  std::string name = current_;
  current_ = "core";
  if (!errors_.empty()) {
    std::string all;
    for (const auto& e : errors_) all += (all.empty() ? "" : "; ") + e;
    return Status::Invalid("plugin '" + name + "' (" + plugin->path() + "): " + all);
  }
  plugins_.push_back(plugin);
  return Status::Ok();
}

void PluginRegistry::route(const std::string& method, const std::string& pattern, Handler handler,
                           RouteOptions options) {
  Status s = router_.add(current_, method, pattern, std::move(handler), options);
  if (!s.ok()) fail(s.message());
}

void PluginRegistry::migration(Migration m) {
  if (m.version < 1) return fail("migration versions start at 1");
  for (const auto& existing : migrations_)
    if (existing.owner == current_ && existing.migration.version == m.version)
      return fail("migration version " + std::to_string(m.version) + " registered twice");
  migrations_.push_back({current_, std::move(m)});
}

void PluginRegistry::counter(const std::string& name, const std::string& help) {
  if (name.rfind("natomedia_", 0) != 0) return fail("counter names start with natomedia_: " + name);
  metrics_.declare(name, help);
}

void PluginRegistry::on(AccountEvent event, EventListener listener) {
  extensions_.listeners.push_back({event, {current_, std::move(listener)}});
}

void PluginRegistry::identity_provider(std::shared_ptr<IdentityProvider> provider) {
  if (extensions_.identity) return fail("a second identity provider (only one plugin may sign in)");
  extensions_.identity = std::move(provider);
}

void PluginRegistry::provide(const std::string& name, int version, std::shared_ptr<void> service) {
  auto key = std::make_pair(name, version);
  if (extensions_.providers.count(key))
    return fail("provider " + name + " v" + std::to_string(version) + " registered twice");
  extensions_.providers[key] = std::move(service);
}

void PluginRegistry::on_prune(Pruner pruner) {
  if (!pruner) return fail("on_prune needs a function");
  pruners_.push_back({current_, std::move(pruner)});
}

void PluginRegistry::on_feed_load(const std::string& name, FeedDeriver derive) {
  if (!derive || name.empty()) return fail("on_feed_load needs a name and a function");
  for (const auto& d : feed_derivers_)
    if (d.name == name) return fail("feed deriver " + name + " registered twice");
  feed_derivers_.push_back({current_, name, std::move(derive)});
}

std::string derive_feed(const std::vector<PluginRegistry::OwnedFeedDeriver>& derivers,
                        const FeedSnapshot& snapshot,
                        const std::function<void(const std::string&)>& failed) {
  std::string done;
  if (!snapshot.derived) return done;
  for (const auto& d : derivers) {
    const auto start = std::chrono::steady_clock::now();
    try {
      std::shared_ptr<const void> made = d.derive(snapshot);
      if (!made) continue;
      snapshot.derived->by_name[d.name] = std::move(made);
    } catch (const std::exception& e) {
      if (failed) failed(d.owner + "'s " + d.name + " failed: " + e.what());
      continue;
    } catch (...) {
      if (failed) failed(d.owner + "'s " + d.name + " failed");
      continue;
    }
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start).count();
    char took[32];
    std::snprintf(took, sizeof took, " %.1f ms", ms);
    done += (done.empty() ? "" : ", ") + d.name + took;
  }
  return done;
}

void PluginRegistry::on_export(AccountExporter exporter) {
  if (!exporter) return fail("on_export needs a function");
  for (const auto& existing : extensions_.exporters)
    if (existing.first == current_) return fail("on_export called twice");
  extensions_.exporters.emplace_back(current_, std::move(exporter));
}

void PluginRegistry::resources_dir(const std::string& dir) {
  resource_dirs_.emplace_back(current_, dir);
}

}  // namespace natomedia::core
