// Small helpers every route of the plugin uses to build its answers, so that the 503, 429 and
// redirect answers, the page titles and the password-rule messages look the same everywhere.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <natomedia/plugin.h>
#include <natomedia/providers.h>

#include "password_policy.h"

namespace natomedia::auth {

// Seconds a visitor is asked to wait when every password-hash slot is busy.
inline constexpr long kHashBusyRetryAfter = 2;

// The catalogue text of `key` in the page's language.
std::string tr(Context& ctx, const std::string& key);

// Vars with the page title from the catalogue.
Vars page_vars(Context& ctx, const std::string& title_key);

// `path` (below the base path) with a query string; pairs with an empty value are left out.
std::string with_query(const std::string& path,
                       std::initializer_list<std::pair<const char*, std::string>> params);

// 303 to `path` below the base path.
Response redirect(Context& ctx, const std::string& path);

// 503 with Retry-After: a backend is down or every hash slot is busy.
Response unavailable(Context& ctx, long retry_after);

// Sets `password_invalid` and `password_errors` (the messages of the broken rules, in the page's
// language) for the forms' password_errors.html partial.
void add_password_errors(Context& ctx, const std::vector<PasswordRule>& rules, Vars& vars);

// The verification plugin's code service; nullptr (logged, naming `feature` and the missing
// plugin) when it is not loaded: the caller answers 503.
std::shared_ptr<CodeService> code_service(Context& ctx, const std::string& feature);

// "This code will expire in N minutes." with NatoMediaCodeLifetime.
std::string code_expiry_text(Context& ctx);

// Queues the mail "authentication/mail/NAME.{txt,html}" with the subject
// "auth.mail.NAME.subject", in `lang`, with `sql` (the caller's transaction).
Status queue_mail(Context& ctx, Sql& sql, const std::string& to, const std::string& lang,
                  const std::string& name, Vars vars);

}  // namespace natomedia::auth
