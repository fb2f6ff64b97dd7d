// Route table: (method, path pattern) -> handler. Built at configuration time, then read-only
// and shared by every request thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::core {

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // pattern split on '/'; "{name}" matches one segment
    Handler handler;
    RouteOptions options;
    std::string plugin;
  };

  struct Match {
    const Route* route = nullptr;  // null: no route for this method (see allowed) or no path
    Params params;
    std::vector<std::string> allowed;  // methods that would match the path (for 405 + Allow)
  };

  // Invalid when the pattern is malformed or the same method and pattern exist already.
  Status add(const std::string& plugin, const std::string& method, const std::string& pattern,
             Handler handler, RouteOptions options);
  Match match(const std::string& method, const std::string& path) const;
  // Whether `path` lies in the portal's namespace: its first segment is one a route begins with.
  // Under an empty base path the portal answers (404, 405) only there and declines the rest.
  // No allocation: httpd asks this for every request it serves.
  bool owns(std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Splits "/a/b/" into {"a", "b", ""}: a trailing slash is a segment of its own, so "/news/" and
// "/news" are different routes, as they are different URLs.
std::vector<std::string> split_path(const std::string& path);

}  // namespace natomedia::core
