#include "core/tool_context.h"

#include "core/account_events.h"
#include "core/clock.h"
#include "core/feed_service.h"
#include "core/metrics_registry.h"

namespace natomedia::core {

namespace {

const char* kNoRequest = "natomedia-admin serves no pages";

class UnreachableCache : public Cache {
 public:
  CacheEntry get(const std::string&) override {
    CacheEntry e;
    e.outcome = CacheOutcome::kError;
    e.error = kWhy;
    return e;
  }
  Status set(const std::string&, const std::string&, long) override { return down(); }
  Status add(const std::string&, const std::string&, long) override { return down(); }
  Status cas(const std::string&, const std::string&, long, uint64_t) override { return down(); }
  Status remove(const std::string&) override { return down(); }
  Result<uint64_t> increment(const std::string&, uint64_t, long) override { return down(); }

 private:
  static constexpr const char* kWhy = "no memcached (NatoMediaMemcached is not configured)";
  static Status down() { return Status::Unavailable(kWhy); }
};

class NoOutbox : public Outbox {
 public:
  Status queue(Sql&, const MailMessage&) override {
    return Status::Unavailable("natomedia-admin queues no mail here");
  }
};

class NoTemplates : public Templates {
 public:
  Result<std::string> render(const std::string& name, const Vars&,
                             const std::string&) const override {
    return Status::Unavailable(std::string(kNoRequest) + " (template " + name + ")");
  }
  Result<std::string> render_text(const std::string& name, const Vars& vars,
                                  const std::string& lang) const override {
    return render(name, vars, lang);
  }
};

// The key itself, as the catalogue answers a key it lacks.
class KeysOnly : public I18n {
 public:
  std::string text(const std::string&, const std::string& key) const override { return key; }
  std::string long_date(std::time_t t, const std::string&) const override {
    return std::to_string(static_cast<long long>(t));
  }
};

}  // namespace

struct ToolContext::Stubs {
  UnreachableCache cache;
  NoOutbox outbox;
  NoTemplates templates;
  KeysOnly i18n;
  EmptyFeed feed;
  MetricsRegistry metrics;  // nothing declared: counting does nothing
  SystemClock clock;
};

ToolContext::ToolContext(ToolServices services, SiteConfig config)
    : services_(services), config_(std::move(config)), stubs_(std::make_unique<Stubs>()) {
  request_.method = "GET";
  request_.path = "/";
  request_.lang = "en";
}

ToolContext::~ToolContext() = default;

Cache& ToolContext::cache() { return services_.cache ? *services_.cache : stubs_->cache; }
Outbox& ToolContext::outbox() { return stubs_->outbox; }
const Templates& ToolContext::templates() const { return stubs_->templates; }
const I18n& ToolContext::i18n() const { return stubs_->i18n; }
const Feed& ToolContext::feed() const { return stubs_->feed; }
Metrics& ToolContext::metrics() { return stubs_->metrics; }
const Clock& ToolContext::clock() const { return stubs_->clock; }

Status ToolContext::emit(const AccountEventData& event) {
  return emit_event(*services_.extensions, *this, event);
}

Result<Value::Map> ToolContext::account_data(const Account& account) {
  return collect_account_data(*services_.extensions, *this, account);
}

std::shared_ptr<void> ToolContext::provider(const std::string& name, int version) const {
  return registered_provider(*services_.extensions, name, version);
}

Response ToolContext::page(int status, const std::string&, Vars) {
  Response r;
  r.status = status >= 400 ? status : 500;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::string(kNoRequest) + "\n";
  return r;
}

Response ToolContext::error(int status, const std::string&) { return page(status, "", {}); }
Response ToolContext::unavailable(long) { return page(503, "", {}); }
Response ToolContext::sign_in_required(const std::string&) { return page(500, "", {}); }

}  // namespace natomedia::core
