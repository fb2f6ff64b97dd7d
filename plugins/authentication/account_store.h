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

// The address registered again while its account is pending: the new hash, language and
// created_at (for a pending account, the time of its last registration); the credential epoch
// moves on, as for any new password. False when the account
// is not pending (verified, disabled) or gone.
Result<bool> replace_pending_account(Sql& sql, const std::string& email, const std::string& phc,
                                     const std::string& lang, std::time_t now);

// The opaque name of a registration that Account::registration carries for a pending account
// (a keyed hash of its password hash, so every registration has its own).
std::string registration_of(const Crypto& crypto, const std::string& phc);

// pending -> verified only while the stored hash is still `phc` (the registration a code was
// bound to): true when this call changed the state.
Result<bool> verify_pending_account(Sql& sql, int64_t id, const std::string& phc, std::time_t now);

// A new password: the hash and password_changed_at; the credential epoch moves on, so every
// signed link, reset grant and unsubscribe token made for the account dies (CONTRACT section 12).
// Every path that changes a password goes through here.
Status set_password(Sql& sql, int64_t id, const std::string& phc, std::time_t now);
// A new (normalised) address; the credential epoch moves on as for a new password. Conflict when
// another account has the address. The step after a confirmed email-change code.
Status change_email(Sql& sql, int64_t id, const std::string& email);
// Deletes the pending (never verified) account that holds `email`, if any, with its sessions and
// reset grants: such an address belongs to nobody yet (CONTRACT section 12), so a verified
// account may take it. Returns how many accounts went (0 or 1).
Result<int> delete_pending_account(Sql& sql, const std::string& email);
// The same password hashed with today's parameters (re-hash at sign-in): trust has not changed,
// the epoch stays.
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
