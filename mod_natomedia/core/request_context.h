// The Context a handler receives: one per request, used by one thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

#include "core/portal.h"

namespace natomedia::core {

class RequestContext : public Context {
 public:
  RequestContext(const Services& services, const Site& site, Request request,
                 const SqlFactory& sql_factory, Logger& logger);

  const Request& request() const override { return request_; }
  const SiteConfig& config() const override { return site_.config; }
  Sql& sql() override;
  Cache& cache() override { return *services_.cache; }
  Outbox& outbox() override { return *services_.outbox; }
  const Templates& templates() const override { return *services_.templates; }
  const I18n& i18n() const override { return *services_.i18n; }
  Crypto& crypto() override { return *services_.crypto; }
  const Feed& feed() const override { return *site_.feed; }
  Metrics& metrics() override;
  const Clock& clock() const override { return *services_.clock; }
  ServerCache* server_cache() override { return services_.server_cache; }

  std::optional<Account> account() override;
  void reset_account() override {
    account_.reset();
    account_known_ = false;
    account_unknowable_ = false;
  }
  // Takes who is signed in as already told (the module asked before the portal's handler ran).
  void know_account(const KnownAccount& known) {
    account_ = known.account;
    account_known_ = true;
    account_unknowable_ = known.unknowable;
  }
  // What account() found, for whoever asks next in this request.
  KnownAccount known_account() {
    account();
    return {account_, account_unknowable_};
  }
  Response sign_in_required(const std::string& return_to) override;
  Status emit(const AccountEventData& event) override;
  std::shared_ptr<void> provider(const std::string& name, int version) const override;
  Result<Value::Map> account_data(const Account& account) override;

  void set_cookie(const CookieSpec& cookie) override;
  std::optional<std::string> cookie(const std::string& name) const override;
  std::string csrf_token() override;
  void rotate_csrf() override;
  void log(LogLevel level, const std::string& message) override { logger_.log(level, message); }

  Response page(int status, const std::string& tmpl, Vars vars) override;
  Response error(int status, const std::string& message_key) override;
  Response unavailable(long retry_after_seconds) override;

  // Whether the form's csrf_token matches this browser's binding cookie.
  bool csrf_valid() const;
  // The Set-Cookie values this request produced, to add to whatever answer it gets.
  const std::vector<std::string>& set_cookies() const { return set_cookies_; }
  // Whether the answer carries something private (CONTRACT section 12): a CSRF token a page
  // shows or a handler asked for, a cookie other than the language's (session, CSRF binding,
  // reset grant), or what the signed-in account sees. No cache may keep such an answer.
  bool private_answer() const { return private_answer_; }

 private:
  std::string cookie_name(const std::string& name) const;
  std::string lang_switch_url(const std::string& lang, const std::string& to = "") const;
  void set_csrf_binding(std::string binding);

  const Services& services_;
  const Site& site_;
  Request request_;
  const SqlFactory& sql_factory_;
  Logger& logger_;
  std::unique_ptr<Sql> sql_;
  std::optional<Account> account_;
  bool account_known_ = false;
  bool account_unknowable_ = false;  // the identity provider answered Unavailable
  std::string csrf_binding_;
  bool private_answer_ = false;
  std::vector<std::string> set_cookies_;
  std::map<std::string, std::optional<std::string>> set_values_;  // nullopt: deleted
};

}  // namespace natomedia::core
