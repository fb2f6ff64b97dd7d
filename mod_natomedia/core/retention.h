// Retention (CONTRACT section 12): the pruners of the core and of the plugins, run together. The
// module runs them from a mod_watchdog singleton (one process per server, every
// NatoMediaPruneInterval); `natomedia-admin db prune` runs the same at once. Each owner keeps the
// knowledge of its own tables: the core prunes the mail outbox (core/mail_outbox.h), each plugin
// registers its rules with PluginHost::on_prune.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::core {

struct OwnedPruner {
  std::string owner;  // "core" or the plugin's name
  Pruner pruner;
};

struct PruneOutcome {
  std::vector<Pruned> removed;      // every pruner's counts, in registration order
  std::vector<std::string> errors;  // "owner: message" for each pruner that failed
  int64_t total() const;
};

// Runs every pruner in its own transaction on `sql` (a connection of the caller's, outside any
// transaction). A pruner that fails is rolled back and named in `errors`; the others still run.
PruneOutcome prune(Sql& sql, const std::vector<OwnedPruner>& pruners, const SiteConfig& config,
                   std::time_t now);

// One line for the error log: "pruned 3 rows: 1 pending accounts, 2 expired sessions".
std::string describe(const PruneOutcome& outcome);

}  // namespace natomedia::core
