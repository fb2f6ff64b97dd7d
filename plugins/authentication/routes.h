// The plugin's route handlers, one file per page family. plugin.cc binds them to their paths.
#pragma once

#include <optional>
#include <string>

#include <natomedia/plugin.h>
#include <natomedia/providers.h>

#include "plugin_state.h"

namespace natomedia::auth {

// register_page.cc: GET/POST /account/register
Response get_register(Context& ctx);
Response post_register(Context& ctx, PluginState& state);

// sign_in_page.cc: GET/POST /account/login, POST /account/logout
Response get_login(Context& ctx);
Response post_login(Context& ctx, PluginState& state);
Response post_logout(Context& ctx);

// account_page.cc: GET /account/
Response get_account(Context& ctx);

// self_service_pages.cc: the signed-in visitor's own changes (CONTRACT section 13)
Response get_change_password(Context& ctx);                         // GET /account/password
Response post_change_password(Context& ctx, PluginState& state);    // POST /account/password
Response get_sessions(Context& ctx);                                // GET /account/sessions
Response post_end_other_sessions(Context& ctx);  // POST /account/sessions/end-others
Response get_export(Context& ctx);                                   // GET /account/export
Response get_delete(Context& ctx);                                   // GET /account/delete
Response post_delete(Context& ctx, PluginState& state);             // POST /account/delete
// account_erasure.cc: the one erasure of an account (AccountService::erase, providers.h), which
// the page and natomedia-admin both run; and the plugin's part of the account export.
Result<AccountErasure> erase_account(Context& ctx, const Account& account);
Result<Value> export_account(Context& ctx, const Account& account);
// The outcome of checking the current password of a signed-in visitor.
struct CurrentCheck {
  std::optional<Response> refusal;  // set: answer this (429, 401, 503) and stop
};
// Checks `typed` against the account's stored password through the sign-in throttle (the same
// places and locks as POST /account/login): 429 when throttled, 401 when wrong (with the form
// built by `form`), 503 when it cannot be checked. Every form that asks for the current password
// goes through here.
CurrentCheck check_current_password(Context& ctx, PluginState& state, const Account& account,
                                    const std::string& typed,
                                    Response (*form)(Context&, Vars, int));
// The notice /account/ shows after one of them (?done=NAME), into vars["notice"].
void add_account_notice(Context& ctx, Vars& vars);
// "YYYY-MM-DD HH:MM UTC", the account pages' date and time.
std::string account_date_time(std::time_t t);

// email_change_pages.cc: the change of address (CONTRACT section 13)
Response get_change_email(Context& ctx);                          // GET /account/email
Response post_change_email(Context& ctx, PluginState& state);     // POST /account/email
Response get_change_email_verify(Context& ctx);                   // GET /account/email/verify
Response post_change_email_verify(Context& ctx);                  // POST /account/email/verify
Response post_change_email_resend(Context& ctx);  // POST /account/email/verify/resend

// password_reset_pages.cc: the reset journey
Response get_reset(Context& ctx);                              // GET /account/password/reset
Response post_reset(Context& ctx);                             // POST /account/password/reset
Response get_reset_verify(Context& ctx);                       // GET .../reset/verify?email=E
Response post_reset_verify(Context& ctx);                      // POST .../reset/verify
Response get_new_password(Context& ctx);                       // GET /account/password/new
Response post_new_password(Context& ctx, PluginState& state);  // POST /account/password/new

}  // namespace natomedia::auth
