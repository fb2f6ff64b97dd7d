// The verification plugin: emailed one-time codes for every plugin (the "natomedia.codes"
// provider) and the account-verification pages (CONTRACT sections 4 and 5).
#include <memory>

#include <natomedia/plugin.h>
#include <natomedia/providers.h>

#include "code_service.h"
#include "routes.h"

namespace {

using natomedia::Context;

void setup(natomedia::PluginHost* host) {
  auto codes = std::make_shared<natomedia::verification::CodeServiceImpl>();
  host->provide(natomedia::kCodeServiceName, natomedia::kCodeServiceVersion, codes);
  // Decoy codes write (and delete at once) a row as large as a code mail, so that an address
  // without a code costs the same write as one with (code_service.cc, CONTRACT section 12).
  host->migration({1,
                   "decoy writes",
                   {"CREATE TABLE verification_decoy_writes (token CHAR(32) PRIMARY KEY,"
                    " filler TEXT NOT NULL)"},
                   {}});
  host->counter("natomedia_codes_sent_total", "Emailed codes issued");
  host->counter("natomedia_verifications_total", "Accounts verified with an emailed code");
  host->counter("natomedia_code_failures_total", "Codes typed wrong, expired, used or killed");
  namespace v = natomedia::verification;
  host->route("GET", "/account/verify", v::get_verify);
  host->route("GET", "/account/verified", v::get_verified);
  host->route("POST", "/account/verify",
              [codes](Context& ctx) { return v::post_verify(ctx, *codes); });
  host->route("POST", "/account/verify/resend",
              [codes](Context& ctx) { return v::post_resend(ctx, *codes); });
  host->on(natomedia::AccountEvent::kDeleted,
           [codes](Context& ctx, const natomedia::AccountEventData& e) {
             codes->forget(ctx, e.account);
           });
}

}  // namespace

NATOMEDIA_PLUGIN("verification", "1.0", setup)
// The verification pages find and sign in accounts through the natomedia.accounts provider.
NATOMEDIA_PLUGIN_REQUIRES("authentication")
