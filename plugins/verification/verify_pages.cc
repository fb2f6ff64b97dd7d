// The account-verification pages. Every answer is the same whether or not the address has an
// account: a code that was never issued is as dead as a used one, and a resend for an unknown,
// verified or disabled address makes a decoy code state through the same cooldown, limits and
// work as a real code, so wrong codes then answer 422 up to the 5th and 410 after it alike.
#include <natomedia/email.h>
#include <natomedia/providers.h>
#include <natomedia/return_to.h>
#include <natomedia/text.h>

#include "routes.h"

namespace natomedia::verification {

namespace {

constexpr long kRetryAfterOutage = 30;

std::string tr(Context& ctx, const std::string& key) {
  return ctx.i18n().text(ctx.request().lang, key);
}

Response unavailable(Context& ctx) {
  Response r = ctx.unavailable(kRetryAfterOutage);
  r.header("Cache-Control", "no-store");
  return r;
}

// Catalogue text for element content: escaped, except that an apostrophe is left as it is
// (harmless between tags), so "Didn't" reads as typed in the page source too.
Value content_text(Context& ctx, const std::string& key) {
  std::string html = text::html_escape(tr(ctx, key));
  for (size_t at; (at = html.find("&#39;")) != std::string::npos;) html.replace(at, 5, "'");
  return Value::TrustedHtml(std::move(html));
}

// Where the visitor goes once verified, carried by every form and link of the flow (base-relative).
std::string return_to_of(Context& ctx) {
  const Request& r = ctx.request();
  return safe_return_to(r.method == "POST" ? r.form.get_or("return_to", "/")
                                           : r.query.get_or("return_to", "/"));
}

// path?email=…&return_to=… without the parameters that say nothing.
std::string flow_path(const std::string& path, const std::string& email,
                      const std::string& return_to) {
  std::string out = path;
  char sep = '?';
  if (!email.empty()) {
    out += sep + std::string("email=") + text::url_encode(email);
    sep = '&';
  }
  if (return_to != "/") out += sep + std::string("return_to=") + text::url_encode(return_to);
  return out;
}

Response verify_form(Context& ctx, const std::string& email, int status, Vars vars = {}) {
  const std::string return_to = return_to_of(ctx);
  vars["title"] = tr(ctx, "verification.title");
  vars["resend_question"] = content_text(ctx, "verification.resend.question");
  vars["email"] = email;
  vars["has_email"] = !email.empty();
  vars["return_to"] = return_to;
  // The language switch stays on this form for this address (a POST answer has no query).
  vars["lang_switch_to"] = flow_path("/account/verify", email, return_to);
  vars["expiry"] = expiry_sentence(ctx, ctx.request().lang);
  // A refused code is the code field's error: the page opens with the error summary.
  if (vars.count("wrong") || vars.count("dead")) vars["form_failed"] = true;
  Response r = ctx.page(status, "verification/verify.html", std::move(vars));
  r.header("Cache-Control", "no-store");
  return r;
}

Response verified_page(Context& ctx) {
  const std::string return_to = return_to_of(ctx);
  Vars vars;
  vars["title"] = tr(ctx, "verification.done.title");
  // Back to the page that sent the visitor to register, when there was one.
  if (return_to != "/") vars["continue_path"] = return_to;
  vars["lang_switch_to"] = flow_path("/account/verified", "", return_to);
  // The offer is the newsletter plugin's partial, shown when that plugin is loaded.
  vars["newsletter_offer"] =
      find_provider<NewsletterService>(ctx, kNewsletterServiceName, kNewsletterServiceVersion) !=
      nullptr;
  Response r = ctx.page(200, "verification/verified.html", std::move(vars));
  r.header("Cache-Control", "no-store");
  return r;
}

// The right code was typed (and consumed): verify the registration it was bound to and sign the
// account in. A code whose registration has been replaced since (the address registered again)
// is as dead as a used one.
Response complete(Context& ctx, const std::string& email, const std::string& registration) {
  auto accounts =
      find_provider<AccountService>(ctx, kAccountServiceName, kAccountServiceVersion);
  if (!accounts) {
    ctx.log(LogLevel::kError, "verification needs the natomedia.accounts provider "
                              "(NatoMediaPlugin authentication)");
    return unavailable(ctx);
  }
  auto verified = accounts->verify_registration(ctx, email, registration);
  if (!verified.ok()) {
    if (verified.status().code() == Status::Code::kNotFound)
      return verify_form(ctx, email, 410, {{"dead", true}});  // replaced, deleted or disabled
    ctx.log(LogLevel::kWarning, "verification: " + verified.status().message());
    return unavailable(ctx);
  }
  Status signed_in = accounts->sign_in(ctx, *verified);
  if (!signed_in.ok())
    ctx.log(LogLevel::kWarning, "verification: account " + std::to_string(verified->id) +
                                    " verified but not signed in: " + signed_in.message());
  ctx.metrics().add("natomedia_verifications_total");
  return verified_page(ctx);
}

Response too_soon(Context& ctx, const std::string& email, long retry_after) {
  Vars vars;
  vars["resend_error"] = true;
  vars["retry_after"] = std::to_string(retry_after);
  vars["resend_wait"] =
      text::fill(tr(ctx, "verification.resend.wait"), {{"n", std::to_string(retry_after)}});
  Response r = verify_form(ctx, email, 429, std::move(vars));
  r.header("Retry-After", std::to_string(retry_after));
  return r;
}

}  // namespace

Response get_verify(Context& ctx) {
  // The page is no use while codes cannot be checked: say so now rather than after typing.
  if (ctx.cache().get("codes:probe").outcome == CacheOutcome::kError) return unavailable(ctx);
  return verify_form(ctx, ctx.request().query.get_or("email"), 200);
}

// The success page again (the language switch of the success page): for a signed-in, verified
// account; anyone else is sent to the verify form.
Response get_verified(Context& ctx) {
  auto account = ctx.account();
  if (!account || account->state != "verified")
    return Response::Redirect(ctx.url(flow_path("/account/verify", "", return_to_of(ctx))));
  return verified_page(ctx);
}

Response post_verify(Context& ctx, CodeServiceImpl& codes) {
  const Params& form = ctx.request().form;
  const std::string email = normalize_email(form.get_or("email")).value_or("");
  const std::string shown = email.empty() ? form.get_or("email") : email;
  std::string registration;
  switch (codes.check_bound(ctx, CodePurpose::kVerifyAccount, email, form.get_or("code"),
                            &registration)) {
    case CodeCheck::kOk:
      return complete(ctx, email, registration);
    case CodeCheck::kWrong:
      return verify_form(ctx, shown, 422, {{"wrong", true}});
    case CodeCheck::kDead:
      return verify_form(ctx, shown, 410, {{"dead", true}});
    case CodeCheck::kUnavailable:
      break;
  }
  return unavailable(ctx);
}

Response post_resend(Context& ctx, CodeServiceImpl& codes) {
  const std::string typed = ctx.request().form.get_or("email");
  const std::string email = normalize_email(typed).value_or("");
  if (email.empty()) return verify_form(ctx, typed, 422, {{"email_error", true}});
  auto accounts =
      find_provider<AccountService>(ctx, kAccountServiceName, kAccountServiceVersion);
  if (!accounts) return unavailable(ctx);
  auto account = accounts->find_by_email(ctx, email);
  if (!account.ok() && account.status().code() != Status::Code::kNotFound)
    return unavailable(ctx);

  // A pending account gets a code bound to its latest registration; any other address a decoy,
  // through the same steps, so that what follows (the cooldown, 422 then 410) is alike.
  const bool pending = account.ok() && account->state == "pending";
  const std::string lang = account.ok() ? account->lang : ctx.request().lang;
  CodeIssue issued;
  Sql& sql = ctx.sql();
  Status s = transaction(sql, [&]() -> Status {
    issued = pending ? codes.issue(ctx, sql, CodePurpose::kVerifyAccount, *account)
                     : codes.issue_decoy(ctx, sql, CodePurpose::kVerifyAccount, email, lang);
    // Only a code that was stored needs its mail committed; nothing else was written.
    return issued.outcome == CodeIssue::Outcome::kSent ? Status::Ok() : Status::Conflict("no code");
  });
  if (!s.ok() && issued.outcome == CodeIssue::Outcome::kSent) return unavailable(ctx);
  switch (issued.outcome) {
    case CodeIssue::Outcome::kSent:
      return Response::Redirect(ctx.url(flow_path("/account/verify", email, return_to_of(ctx))));
    case CodeIssue::Outcome::kCooldown:
    case CodeIssue::Outcome::kRateLimited:
      return too_soon(ctx, email, issued.retry_after);
    case CodeIssue::Outcome::kUnavailable:
      break;
  }
  return unavailable(ctx);
}

}  // namespace natomedia::verification
