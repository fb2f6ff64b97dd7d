#include "core/migrations.h"

#include <algorithm>
#include <map>

namespace natomedia::core {

static const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " owner VARCHAR(64) NOT NULL, version INTEGER NOT NULL, description VARCHAR(200) NOT NULL,"
    " applied_at BIGINT NOT NULL, PRIMARY KEY (owner, version))";

static Result<bool> is_applied(Sql& sql, const std::string& owner, int version) {
  auto rows = sql.query("SELECT 1 FROM schema_migrations WHERE owner = %s AND version = %s",
                        {owner, std::to_string(version)});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

static Status apply_one(Sql& sql, const OwnedMigration& m) {
  const auto& stmts = sql.driver() == "pgsql" && !m.migration.pgsql.empty() ? m.migration.pgsql
                                                                             : m.migration.sqlite;
  return transaction(sql, [&]() -> Status {
    if (sql.driver() == "pgsql") {
      // Serialises migrations across servers sharing the database.
      auto lock = sql.query("SELECT pg_advisory_xact_lock(727274)");
      if (!lock.ok()) return lock.status();
    }
    auto applied = is_applied(sql, m.owner, m.migration.version);
    if (!applied.ok()) return applied.status();
    if (*applied) return Status::Conflict("already applied");
    for (const auto& s : stmts) {
      auto r = sql.exec(s);
      if (!r.ok())
        return Status::Internal("migration " + m.owner + " " + std::to_string(m.migration.version) +
                                " (" + m.migration.description + "): " + r.status().message());
    }
    auto r = sql.exec(
        "INSERT INTO schema_migrations (owner, version, description, applied_at) VALUES "
        "(%s, %s, %s, %s)",
        {m.owner, std::to_string(m.migration.version), m.migration.description,
         std::to_string(static_cast<long long>(time(nullptr)))});
    return r.ok() ? Status::Ok() : r.status();
  });
}

Result<MigrationReport> migrate(Sql& sql, const std::vector<OwnedMigration>& migrations) {
  auto created = sql.exec(kCreateTable);
  if (!created.ok()) {
    // Another process may have created it at the same moment.
    auto check = sql.query("SELECT COUNT(*) AS n FROM schema_migrations");
    if (!check.ok()) return created.status();
  }
  // Owners in the order they registered (core first, then plugins in load order); each owner's
  // migrations by version.
  std::map<std::string, size_t> rank;
  for (const auto& m : migrations) rank.emplace(m.owner, rank.size());
  std::vector<OwnedMigration> ordered = migrations;
  std::stable_sort(ordered.begin(), ordered.end(), [&](const auto& a, const auto& b) {
    if (a.owner != b.owner) return rank[a.owner] < rank[b.owner];
    return a.migration.version < b.migration.version;
  });
  MigrationReport report;
  for (const auto& m : ordered) {
    auto applied = is_applied(sql, m.owner, m.migration.version);
    if (!applied.ok()) return applied.status();
    if (*applied) continue;
    Status s = apply_one(sql, m);
    if (s.ok()) {
      report.applied.push_back(m.owner + " " + std::to_string(m.migration.version) + ": " +
                               m.migration.description);
      continue;
    }
    auto now_applied = is_applied(sql, m.owner, m.migration.version);
    if (now_applied.ok() && *now_applied) continue;  // a concurrent process won the race
    return s;
  }
  return report;
}

// The outbox table; only the self-numbering id column differs between the two databases.
static std::vector<std::string> outbox_statements(const std::string& id_column) {
  return {
      "CREATE TABLE mail_outbox ("
      " id " + id_column + ","
      " recipient VARCHAR(320) NOT NULL,"
      " subject VARCHAR(998) NOT NULL,"
      " message TEXT NOT NULL,"
      " status VARCHAR(16) NOT NULL DEFAULT 'queued',"
      " attempts INTEGER NOT NULL DEFAULT 0,"
      " created_at BIGINT NOT NULL,"
      " next_attempt_at BIGINT NOT NULL,"
      " sent_at BIGINT,"
      " last_error VARCHAR(1000))",
      "CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at, id)",
  };
}

std::vector<Migration> core_migrations() {
  Migration outbox;
  outbox.version = 1;
  outbox.description = "mail outbox";
  outbox.sqlite = outbox_statements("INTEGER PRIMARY KEY AUTOINCREMENT");
  outbox.pgsql = outbox_statements("BIGSERIAL PRIMARY KEY");
  // Claims let several servers sharing one database deliver the outbox without sending a
  // message twice (see MailSender).
  Migration claims;
  claims.version = 2;
  claims.description = "mail outbox claims";
  claims.sqlite = {
      "ALTER TABLE mail_outbox ADD COLUMN claimed_by VARCHAR(100)",
      "ALTER TABLE mail_outbox ADD COLUMN claimed_until BIGINT",
  };
  // No codes at rest (CONTRACT section 12): a delivered message loses its text, a failed one
  // keeps it for a day after failed_at. Rows that failed before failed_at existed count from
  // the earliest moment they could have failed (24 hours after they were queued); messages
  // delivered before this version lose their text now.
  Migration at_rest;
  at_rest.version = 3;
  at_rest.description = "mail outbox: failed_at, delivered texts emptied";
  at_rest.sqlite = {
      "ALTER TABLE mail_outbox ADD COLUMN failed_at BIGINT",
      "UPDATE mail_outbox SET failed_at = created_at + 86400 WHERE status = 'failed'",
      "UPDATE mail_outbox SET message = '' WHERE status = 'sent'",
  };
  return {outbox, claims, at_rest};
}

}  // namespace natomedia::core
