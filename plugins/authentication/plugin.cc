// The authentication plugin: accounts, passwords, sessions and the password reset journey
// (CONTRACT sections 4 and 5). Registers its tables, their retention rules, counters, routes, the
// identity provider and the "natomedia.accounts" provider; uses the verification plugin's
// "natomedia.codes".
#include <memory>
#include <stdexcept>

#include <natomedia/plugin.h>
#include <natomedia/providers.h>

#include "account_service.h"
#include "plugin_state.h"
#include "retention.h"
#include "routes.h"
#include "schema.h"

namespace natomedia::auth {
namespace {

void declare_counters(PluginHost* host) {
  host->counter("natomedia_registrations_total", "Accounts created");
  host->counter("natomedia_accounts_verified_total", "Accounts that verified their address");
  host->counter("natomedia_signins_ok_total", "Successful sign-ins");
  host->counter("natomedia_signins_failed_total", "Refused sign-ins (wrong address or password)");
  host->counter("natomedia_signins_throttled_total", "Sign-ins refused by the throttle (429)");
  host->counter("natomedia_accounts_deleted_total", "Accounts erased by their owner");
  host->counter("natomedia_email_changes_total", "Addresses changed on the account page");
  host->counter("natomedia_password_changes_total", "Passwords changed (through a reset or on the account page)");
  host->counter("natomedia_session_cache_hits_total",
                "Requests whose session was answered by the shared-memory session cache");
  host->counter("natomedia_session_cache_misses_total",
                "Requests whose session was read from SQL although a session cache is configured");
}

void add_routes(PluginHost* host, const std::shared_ptr<PluginState>& state) {
  auto with_state = [state](Response (*fn)(Context&, PluginState&)) {
    return [state, fn](Context& ctx) { return fn(ctx, *state); };
  };
  host->route("GET", "/account/register", get_register);
  host->route("POST", "/account/register", with_state(post_register));
  host->route("GET", "/account/login", get_login);
  host->route("POST", "/account/login", with_state(post_login));
  host->route("POST", "/account/logout", post_logout);
  // /account without the slash leads to the account page, as /news does to the news.
  host->route("GET", "/account", natomedia::redirect_to_slash);
  host->route("GET", "/account/", get_account);
  host->route("GET", "/account/password", get_change_password);
  host->route("POST", "/account/password", with_state(post_change_password));
  host->route("GET", "/account/email", get_change_email);
  host->route("POST", "/account/email", with_state(post_change_email));
  host->route("GET", "/account/email/verify", get_change_email_verify);
  host->route("POST", "/account/email/verify", post_change_email_verify);
  host->route("POST", "/account/email/verify/resend", post_change_email_resend);
  host->route("GET", "/account/sessions", get_sessions);
  host->route("POST", "/account/sessions/end-others", post_end_other_sessions);
  host->route("GET", "/account/export", get_export);
  host->route("GET", "/account/delete", get_delete);
  host->route("POST", "/account/delete", with_state(post_delete));
  host->route("GET", "/account/password/reset", get_reset);
  host->route("POST", "/account/password/reset", post_reset);
  host->route("GET", "/account/password/reset/verify", get_reset_verify);
  host->route("POST", "/account/password/reset/verify", post_reset_verify);
  host->route("GET", "/account/password/new", get_new_password);
  host->route("POST", "/account/password/new", with_state(post_new_password));
}

void setup(PluginHost* host) {
  auto state = std::make_shared<PluginState>();
  auto deny = load_deny_list(host->server_config().password_deny_list);
  if (!deny.ok()) throw std::runtime_error(deny.status().message());  // stops start-up, named
  state->deny_list = *deny;

  for (auto& m : schema_migrations()) host->migration(std::move(m));
  host->on_prune(prune);
  declare_counters(host);
  add_routes(host, state);
  host->identity_provider(std::make_shared<SessionIdentity>());
  // Through the interface type: find_provider casts the void pointer back to AccountService.
  std::shared_ptr<AccountService> accounts = std::make_shared<AccountServiceImpl>();
  host->provide(kAccountServiceName, kAccountServiceVersion, accounts);
  // Its part of the account export (the account, its sessions); its part of the erasure is
  // erase_account itself, which deletes its rows after every plugin's kDeleted listener.
  host->on_export(export_account);
  // Where the account page is, for the other plugins (natomedia.pages.account).
  struct AccountPages : PageLinks {
    std::string item_page(const Context&, const std::string&) const override { return ""; }
    std::string account_page(const Context&) const override { return "/account/"; }
  };
  host->provide(kAccountPagesName, kPageLinksVersion, std::make_shared<AccountPages>());
}

}  // namespace
}  // namespace natomedia::auth

NATOMEDIA_PLUGIN("authentication", "1.0", natomedia::auth::setup)
// Registration and password reset mail codes through the natomedia.codes provider.
NATOMEDIA_PLUGIN_REQUIRES("verification")
