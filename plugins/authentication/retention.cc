#include "retention.h"

#include "account_store.h"
#include "reset_grant.h"
#include "sessions.h"

namespace natomedia::auth {

Result<std::vector<Pruned>> prune(Sql& sql, const SiteConfig& config, std::time_t now) {
  auto accounts = delete_stale_pending_accounts(sql, now);
  if (!accounts.ok()) return accounts.status();
  auto sessions = delete_expired_sessions(sql, config, now);
  if (!sessions.ok()) return sessions.status();
  auto grants = delete_expired_grants(sql, now);
  if (!grants.ok()) return grants.status();
  return std::vector<Pruned>{{"pending accounts", *accounts},
                             {"expired sessions", *sessions},
                             {"expired reset grants", *grants}};
}

}  // namespace natomedia::auth
