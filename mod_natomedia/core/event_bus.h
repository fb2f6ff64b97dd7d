// Account events and exporters: registered at configuration time, called in plugin load order
// (core/account_events.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::core {

// What plugins registered through PluginHost, apart from routes: shared read-only by requests.
struct Extensions {
  std::vector<std::pair<AccountEvent, std::pair<std::string, EventListener>>> listeners;
  std::shared_ptr<IdentityProvider> identity;
  std::map<std::pair<std::string, int>, std::shared_ptr<void>> providers;
  // (plugin name, its part of the account export), in load order; at most one per plugin.
  std::vector<std::pair<std::string, AccountExporter>> exporters;
};

}  // namespace natomedia::core
