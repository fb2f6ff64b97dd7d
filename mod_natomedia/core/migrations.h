// Versioned schema migrations. Each owner (the core, each plugin) numbers its migrations from 1;
// schema_migrations records what has been applied. Safe when several children or servers start at
// once: each migration runs in its own transaction, and a migration another process applied first
// is recognised and skipped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <natomedia/services.h>

namespace natomedia::core {

struct OwnedMigration {
  std::string owner;  // "core" or the plugin's name
  Migration migration;
};

struct MigrationReport {
  std::vector<std::string> applied;  // "owner 3: description"
};

Result<MigrationReport> migrate(Sql& sql, const std::vector<OwnedMigration>& migrations);

// The core's own tables (the mail outbox).
std::vector<Migration> core_migrations();

}  // namespace natomedia::core
