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

// "123 456": easier to read and to copy than six digits in a row.
std::string spaced(const std::string& code) { return code.substr(0, 3) + " " + code.substr(3); }

// The page where the code is typed. The email-change page needs no address in its link: the
// change it confirms is held by the signed-in browser that asked for it.
std::string code_page(CodePurpose purpose, const std::string& email) {
  switch (purpose) {
    case CodePurpose::kChangeEmail:
      return "/account/email/verify";
    case CodePurpose::kResetPassword:
      return "/account/password/reset/verify?email=" + text::url_encode(email);
    case CodePurpose::kVerifyAccount:
      break;
  }
  return "/account/verify?email=" + text::url_encode(email);
}

Result<MailMessage> code_mail(Context& ctx, CodePurpose purpose, const std::string& account_lang,
                              const std::string& email, const std::string& code) {
  const std::string lang = mail_lang(account_lang);
  const std::string name = purpose_name(purpose);
  Vars vars;
  vars["code"] = spaced(code);
  vars["email"] = email;
  vars["expiry"] = expiry_sentence(ctx, lang);
  vars["link"] = ctx.absolute_url(code_page(purpose, email));
  vars[name] = true;  // {{#verify}} / {{#reset}} / {{#change}} in the templates
  return compose_mail(ctx.templates(), email, lang, "verification/mail/code",
                      ctx.i18n().text(lang, "verification.mail." + name + ".subject"),
                      std::move(vars));
}

