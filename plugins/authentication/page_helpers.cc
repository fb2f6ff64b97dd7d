#include "page_helpers.h"

#include <natomedia/text.h>

namespace natomedia::auth {

std::string tr(Context& ctx, const std::string& key) {
  return ctx.i18n().text(ctx.request().lang, key);
}

Vars page_vars(Context& ctx, const std::string& title_key) {
  Vars vars;
  vars["title"] = tr(ctx, title_key);
  return vars;
}

std::string with_query(const std::string& path,
                       std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string out = path;
  char sep = '?';
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    out += sep;
    out += name;
    out += '=';
    out += text::url_encode(value);
    sep = '&';
  }
  return out;
}

Response redirect(Context& ctx, const std::string& path) {
  return Response::Redirect(ctx.url(path));
}

Response unavailable(Context& ctx, long retry_after) { return ctx.unavailable(retry_after); }

void add_password_errors(Context& ctx, const std::vector<PasswordRule>& rules, Vars& vars) {
  Value::List list;
  for (PasswordRule rule : rules) list.emplace_back(tr(ctx, rule_message_key(rule)));
  vars["password_invalid"] = !list.empty();
  vars["password_errors"] = Value(std::move(list));
}

std::shared_ptr<CodeService> code_service(Context& ctx, const std::string& feature) {
  auto codes = find_provider<CodeService>(ctx, kCodeServiceName, kCodeServiceVersion);
  if (!codes)
    ctx.log(LogLevel::kError,
            feature + " needs the natomedia.codes provider (NatoMediaPlugin verification)");
  return codes;
}

std::string code_expiry_text(Context& ctx) {
  const long minutes = (ctx.config().code_lifetime + 59) / 60;
  return text::fill(tr(ctx, "auth.code.expires"), {{"minutes", std::to_string(minutes)}});
}

Status queue_mail(Context& ctx, Sql& sql, const std::string& to, const std::string& lang,
                  const std::string& name, Vars vars) {
  const std::string subject = ctx.i18n().text(lang, "auth.mail." + name + ".subject");
  vars["subject"] = subject;  // the title and heading of mail_top.html
  auto message = compose_mail(ctx.templates(), to, lang, "authentication/mail/" + name, subject,
                              std::move(vars));
  if (!message.ok()) return message.status();
  return ctx.outbox().queue(sql, *message);
}

}  // namespace natomedia::auth
