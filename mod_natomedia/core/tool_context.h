// A Context outside any request: what natomedia-admin hands the plugins' account-deleted
// listeners and exporters, so `natomedia-admin accounts delete` runs the very erasure the page
// runs (the authentication plugin's, which tells every plugin). There is no visitor, cookie,
// page or mail composer here: those calls answer as a request without them would (nobody signed
// in, 500 pages, Unavailable mail). One thread, one command.
#pragma once

#include <memory>
#include <string>

#include <natomedia/plugin.h>

#include "core/event_bus.h"
#include "core/portal.h"

namespace natomedia::core {

class MetricsRegistry;

struct ToolServices {
  Sql* sql = nullptr;                      // the tool's connection (borrowed, required)
  const Extensions* extensions = nullptr;  // what the loaded plugins registered (required)
  Crypto* crypto = nullptr;                // required (the site's secret, for HMAC keys)
  Cache* cache = nullptr;                  // null: every call answers Unavailable
  Logger* logger = nullptr;                // required
};

class ToolContext : public Context {
 public:
  ToolContext(ToolServices services, SiteConfig config);
  ~ToolContext() override;

  const Request& request() const override { return request_; }
  const SiteConfig& config() const override { return config_; }
  Sql& sql() override { return *services_.sql; }
  Cache& cache() override;
  Outbox& outbox() override;
  const Templates& templates() const override;
  const I18n& i18n() const override;
  Crypto& crypto() override { return *services_.crypto; }
  const Feed& feed() const override;
  Metrics& metrics() override;
  const Clock& clock() const override;

  std::optional<Account> account() override { return std::nullopt; }
  void reset_account() override {}
  Response sign_in_required(const std::string& return_to) override;
  Status emit(const AccountEventData& event) override;
  std::shared_ptr<void> provider(const std::string& name, int version) const override;
  Result<Value::Map> account_data(const Account& account) override;

  void set_cookie(const CookieSpec&) override {}
  std::optional<std::string> cookie(const std::string&) const override { return std::nullopt; }
  std::string csrf_token() override { return ""; }
  void rotate_csrf() override {}
  void log(LogLevel level, const std::string& message) override {
    services_.logger->log(level, message);
  }

  Response page(int status, const std::string& tmpl, Vars vars) override;
  Response error(int status, const std::string& message_key) override;
  Response unavailable(long retry_after_seconds) override;

 private:
  struct Stubs;
  ToolServices services_;
  SiteConfig config_;
  Request request_;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace natomedia::core
