#include "core/request_context.h"

#include <natomedia/text.h>

#include "core/account_events.h"
#include "core/metrics_registry.h"
#include "core/request_parsing.h"
#include "core/sql_dbd.h"

namespace natomedia::core {

namespace {

// Whether a page's vars name a field's error: a truthy "..._error" or "..._errors" var (the
// convention of every form template), or the plugin's own "form_failed".
bool has_field_errors(const Vars& vars) {
  for (const auto& [name, value] : vars) {
    if (!value.truthy()) continue;
    if (name == "form_failed") return true;
    for (std::string_view suffix : {std::string_view("_error"), std::string_view("_errors")})
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        return true;
  }
  return false;
}

}  // namespace

static const char* kCsrfCookie = "nm_csrf";
static const char* kLangCookie = "nm_lang";

RequestContext::RequestContext(const Services& services, const Site& site, Request request,
                               const SqlFactory& sql_factory, Logger& logger)
    : services_(services), site_(site), request_(std::move(request)),
      sql_factory_(sql_factory), logger_(logger) {
  if (auto b = cookie(kCsrfCookie)) csrf_binding_ = *b;
}

Sql& RequestContext::sql() {
  if (!sql_) {
    sql_ = sql_factory_ ? sql_factory_() : nullptr;
    if (!sql_) {
      services_.metrics->add("natomedia_sql_errors_total");
      sql_ = std::make_unique<UnavailableSql>("no database connection (see the error log)");
    }
  }
  return *sql_;
}

Metrics& RequestContext::metrics() { return *services_.metrics; }

std::optional<Account> RequestContext::account() {
  if (!account_known_) {
    account_known_ = true;
    const auto& identity = services_.extensions->identity;
    if (identity) {
      auto resolved = identity->resolve(*this);
      if (resolved.ok()) {
        account_ = std::move(resolved.value());
        if (account_) private_answer_ = true;  // pages show the account
      } else {
        account_unknowable_ = true;
        log(LogLevel::kWarning, "who is signed in cannot be told: " + resolved.status().message());
      }
    }
  }
  return account_;
}

Response RequestContext::unavailable(long retry_after_seconds) {
  Response r = error(503, "error.503.message");
  r.header("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

Response RequestContext::sign_in_required(const std::string& return_to) {
  if (account_unknowable_) return unavailable(30);
  return Response::Redirect(url("/account/login") + "?return_to=" + text::url_encode(return_to));
}

Status RequestContext::emit(const AccountEventData& event) {
  return emit_event(*services_.extensions, *this, event);
}

Result<Value::Map> RequestContext::account_data(const Account& account) {
  return collect_account_data(*services_.extensions, *this, account);
}

std::shared_ptr<void> RequestContext::provider(const std::string& name, int version) const {
  return registered_provider(*services_.extensions, name, version);
}

std::string RequestContext::cookie_name(const std::string& name) const {
  // RFC 6265bis: __Host- cookies are Secure, host-only and Path=/, so no subdomain can plant them.
  return request_.https ? "__Host-" + name : name;
}

void RequestContext::set_cookie(const CookieSpec& c) {
  if (c.name != kLangCookie) private_answer_ = true;
  // Later calls to cookie() in this request see the new value (a sign-in, then the page).
  set_values_[c.name] = c.max_age == 0 ? std::nullopt : std::optional<std::string>(c.value);
  std::string v = cookie_name(c.name) + "=" + c.value + "; Path=/";
  if (c.max_age >= 0) v += "; Max-Age=" + std::to_string(c.max_age);
  if (c.http_only) v += "; HttpOnly";
  if (!c.same_site.empty()) v += "; SameSite=" + c.same_site;
  if (request_.https) v += "; Secure";
  set_cookies_.push_back(std::move(v));
}

std::optional<std::string> RequestContext::cookie(const std::string& name) const {
  auto set = set_values_.find(name);
  if (set != set_values_.end()) return set->second;
  return request_.cookies.get(cookie_name(name));
}

std::string RequestContext::csrf_token() {
  private_answer_ = true;
  if (csrf_binding_.empty()) rotate_csrf();
  return services_.crypto->sign("csrf", csrf_binding_);
}

void RequestContext::rotate_csrf() { set_csrf_binding(services_.crypto->random_token(16)); }

void RequestContext::set_csrf_binding(std::string binding) {
  csrf_binding_ = std::move(binding);
  set_cookie({kCsrfCookie, csrf_binding_, -1, true, "Lax"});
}

bool RequestContext::csrf_valid() const {
  auto token = request_.form.get("csrf_token");
  if (!token || csrf_binding_.empty()) return false;
  return services_.crypto->verify("csrf", csrf_binding_, *token);
}

// This page in another language: the same path and query, with lang= replaced; or, when the
// handler set `to` (a base-relative path and query, for an answer to a POST, whose own URL would
// show another page), that path with lang= added.
std::string RequestContext::lang_switch_url(const std::string& lang, const std::string& to) const {
  if (!to.empty() && to[0] == '/') {
    std::string path = to;
    const size_t q = path.find('?');
    std::string kept;
    if (q != std::string::npos) {
      Params params;
      (void)parse_urlencoded(path.substr(q + 1), params);
      path.resize(q);
      for (const auto& [name, value] : params.items())
        if (name != "lang") kept += text::url_encode(name) + "=" + text::url_encode(value) + "&";
    }
    return request_.base_path + path + "?" + kept + "lang=" + lang;
  }
  std::string query;
  for (const auto& [name, value] : request_.query.items()) {
    if (name == "lang") continue;
    query += text::url_encode(name) + "=" + text::url_encode(value) + "&";
  }
  return request_.base_path + request_.path + "?" + query + "lang=" + lang;
}

Response RequestContext::page(int status, const std::string& tmpl, Vars vars) {
  const std::string& lang = request_.lang;
  const std::vector<std::string> languages = services_.i18n->languages();
  std::string other = lang == "en" ? "fr" : "en";
  if (languages.size() == 1) other = languages.front();
  std::string switch_to;
  if (auto it = vars.find("lang_switch_to"); it != vars.end()) switch_to = it->second.str();
  // Every other language the catalogue has, named in its own language (the language switcher).
  const std::string english_name = services_.i18n->text("en", "lang.name");
  Value::List others;
  for (const std::string& l : languages) {
    if (l == lang) continue;
    std::string name = services_.i18n->text(l, "lang.name");
    if (l != "en" && name == english_name) name = l;  // a catalogue without its own name
    others.emplace_back(Value::Map{{"code", l}, {"name", name},
                                   {"url", lang_switch_url(l, switch_to)}});
  }
  vars["languages"] = Value(std::move(others));
  // A form sent back with a refusal (4xx, not the error page): the title says so first, and,
  // when the page names a field's error (a var "..._error" or "..._errors", or the plugin's own
  // "form_failed"), the header puts an error summary at the top of the page that takes the
  // focus. A 4xx page that is not a form (a quota refusal, a dead link) has no summary box.
  if (status >= 400 && status < 500 && tmpl != "core/error.html") {
    if (has_field_errors(vars)) vars["form_failed"] = true;
    std::string title;
    if (auto it = vars.find("title"); it != vars.end()) title = it->second.str();
    vars["title"] = services_.i18n->text(lang, "error.title.prefix") + " " + title;
  }
  vars["lang"] = lang;
  vars["base"] = request_.base_path;
  // The token is minted for the page but kept (binding cookie, no-store) only when the page
  // shows it: a public page that has no form stays free of cookies and cacheable.
  const std::string binding =
      csrf_binding_.empty() ? services_.crypto->random_token(16) : csrf_binding_;
  const std::string token = services_.crypto->sign("csrf", binding);
  vars["csrf_token"] = token;
  vars["lang_switch_url"] = lang_switch_url(other, switch_to);
  vars["lang_switch_code"] = other;
  vars["path"] = request_.path;
  if (auto a = account()) {
    vars["signed_in"] = true;
    vars["account_email"] = a->email;
  }
  Response r;
  r.status = status;
  auto html = services_.templates->render(tmpl, vars, lang);
  if (!html.ok()) {
    log(LogLevel::kError, "template " + tmpl + ": " + html.status().message());
    r.status = 500;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Internal error: a page template is broken. The error log says which.\n";
    return r;
  }
  r.body = std::move(*html);
  if (r.body.find(text::html_escape(token)) != std::string::npos) {
    private_answer_ = true;
    if (binding != csrf_binding_) set_csrf_binding(binding);
  }
  add_page_headers(r);
  return r;
}

Response RequestContext::error(int status, const std::string& message_key) {
  const std::string code = std::to_string(status);
  Vars vars;
  vars["status"] = code;
  vars["title"] = services_.i18n->text(request_.lang, "error." + code + ".title");
  vars["message"] = services_.i18n->text(request_.lang, message_key);
  return page(status, "core/error.html", std::move(vars));
}

}  // namespace natomedia::core
