#include "core/visitor.h"

#include <natomedia/providers.h>
#include <natomedia/text.h>

#include "core/request_context.h"

namespace natomedia::core {

Visitor::Visitor(const Services& services, const Site& site, const IncomingRequest& in,
                 SqlFactory sql_factory, Logger& logger)
    : sql_factory_(std::move(sql_factory)),
      ctx_(std::make_unique<RequestContext>(services, site, make_request(site, in, nullptr,
                                                     services.i18n ? services.i18n->languages()
                                                                   : std::vector<std::string>{}), sql_factory_,
                                            logger)) {}

Visitor::~Visitor() = default;

std::optional<Account> Visitor::account() { return ctx_->account(); }

KnownAccount Visitor::known() { return ctx_->known_account(); }

Result<bool> Visitor::subscribed() {
  auto account = ctx_->account();
  if (!account) return false;
  auto newsletter =
      find_provider<NewsletterService>(*ctx_, kNewsletterServiceName, kNewsletterServiceVersion);
  if (!newsletter) return Status::Unavailable("no loaded plugin offers natomedia.newsletter");
  return newsletter->subscribed(*ctx_, account->id);
}

Response Visitor::refusal(const std::string& path, const std::string& query,
                          const std::string& accept) {
  Response r = ctx_->sign_in_required(return_to_for(ctx_->request().base_path, path, query));
  r.header("Vary", "Accept, Cookie");
  r.header("Cache-Control", "no-store");
  if (r.status != 303 || accepts_html(accept)) return r;
  std::string location;
  for (const auto& [name, value] : r.headers)
    if (name == "Location") location = value;
  Response api;
  api.status = 401;
  api.content_type = "text/plain; charset=utf-8";
  api.body = "Sign in first: " + location + "\n";
  api.header("WWW-Authenticate", "NatoMedia sign_in=\"" + location + "\"");
  api.header("Link", "<" + location + ">; rel=\"login\"");
  api.header("Vary", "Accept, Cookie");
  api.header("Cache-Control", "no-store");
  return api;
}

std::string remote_user(const Account& account, RemoteUser mode) {
  return mode == RemoteUser::kId ? std::to_string(account.id) : account.email;
}

bool accepts_html(const std::string& accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string::npos) end = accept.size();
    const std::string range(accept, start, end - start);
    const size_t semi = range.find(';');
    if (text::lower_ascii(text::trim(range.substr(0, semi))) == "text/html") {
      if (semi == std::string::npos) return true;
      // q=0 (or 0.0…) means "not acceptable".
      const std::string params = text::lower_ascii(range.substr(semi));
      const size_t q = params.find("q=");
      if (q == std::string::npos) return true;
      for (size_t i = q + 2; i < params.size() && params[i] != ';'; ++i)
        if (params[i] >= '1' && params[i] <= '9') return true;
      return false;
    }
    start = end + 1;
  }
  return false;
}

std::string return_to_for(const std::string& base_path, const std::string& path,
                          const std::string& query) {
  std::string rel = path;
  if (!base_path.empty()) {
    if (path.compare(0, base_path.size(), base_path) != 0) return "/";
    rel = path.substr(base_path.size());
    if (rel.empty()) rel = "/";
    if (rel[0] != '/') return "/";
  }
  return query.empty() ? rel : rel + "?" + query;
}

}  // namespace natomedia::core
