#include "schema.h"

namespace natomedia::auth {

namespace {

// Version 2: the credential epoch (CONTRACT section 12, "links die with trust"). Existing accounts
// and grants start at 0, so what was handed out before the upgrade matches until trust changes.
Migration credential_epochs() {
  Migration m;
  m.version = 2;
  m.description = "credential epoch of accounts, bound into reset grants";
  m.sqlite = {
      "ALTER TABLE accounts ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE password_reset_grants ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0"};
  return m;  // the same statements on PostgreSQL
}

// Version 3: what /account/sessions shows of each session (CONTRACT section 13).
Migration session_user_agents() {
  Migration m;
  m.version = 3;
  m.description = "user agent of each session, for the account's list of sessions";
  m.sqlite = {"ALTER TABLE account_sessions ADD COLUMN user_agent VARCHAR(255) NOT NULL DEFAULT ''"};
  return m;  // the same statement on PostgreSQL
}

}  // namespace

std::vector<Migration> schema_migrations() {
  const char* accounts_tail =
      " email VARCHAR(254) NOT NULL UNIQUE,"
      " password_hash VARCHAR(255) NOT NULL,"
      " state VARCHAR(16) NOT NULL DEFAULT 'pending'"
      "   CHECK (state IN ('pending', 'verified', 'disabled')),"
      " created_at BIGINT NOT NULL,"
      " verified_at BIGINT,"
      " password_changed_at BIGINT,"
      " lang VARCHAR(8) NOT NULL DEFAULT 'en')";
  const char* sessions =
      "CREATE TABLE account_sessions ("
      " id_hash CHAR(64) PRIMARY KEY,"
      " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
      " created_at BIGINT NOT NULL,"
      " last_seen BIGINT NOT NULL)";
  const char* grants =
      "CREATE TABLE password_reset_grants ("
      " grant_hash CHAR(64) PRIMARY KEY,"
      " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
      " expires_at BIGINT NOT NULL,"
      " return_to VARCHAR(2048) NOT NULL DEFAULT '/')";
  const char* sessions_index =
      "CREATE INDEX account_sessions_account ON account_sessions (account_id)";
  const char* grants_index =
      "CREATE INDEX password_reset_grants_account ON password_reset_grants (account_id)";
  Migration m;
  m.version = 1;
  m.description = "accounts, sessions and password reset grants";
  m.sqlite = {
      std::string("CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT,") + accounts_tail,
      sessions, sessions_index, grants, grants_index};
  m.pgsql = {std::string("CREATE TABLE accounts (id BIGSERIAL PRIMARY KEY,") + accounts_tail,
             sessions, sessions_index, grants, grants_index};
  return {m, credential_epochs(), session_user_agents()};
}

}  // namespace natomedia::auth
