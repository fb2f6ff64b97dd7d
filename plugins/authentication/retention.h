// The authentication plugin's retention rules (CONTRACT section 12), registered with
// PluginHost::on_prune: pending accounts 7 days after their last registration, sessions past
// their idle or absolute lifetime, expired reset grants.
#pragma once

#include <ctime>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::auth {

// Counts "pending accounts", "expired sessions", "expired reset grants".
Result<std::vector<Pruned>> prune(Sql& sql, const SiteConfig& config, std::time_t now);

}  // namespace natomedia::auth
