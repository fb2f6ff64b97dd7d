#include "code_service.h"

#include <natomedia/email.h>
#include <natomedia/text.h>

namespace natomedia::verification {

namespace {

CodeLimits limits_of(const SiteConfig& config) {
  CodeLimits l;
  l.lifetime = config.code_lifetime;
  l.cooldown = config.resend_cooldown;
  return l;
}

// "memcached (NatoMediaMemcached "--SERVER=…")", for log lines an admin acts on.
std::string named_memcached(const Context& ctx) {
  return "memcached (NatoMediaMemcached \"" + std::string(text::trim(ctx.config().memcached)) +
         "\")";
}

// admit() answers kUnavailable only when memcached cannot be reached.
CodeIssue logged_admission(Context& ctx, CodeIssue admitted) {
  if (admitted.outcome == CodeIssue::Outcome::kUnavailable)
    ctx.log(LogLevel::kWarning, "verification: no code issued: " + named_memcached(ctx) +
                                    " cannot be reached; registration, resend and password "
                                    "reset answer 503 until it is back");
  return admitted;
}

std::string mail_lang(const std::string& lang) { return lang == "fr" ? "fr" : "en"; }

std::string replace_n(std::string sentence, long n) {
  const std::string mark = "{n}";
  size_t at = sentence.find(mark);
  if (at != std::string::npos) sentence.replace(at, mark.size(), std::to_string(n));
  return sentence;
}

// "123 456": easier to read and to copy than six digits in a row.
std::string spaced(const std::string& code) { return code.substr(0, 3) + " " + code.substr(3); }

Status queue_code_mail(Context& ctx, Sql& sql, CodePurpose purpose, const Account& account,
                       const std::string& email, const std::string& code) {
  const std::string lang = mail_lang(account.lang);
  const std::string name = purpose_name(purpose);
  const std::string page = purpose == CodePurpose::kResetPassword
                               ? "/account/password/reset/verify"
                               : "/account/verify";
  Vars vars;
  vars["code"] = spaced(code);
  vars["email"] = email;
  vars["expiry"] = expiry_sentence(ctx, lang);
  vars["link"] = ctx.absolute_url(page + "?email=" + text::url_encode(email));
  vars[name] = true;  // {{#verify}} / {{#reset}} in the templates
  auto message = compose_mail(ctx.templates(), email, lang, "verification/mail/code",
                              ctx.i18n().text(lang, "verification.mail." + name + ".subject"),
                              std::move(vars));
  if (!message.ok()) return message.status();
  return ctx.outbox().queue(sql, *message);
}

}  // namespace

std::string expiry_sentence(Context& ctx, const std::string& lang) {
  const long s = ctx.config().code_lifetime;
  if (s < 120 && s % 60 != 0)
    return replace_n(ctx.i18n().text(lang, "verification.expires.seconds"), s);
  const long minutes = (s + 59) / 60;
  if (minutes == 1) return ctx.i18n().text(lang, "verification.expires.minute");
  return replace_n(ctx.i18n().text(lang, "verification.expires.minutes"), minutes);
}

CodeIssue CodeServiceImpl::issue(Context& ctx, Sql& sql, CodePurpose purpose,
                                 const Account& account) {
  const std::string email = normalize_email(account.email).value_or("");
  if (email.empty()) return {CodeIssue::Outcome::kUnavailable, 0};
  CodeStore store(ctx.cache(), ctx.crypto(), limits_of(ctx.config()));
  const std::time_t now = ctx.clock().now();
  CodeIssue admitted =
      logged_admission(ctx, store.admit(purpose, email, ctx.request().client_ip, now));
  if (admitted.outcome != CodeIssue::Outcome::kSent) return admitted;
  const std::string code = ctx.crypto().random_digits(6);
  if (code.size() != 6) {
    ctx.log(LogLevel::kError, "verification: the CSPRNG failed; no code issued");
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  Status stored = store.store(purpose, email, code, now);
  if (!stored.ok()) {
    ctx.log(LogLevel::kWarning, "verification: cannot store a code in " + named_memcached(ctx) +
                                    ": " + stored.message());
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  Status queued = queue_code_mail(ctx, sql, purpose, account, email, code);
  if (!queued.ok()) {
    ctx.log(LogLevel::kError, "verification: cannot queue the code mail for account " +
                                  std::to_string(account.id) + ": " + queued.message());
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  ctx.metrics().add("natomedia_codes_sent_total");
  return {CodeIssue::Outcome::kSent, 0};
}

CodeCheck CodeServiceImpl::check(Context& ctx, CodePurpose purpose, const std::string& email,
                                 const std::string& typed) {
  const std::string normal = normalize_email(email).value_or("");
  CodeStore store(ctx.cache(), ctx.crypto(), limits_of(ctx.config()));
  CodeCheck result = normal.empty() ? CodeCheck::kDead
                                    : store.check(purpose, normal, typed, ctx.clock().now());
  if (result == CodeCheck::kWrong || result == CodeCheck::kDead)
    ctx.metrics().add("natomedia_code_failures_total");
  return result;
}

CodeIssue CodeServiceImpl::admit_only(Context& ctx, CodePurpose purpose,
                                      const std::string& email) {
  CodeStore store(ctx.cache(), ctx.crypto(), limits_of(ctx.config()));
  return logged_admission(ctx,
                          store.admit(purpose, email, ctx.request().client_ip, ctx.clock().now()));
}

}  // namespace natomedia::verification