// What issue() and issue_decoy() share, up to the mail: the cooldown and limits, a new code, its
// state stored. `decoy`: the state matches no code. The code (for the mail) is returned in *code.
CodeIssue admit_and_store(Context& ctx, CodePurpose purpose, const std::string& email,
                          const std::string& binding, bool decoy, std::string* code) {
  CodeStore store(ctx.cache(), ctx.crypto(), limits_of(ctx.config()));
  const std::time_t now = ctx.clock().now();
  CodeIssue admitted =
      logged_admission(ctx, store.admit(purpose, email, ctx.request().client_ip, now));
  if (admitted.outcome != CodeIssue::Outcome::kSent) return admitted;
  *code = ctx.crypto().random_digits(6);
  if (code->size() != 6) {
    ctx.log(LogLevel::kError, "verification: the CSPRNG failed; no code issued");
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  Status stored = decoy ? store.store_decoy(purpose, email, now, ctx.crypto().random_bytes(32))
                        : store.store(purpose, email, *code, now, binding);
  if (!stored.ok()) {
    ctx.log(LogLevel::kWarning, "verification: cannot store a code in " + named_memcached(ctx) +
                                    ": " + stored.message());
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  return {CodeIssue::Outcome::kSent, 0};
}

// The write of a queued mail (MIME with base64 parts: about 4/3 of the parts and its headers),
// without the mail: inserted and deleted in the caller's transaction.
Status write_and_forget(Context& ctx, Sql& sql, size_t parts_size) {
  const std::string token = text::hex_encode(ctx.crypto().random_bytes(16));
  const std::string filler =
      text::hex_encode(ctx.crypto().random_bytes((parts_size * 4 / 3 + 600) / 2));
  if (token.size() != 32 || filler.empty()) return Status::Internal("the CSPRNG failed");
  auto in = sql.exec("INSERT INTO verification_decoy_writes (token, filler) VALUES (%s, %s)",
                     {token, filler});
  if (!in.ok()) return in.status();
  auto out = sql.exec("DELETE FROM verification_decoy_writes WHERE token = %s", {token});
  return out.ok() ? Status::Ok() : out.status();
}

}  // namespace

std::string expiry_sentence(Context& ctx, const std::string& lang) {
  const long s = ctx.config().code_lifetime;
  if (s < 120 && s % 60 != 0)
    return text::fill(ctx.i18n().text(lang, "verification.expires.seconds"),
                      {{"n", std::to_string(s)}});
  const long minutes = (s + 59) / 60;
  if (minutes == 1) return ctx.i18n().text(lang, "verification.expires.minute");
  return text::fill(ctx.i18n().text(lang, "verification.expires.minutes"),
                    {{"n", std::to_string(minutes)}});
}

CodeIssue CodeServiceImpl::issue(Context& ctx, Sql& sql, CodePurpose purpose,
                                 const Account& account) {
  const std::string email = normalize_email(account.email).value_or("");
  if (email.empty()) return {CodeIssue::Outcome::kUnavailable, 0};
  const std::string binding = purpose == CodePurpose::kResetPassword ? std::string()
                                                                     : account.registration;
  std::string code;
  CodeIssue issued = admit_and_store(ctx, purpose, email, binding, false, &code);
  if (issued.outcome != CodeIssue::Outcome::kSent) return issued;
  auto message = code_mail(ctx, purpose, account.lang, email, code);
  Status queued = message.ok() ? ctx.outbox().queue(sql, *message) : message.status();
  if (!queued.ok()) {
    ctx.log(LogLevel::kError, "verification: cannot queue the code mail for account " +
                                  std::to_string(account.id) + ": " + queued.message());
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  ctx.metrics().add("natomedia_codes_sent_total");
  return {CodeIssue::Outcome::kSent, 0};
}

CodeIssue CodeServiceImpl::issue_decoy(Context& ctx, Sql& sql, CodePurpose purpose,
                                       const std::string& email, const std::string& lang) {
  const std::string normal = normalize_email(email).value_or("");
  if (normal.empty()) return {CodeIssue::Outcome::kUnavailable, 0};
  std::string code;
  CodeIssue issued = admit_and_store(ctx, purpose, normal, "", true, &code);
  if (issued.outcome != CodeIssue::Outcome::kSent) return issued;
  // Composed as a real one would be, then dropped: nothing is queued, nothing is sent.
  auto message = code_mail(ctx, purpose, lang, normal, code);
  if (!message.ok()) {
    ctx.log(LogLevel::kError,
            "verification: cannot compose a code mail: " + message.status().message());
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  // A real code's mail is a row written in the caller's transaction; without a write of the same
  // size the decoy's commit answered some 6 ms sooner (bench/oracle_timing.py). So a row of
  // random text as long as the queued message is written and deleted again in the same
  // transaction: nothing stays, and it holds neither the address nor the decoy's digits.
  Status written = write_and_forget(ctx, sql, message->text.size() + message->html.size());
  if (!written.ok()) {
    ctx.log(LogLevel::kWarning, "verification: decoy write: " + written.message());
    return {CodeIssue::Outcome::kUnavailable, 0};
  }
  return {CodeIssue::Outcome::kSent, 0};
}

CodeCheck CodeServiceImpl::check(Context& ctx, CodePurpose purpose, const std::string& email,
                                 const std::string& typed) {
  return check_bound(ctx, purpose, email, typed, nullptr);
}

CodeCheck CodeServiceImpl::check_bound(Context& ctx, CodePurpose purpose, const std::string& email,
                                       const std::string& typed, std::string* binding) {
  const std::string normal = normalize_email(email).value_or("");
  CodeStore store(ctx.cache(), ctx.crypto(), limits_of(ctx.config()));
  CodeCheck result = normal.empty()
                         ? CodeCheck::kDead
                         : store.check(purpose, normal, typed, ctx.clock().now(), binding);
  if (result == CodeCheck::kWrong || result == CodeCheck::kDead)
    ctx.metrics().add("natomedia_code_failures_total");
  return result;
}

void CodeServiceImpl::forget(Context& ctx, const Account& account) {
  CodeStore store(ctx.cache(), ctx.crypto(), limits_of(ctx.config()));
  Status s = store.forget(account.email);
  // Codes expire on their own within NatoMediaCodeLifetime: the erasure goes on without them.
  if (!s.ok()) ctx.log(LogLevel::kWarning, "account deleted: its codes stay until they expire: " +
                                               s.message());
}

}  // namespace natomedia::verification
