#include "core/router.h"

#include <algorithm>

namespace natomedia::core {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

static bool is_placeholder(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

Status Router::add(const std::string& plugin, const std::string& method,
                   const std::string& pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern[0] != '/')
    return Status::Invalid("route pattern '" + pattern + "' must start with '/'");
  if (method.empty() || !std::all_of(method.begin(), method.end(), ::isupper))
    return Status::Invalid("route method '" + method + "' must be an upper-case HTTP method");
  if (!handler) return Status::Invalid("route " + method + " " + pattern + " has no handler");
  for (const auto& r : routes_)
    if (r.method == method && r.pattern == pattern)
      return Status::Invalid("route " + method + " " + pattern + " is registered twice (by " +
                             r.plugin + " and " + plugin + ")");
  routes_.push_back({method, pattern, split_path(pattern), std::move(handler), options, plugin});
  return Status::Ok();
}

static bool matches(const Router::Route& route, const std::vector<std::string>& segs,
                    Params* params) {
  if (route.segments.size() != segs.size()) return false;
  Params found;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& want = route.segments[i];
    if (is_placeholder(want)) {
      if (segs[i].empty()) return false;
      found.add(want.substr(1, want.size() - 2), segs[i]);
    } else if (want != segs[i]) {
      return false;
    }
  }
  if (params) *params = std::move(found);
  return true;
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match m;
  const std::vector<std::string> segs = split_path(path);
  // HEAD is answered by the GET handler; httpd drops the body.
  const std::string& effective = method == "HEAD" ? std::string("GET") : method;
  for (const auto& route : routes_) {
    if (!matches(route, segs, nullptr)) continue;
    if (std::find(m.allowed.begin(), m.allowed.end(), route.method) == m.allowed.end())
      m.allowed.push_back(route.method);
    if (route.method == effective && !m.route) {
      matches(route, segs, &m.params);
      m.route = &route;
    }
  }
  if (std::find(m.allowed.begin(), m.allowed.end(), "GET") != m.allowed.end())
    m.allowed.push_back("HEAD");
  return m;
}

bool Router::owns(std::string_view path) const {
  // The first segment as split_path() cuts it.
  const size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  const size_t slash = path.find('/', start);
  const std::string_view first =
      path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
  for (const auto& route : routes_) {
    const std::string& own = route.segments.front();
    if (!is_placeholder(own) && std::string_view(own) == first) return true;
  }
  return false;
}

}  // namespace natomedia::core
