// The plugin's route handlers, one file per page family. plugin.cc binds them to their paths.
#pragma once

#include <natomedia/plugin.h>

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

// password_reset_pages.cc: the reset journey
Response get_reset(Context& ctx);                              // GET /account/password/reset
Response post_reset(Context& ctx);                             // POST /account/password/reset
Response get_reset_verify(Context& ctx);                       // GET .../reset/verify?email=E
Response post_reset_verify(Context& ctx);                      // POST .../reset/verify
Response get_new_password(Context& ctx);                       // GET /account/password/new
Response post_new_password(Context& ctx, PluginState& state);  // POST /account/password/new

}  // namespace natomedia::auth
