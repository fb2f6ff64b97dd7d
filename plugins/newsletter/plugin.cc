// The newsletter plugin: subscribing with a recorded consent, unsubscribing in one click
// (RFC 8058) or from the account page, and the "natomedia.newsletter" provider the account page
// asks. Issues are sent by `natomedia-admin newsletter send` (tools/admin_newsletter.cc), which
// renders this plugin's mail templates.
#include <natomedia/providers.h>

#include "routes.h"
#include "schema.h"
#include "subscriptions.h"

namespace natomedia::newsletter {

namespace {

class Service : public NewsletterService {
 public:
  Result<bool> subscribed(Context& ctx, int64_t account_id) override {
    SubscriptionStore store(ctx.sql(), ctx.clock().now());
    auto s = store.find_by_account(account_id);
    if (s.ok()) return s->state == "subscribed";
    if (s.status().code() == Status::Code::kNotFound) return false;
    return s.status();
  }
};

void setup(PluginHost* host) {
  for (auto& m : migrations()) host->migration(std::move(m));
  host->counter(kSubscriptionsCounter, "Newsletter subscriptions (consents given)");
  host->counter(kUnsubscriptionsCounter, "Newsletter unsubscriptions (consents withdrawn)");
  // There is no newsletter page of its own: the account page shows the subscription and its
  // buttons. A temporary redirect (303), so a page here later is not hidden by browser caches.
  for (const char* path : {"/newsletter", "/newsletter/"})
    host->route("GET", path,
                [](Context& ctx) { return Response::Redirect(ctx.url("/account/"), 303); });
  host->route("POST", "/newsletter/subscribe", subscribe);
  host->route("POST", "/newsletter/unsubscribe-account", unsubscribe_account);
  host->route("GET", "/newsletter/unsubscribe", unsubscribe_confirm);
  // RFC 8058: a mail client posts List-Unsubscribe=One-Click with no cookie and no CSRF token;
  // the signed token in the URL is the authority instead.
  host->route("POST", "/newsletter/unsubscribe", unsubscribe_one_click, RouteOptions{false});
  host->provide(kNewsletterServiceName, kNewsletterServiceVersion, std::make_shared<Service>());
}

}  // namespace

}  // namespace natomedia::newsletter

NATOMEDIA_PLUGIN("newsletter", "1.0", natomedia::newsletter::setup)
