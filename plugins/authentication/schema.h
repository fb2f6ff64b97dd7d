// The plugin's tables, as migrations the core applies at start-up (SQLite and PostgreSQL 15).
//
//   accounts               one row per address: email (normalised, unique), password_hash (argon2id
//                          PHC string), state (pending | verified | disabled), created_at,
//                          verified_at, password_changed_at (Unix seconds), lang ("en" | "fr"),
//                          credential_epoch (moves on when the password or address changes or
//                          the account is disabled: every link, grant and token made for an
//                          earlier epoch is dead)
//   account_sessions       id_hash (SHA-256 hex of the cookie's 128-bit id; the id itself is never
//                          stored), account_id, created_at, last_seen
//   password_reset_grants  grant_hash (SHA-256 hex of the browser's grant cookie), account_id,
//                          expires_at, return_to, credential_epoch (the account's when issued)
#pragma once

#include <vector>

#include <natomedia/services.h>

namespace natomedia::auth {

std::vector<Migration> schema_migrations();

}  // namespace natomedia::auth
