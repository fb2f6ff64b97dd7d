// Who is signed in, for any request httpd serves, not only the portal's (CONTRACT section 14):
// the module tells httpd (r->user, NATOMEDIA_ACCOUNT_*) and gates `AuthType natomedia` areas
// with it. The answer comes from the one identity provider (the authentication plugin's session
// lookup) through the same RequestContext the portal's pages use: there is no second lookup.
//
// One Visitor per request, used by one thread. The account is asked for once; a request without
// the session cookie is answered without touching the database.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <natomedia/plugin.h>

#include "core/portal.h"

namespace natomedia::core {

class RequestContext;

// What r->user holds: NatoMediaRemoteUser email|id.
enum class RemoteUser { kEmail, kId };

class Visitor {
 public:
  // `in` needs the headers, path and query only (no body). `logger` must outlive the Visitor.
  Visitor(const Services& services, const Site& site, const IncomingRequest& in,
          SqlFactory sql_factory, Logger& logger);
  ~Visitor();
  Visitor(const Visitor&) = delete;
  Visitor& operator=(const Visitor&) = delete;

  // The signed-in, verified account, or nullopt (nobody, or it cannot be told: see known()).
  std::optional<Account> account();
  // The answer of account() with whether it could be told, for the portal's own handler.
  KnownAccount known();
  // Whether the signed-in account subscribes to the newsletter, asked of the provider the
  // newsletter plugin offers ("natomedia.newsletter"): Unavailable when no plugin offers it or
  // the database cannot tell.
  Result<bool> subscribed();
  // The answer for a visitor an `AuthType natomedia` area refuses, coming back to
  // `path`?`query` after signing in: 303 to the sign-in page for a client whose `accept` lists
  // text/html; 401 naming the sign-in page (WWW-Authenticate, Link, a one-line text body) for
  // any other; 503 with Retry-After when who is signed in cannot be told. Always with
  // `Vary: Accept, Cookie` and `Cache-Control: no-store`.
  Response refusal(const std::string& path, const std::string& query, const std::string& accept);

 private:
  SqlFactory sql_factory_;  // RequestContext keeps a reference to it
  std::unique_ptr<RequestContext> ctx_;
};

// r->user for the account.
std::string remote_user(const Account& account, RemoteUser mode);

// Whether an Accept header lists text/html (with a q above 0): a browser, which is sent to the
// sign-in page; any other client is answered 401.
bool accepts_html(const std::string& accept);

// Where the sign-in page sends the visitor back to: `path`?`query` relative to the base path
// (the sign-in page prefixes it), or "/" (the portal's home) for a path outside the base path,
// which the sign-in page cannot name.
std::string return_to_for(const std::string& base_path, const std::string& path,
                          const std::string& query);

}  // namespace natomedia::core
