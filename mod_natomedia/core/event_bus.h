// Account events: listeners registered at configuration time, called in plugin load order.
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
};

}  // namespace natomedia::core
