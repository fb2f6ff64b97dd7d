#include <natomedia/text.h>

#include "routes.h"
#include "subscriptions.h"
#include "unsubscribe_token.h"

namespace natomedia::newsletter {

namespace {

// The hidden `source` field says which offer the button belonged to; anything else is "other".
std::string consent_source(const Request& req) {
  const std::string source = req.form.get_or("source");
  return source == "verification" || source == "account" ? source : "other";
}

Response verify_first(Context& ctx, const Account& account) {
  Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "newsletter.verify_first.title");
  vars["verify_url"] = ctx.url("/account/verify?email=" + text::url_encode(account.email));
  return ctx.page(403, "newsletter/verify_first.html", std::move(vars));
}

}  // namespace

Response subscribe(Context& ctx) {
  std::optional<Account> account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/");
  if (account->state != "verified") return verify_first(ctx, *account);

  const Request& req = ctx.request();
  ConsentRecord consent{req.client_ip, req.user_agent, kConsentTextVersion, req.lang,
                        consent_source(req)};
  SubscriptionStore store(ctx.sql(), ctx.clock().now());
  auto outcome = store.subscribe(*account, consent);
  if (!outcome.ok()) {
    ctx.log(LogLevel::kError, "newsletter: subscribing account " + std::to_string(account->id) +
                                  " failed: " + outcome.status().message());
    return ctx.error(503, "error.503.message");
  }
  if (!outcome->already) {
    ctx.metrics().add(kSubscriptionsCounter);
    // A confirmation to the address, with the way out (the newsletter's own unsubscribe link).
    Vars mail;
    mail["email"] = account->email;
    mail["unsubscribe_url"] = unsubscribe_url(
        ctx.config().public_url, req.base_path,
        make_unsubscribe_token(ctx.crypto(), account->id, account->credential_epoch));
    const std::string lang = account->lang.empty() ? req.lang : account->lang;
    auto message = compose_mail(ctx.templates(), account->email, lang,
                                "newsletter/mail/subscribed",
                                ctx.i18n().text(lang, "newsletter.mail.subscribed.subject"),
                                std::move(mail));
    Status queued = message.ok() ? ctx.outbox().queue(ctx.sql(), *message) : message.status();
    if (!queued.ok())
      ctx.log(LogLevel::kWarning, "newsletter: no confirmation mail for account " +
                                      std::to_string(account->id) + ": " + queued.message());
  }

  Vars vars;
  vars["title"] = ctx.i18n().text(req.lang, "newsletter.subscribed.title");
  vars["email"] = account->email;
  vars["already"] = outcome->already;
  return ctx.page(200, "newsletter/subscribed.html", std::move(vars));
}

}  // namespace natomedia::newsletter
