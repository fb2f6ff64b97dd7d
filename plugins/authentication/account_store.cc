#include "account_store.h"

#include <natomedia/text.h>

namespace natomedia::auth {

namespace {

constexpr const char* kColumns =
    "SELECT id, email, password_hash, state, lang, credential_epoch FROM accounts ";

Result<StoredAccount> first_account(Result<SqlRows> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no such account");
  StoredAccount a;
  a.account.id = rows->integer(0, "id");
  a.account.email = rows->text(0, "email");
  a.account.state = rows->text(0, "state");
  a.account.lang = rows->text(0, "lang");
  a.account.credential_epoch = rows->integer(0, "credential_epoch");
  a.password_hash = rows->text(0, "password_hash");
  return a;
}

}  // namespace

Result<StoredAccount> find_account_by_email(Sql& sql, const std::string& email) {
  return first_account(sql.query(std::string(kColumns) + "WHERE email = %s", {email}));
}

Result<StoredAccount> find_account_by_id(Sql& sql, int64_t id) {
  return first_account(sql.query(std::string(kColumns) + "WHERE id = %s", {std::to_string(id)}));
}

Result<Account> insert_account(Sql& sql, const std::string& email, const std::string& phc,
                               const std::string& lang, std::time_t now) {
  auto inserted = sql.exec(
      "INSERT INTO accounts (email, password_hash, state, created_at, lang) "
      "VALUES (%s, %s, 'pending', %s, %s)",
      {email, phc, std::to_string(now), lang});
  if (!inserted.ok()) return inserted.status();
  // The new id, read back by the unique address (no RETURNING: the same on both databases).
  auto stored = find_account_by_email(sql, email);
  if (!stored.ok()) return stored.status();
  return stored->account;
}

Result<bool> replace_pending_account(Sql& sql, const std::string& email, const std::string& phc,
                                     const std::string& lang, std::time_t now) {
  auto changed = sql.exec(
      "UPDATE accounts SET password_hash = %s, lang = %s, created_at = %s, "
      "credential_epoch = credential_epoch + 1 WHERE email = %s AND state = 'pending'",
      {phc, lang, std::to_string(now), email});
  if (!changed.ok()) return changed.status();
  return *changed == 1;
}

std::string registration_of(const Crypto& crypto, const std::string& phc) {
  return text::hex_encode(crypto.hmac("auth.registration", phc)).substr(0, 32);
}

Result<bool> verify_pending_account(Sql& sql, int64_t id, const std::string& phc, std::time_t now) {
  auto changed = sql.exec(
      "UPDATE accounts SET state = 'verified', verified_at = %s "
      "WHERE id = %s AND state = 'pending' AND password_hash = %s",
      {std::to_string(now), std::to_string(id), phc});
  if (!changed.ok()) return changed.status();
  return *changed == 1;
}

Status set_password(Sql& sql, int64_t id, const std::string& phc, std::time_t now) {
  auto changed = sql.exec(
      "UPDATE accounts SET password_hash = %s, password_changed_at = %s, "
      "credential_epoch = credential_epoch + 1 WHERE id = %s",
      {phc, std::to_string(now), std::to_string(id)});
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? Status::Ok() : Status::NotFound("no such account");
}

Status change_email(Sql& sql, int64_t id, const std::string& email) {
  auto changed = sql.exec(
      "UPDATE accounts SET email = %s, credential_epoch = credential_epoch + 1 WHERE id = %s",
      {email, std::to_string(id)});
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? Status::Ok() : Status::NotFound("no such account");
}

Result<int> delete_pending_account(Sql& sql, const std::string& email) {
  const char* pending = "SELECT id FROM accounts WHERE email = %s AND state = 'pending'";
  for (const char* table : {"account_sessions", "password_reset_grants"}) {
    auto r = sql.exec(std::string("DELETE FROM ") + table + " WHERE account_id IN (" + pending +
                          ")",
                      {email});
    if (!r.ok()) return r.status();
  }
  return sql.exec("DELETE FROM accounts WHERE email = %s AND state = 'pending'", {email});
}

Status replace_password_hash(Sql& sql, int64_t id, const std::string& phc) {
  auto changed =
      sql.exec("UPDATE accounts SET password_hash = %s WHERE id = %s", {phc, std::to_string(id)});
  return changed.ok() ? Status::Ok() : changed.status();
}

Result<bool> mark_account_verified(Sql& sql, int64_t id, std::time_t now) {
  auto changed = sql.exec(
      "UPDATE accounts SET state = 'verified', verified_at = %s "
      "WHERE id = %s AND state = 'pending'",
      {std::to_string(now), std::to_string(id)});
  if (!changed.ok()) return changed.status();
  return *changed == 1;
}

Result<int> delete_stale_pending_accounts(Sql& sql, std::time_t now) {
  const std::string cutoff = std::to_string(now - kPendingAccountLifetime);
  const char* stale = "SELECT id FROM accounts WHERE state = 'pending' AND created_at <= %s";
  for (const char* table : {"account_sessions", "password_reset_grants"}) {
    auto r = sql.exec(std::string("DELETE FROM ") + table + " WHERE account_id IN (" + stale + ")",
                      {cutoff});
    if (!r.ok()) return r.status();
  }
  return sql.exec("DELETE FROM accounts WHERE state = 'pending' AND created_at <= %s", {cutoff});
}

}  // namespace natomedia::auth
