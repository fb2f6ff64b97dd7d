#include "core/runtime.h"

#include <algorithm>
#include <atomic>

#include "core/crypto_service.h"
#include "core/feed_loader.h"
#include "core/feed_service.h"
#include "core/i18n_catalogue.h"
#include "core/mail_sender.h"
#include "core/memcached_cache.h"
#include "core/secret_keys.h"
#include "core/template_engine.h"

namespace natomedia::core {

Runtime::Runtime() : empty_feed_(std::make_unique<EmptyFeed>()) {}
Runtime::~Runtime() = default;

Status Runtime::build(const RuntimeSettings& settings, Logger& logger) {
  settings_ = settings;
  const SiteConfig& server = settings_.server;
  registry_ = std::make_unique<PluginRegistry>(server);

  auto keys = SecretKeys::load(settings_.secret_file);
  if (!keys.ok()) return Status::Invalid("NatoMediaSecretFile: " + keys.status().message());
  crypto_ = std::make_unique<CryptoService>(*keys);

  for (const auto& ref : settings_.plugins) {
    auto plugin = load_plugin(ref.name_or_path, settings_.plugin_dir);
    if (!plugin.ok())
      return Status::Invalid("NatoMediaPlugin " + ref.name_or_path + " (" + ref.where +
                             "): " + plugin.status().message());
    Status s = registry_->setup(*plugin);
    if (!s.ok())
      return Status::Invalid("NatoMediaPlugin " + ref.name_or_path + " (" + ref.where +
                             "): " + s.message());
  }

  std::vector<PluginNeeds> needs;
  for (size_t i = 0; i < registry_->plugins().size(); ++i) {
    const auto& plugin = registry_->plugins()[i];
    needs.push_back({plugin->info().name, settings_.plugins[i].where, plugin->required()});
  }
  std::vector<std::string> unmet = unmet_requirements(needs);
  if (!unmet.empty()) {
    std::string all;
    for (const auto& m : unmet) all += (all.empty() ? "" : "; ") + m;
    return Status::Invalid(all);
  }

  // Look-up order: the site's overrides, then plugins' own folders, then the install's defaults.
  std::vector<std::string> template_dirs, i18n_dirs;
  if (!server.templates_dir.empty()) {
    template_dirs.push_back(server.templates_dir);
    i18n_dirs.push_back(server.templates_dir + "/i18n");
  }
  for (const auto& [plugin, dir] : registry_->resource_dirs()) {
    template_dirs.push_back(dir + "/templates");
    i18n_dirs.push_back(dir + "/i18n");
  }
  template_dirs.push_back(server.share_dir + "/templates");
  i18n_dirs.push_back(server.share_dir + "/i18n");
  auto catalogue = Catalogue::load(i18n_dirs);
  if (!catalogue.ok()) return Status::Invalid("string catalogues: " + catalogue.status().message());
  i18n_ = *catalogue;
  templates_ = std::make_unique<TemplateEngine>(template_dirs, i18n_);

  if (!server.mail_transport.empty()) {
    auto t = parse_mail_transport(server.mail_transport);
    if (!t.ok()) return Status::Invalid("NatoMediaMailTransport: " + t.status().message());
    transport_ = *t;
  }
  MailIdentity from{"", "localhost", ""};
  if (!server.mail_from.empty()) {
    auto f = parse_mail_from(server.mail_from);
    if (!f.ok()) return Status::Invalid("NatoMediaMailFrom: " + f.status().message());
    from = *f;
  }
  outbox_ = std::make_unique<SqlOutbox>(from, *crypto_, clock_, registry_->metrics());
  if (!server.mail_transport.empty())
    sender_ = std::make_unique<MailSender>(transport_, from.address, registry_->metrics(), clock_);

  init_xml_library();
  const std::string xsd = server.share_dir + "/schemas/natomedia-feed.xsd";
  auto schema = FeedSchema::load(xsd);
  if (!schema.ok()) return Status::Invalid("feed schema " + xsd + ": " + schema.status().message());
  schema_ = *schema;

  cache_ = std::make_unique<MemcachedCache>(server.memcached);
  MetricsRegistry* metrics = &registry_->metrics();
  cache_->on_error = [metrics] { metrics->add("natomedia_memcached_errors_total"); };

  services_.router = &registry_->router();
  services_.extensions = &registry_->extensions();
  services_.metrics = metrics;
  services_.cache = cache_.get();
  services_.crypto = crypto_.get();
  services_.templates = templates_.get();
  services_.i18n = i18n_.get();
  services_.outbox = outbox_.get();
  services_.clock = &clock_;
  (void)logger;
  return Status::Ok();
}

const Feed* Runtime::feed_for(const std::string& path, Logger& logger, Status* refused) {
  if (path.empty()) return empty_feed_.get();
  auto it = feed_by_path_.find(path);
  if (it != feed_by_path_.end()) return it->second;
  MetricsRegistry* metrics = &registry_->metrics();
  auto log_error = [&logger, metrics, path](const std::string& reasons) {
    metrics->add("natomedia_feed_reload_failures_total");
    logger.log(LogLevel::kError, "feed " + path + " refused, last good feed kept: " + reasons);
  };
  // Each child watches it from its start (start_child()), so no request waits for a load.
  auto service =
      std::make_unique<FeedService>(path, schema_, log_error, [] { return std::time(nullptr); });
  // The plugins' feed derivers (a search index) run on each version before it is served.
  // What the first load says waits in startup_notes() for the error log to open.
  auto at_start = std::make_shared<std::atomic<bool>>(true);
  if (!registry_->feed_derivers().empty()) {
    const PluginRegistry* registry = registry_.get();
    std::vector<std::string>* notes = &startup_notes_;
    service->derive_with([registry, &logger, path, at_start, notes](const FeedSnapshot& snapshot) {
      std::string made = derive_feed(
          registry->feed_derivers(), snapshot, [&logger, &path](const std::string& problem) {
            logger.log(LogLevel::kError, "feed " + path + ": " + problem);
          });
      const std::string note = "feed " + path + " version " + snapshot.version + " (" +
                               std::to_string(snapshot.items.size()) + " items) made ready: " +
                               made;
      if (at_start->load())
        notes->push_back(note);
      else
        logger.log(LogLevel::kInfo, note);
    });
  }
  Status s = service->load_now();
  if (!s.ok()) {
    startup_problems_.push_back("feed " + path +
                                " not loaded (the children serve the server's last good version, "
                                "or no news when there is none, until a valid feed is there): " +
                                s.message());
    if (refused) *refused = s;
  }
  at_start->store(false);
  const Feed* feed = service.get();
  feeds_.push_back(std::move(service));
  feed_by_path_[path] = feed;
  return feed;
}

void Runtime::refresh_gauges() {
  uint64_t items = 0;
  std::time_t last = 0;
  for (const auto& feed : feeds_) {
    auto snap = feed->current();
    items += snap->items.size();
    last = std::max(last, snap->loaded_at);
  }
  registry_->metrics().set("natomedia_feed_items", items);
  registry_->metrics().set("natomedia_feed_last_reload_timestamp_seconds",
                           static_cast<uint64_t>(last));
}

Status Runtime::start_child() {
  if (settings_.server.memcached.empty()) return Status::Ok();
  return cache_->start();
}

Status Runtime::watch_feeds() {
  Status first;
  for (const auto& feed : feeds_) {
    Status watching = feed->start_watching(kFeedWatchPeriod);
    if (first.ok()) first = watching;
  }
  return first;
}

void Runtime::stop_watching_feeds() {
  for (const auto& feed : feeds_) feed->stop_watching();
}

}  // namespace natomedia::core
