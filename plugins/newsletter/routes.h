// The newsletter's routes (CONTRACT section 4, Newsletter). One file per concern:
// subscribe.cc (POST /newsletter/subscribe), unsubscribe.cc (the token link and the account form).
#pragma once

#include <natomedia/plugin.h>

namespace natomedia::newsletter {

// Counters (declared in plugin.cc).
constexpr const char* kSubscriptionsCounter = "natomedia_newsletter_subscriptions_total";
constexpr const char* kUnsubscriptionsCounter = "natomedia_newsletter_unsubscriptions_total";

// POST /newsletter/subscribe (CSRF-checked): a signed-in, verified account subscribes.
Response subscribe(Context& ctx);
// POST /newsletter/unsubscribe-account (CSRF-checked): the signed-in account unsubscribes.
Response unsubscribe_account(Context& ctx);
// GET /newsletter/unsubscribe?token=T: a page with a confirm button; changes nothing.
Response unsubscribe_confirm(Context& ctx);
// POST /newsletter/unsubscribe?token=T (no CSRF: RFC 8058 one-click from a mail client).
Response unsubscribe_one_click(Context& ctx);

}  // namespace natomedia::newsletter
