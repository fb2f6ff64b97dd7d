// The accounts table (see schema.h): every statement the plugin runs on it. Each call takes the
// connection to use, so callers choose the transaction.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <natomedia/services.h>

namespace natomedia::auth {

struct StoredAccount {
  Account account;
  std::string password_hash;  // argon2id PHC string
};

// NotFound when no account has this (normalised) address.
Result<StoredAccount> find_account_by_email(Sql& sql, const std::string& email);
Result<StoredAccount> find_account_by_id(Sql& sql, int64_t id);

// A new pending account; Conflict when the address is taken.
Result<Account> insert_account(Sql& sql, const std::string& email, const std::string& phc,
                               const std::string& lang, std::time_t now);

// A new password: the hash and password_changed_at.
Status set_password(Sql& sql, int64_t id, const std::string& phc, std::time_t now);
// The same password hashed with today's parameters (re-hash at sign-in).
Status replace_password_hash(Sql& sql, int64_t id, const std::string& phc);

// pending -> verified; true when this call changed the state.
Result<bool> mark_account_verified(Sql& sql, int64_t id, std::time_t now);

// A pending account belongs to nobody for this long after its last registration (created_at),
// then it is deleted (CONTRACT section 12).
inline constexpr std::time_t kPendingAccountLifetime = 7 * 86400;

// Deletes the accounts still pending kPendingAccountLifetime after created_at, with their
// sessions and reset grants (SQLite does not cascade); returns how many accounts went.
Result<int> delete_stale_pending_accounts(Sql& sql, std::time_t now);

}  // namespace natomedia::auth
