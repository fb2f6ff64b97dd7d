// The one erasure of an account (CONTRACT section 13) and the plugin's part of the account export.
// POST /account/delete and `natomedia-admin accounts delete` both run erase_account, through the
// "natomedia.accounts" provider: every plugin hears AccountEvent::kDeleted and erases what it
// keeps, so a third-party plugin's data goes too, whichever door the erasure came through.
#include <ctime>
#include <string>
#include <vector>

#include <natomedia/json.h>

#include "account_service.h"
#include "account_store.h"
#include "routes.h"
#include "sessions.h"

namespace natomedia::auth {

Result<AccountErasure> erase_account(Context& ctx, const Account& account) {
  Sql& sql = ctx.sql();
  const bool sqlite = sql.driver() == "sqlite3";
  // SQLite keeps deleted rows' bytes in free space until reused; with secure_delete (Debian's
  // default for every connection, SQLITE_SECURE_DELETE) it overwrites them with zeros, so the
  // file keeps no copy of what was erased.
  if (sqlite) (void)sql.query("PRAGMA secure_delete = ON");
  AccountErasure erased;
  Status s = transaction(sql, [&]() -> Status {
    // Every plugin's part first, while the account row is there to refer to.
    Status told = ctx.emit({AccountEvent::kDeleted, account});
    if (!told.ok()) return told;
    const std::vector<SqlValue> id = {std::to_string(account.id)};
    auto sessions = sql.exec("DELETE FROM account_sessions WHERE account_id = %s", id);
    if (!sessions.ok()) return sessions.status();
    auto grants = sql.exec("DELETE FROM password_reset_grants WHERE account_id = %s", id);
    if (!grants.ok()) return grants.status();
    // Mail to the address, sent or not: a row names the address (and an unsent one may hold a
    // code); it goes too.
    auto mails = sql.exec("DELETE FROM mail_outbox WHERE LOWER(recipient) = %s", {account.email});
    if (!mails.ok()) return mails.status();
    auto gone = sql.exec("DELETE FROM accounts WHERE id = %s", id);
    if (!gone.ok()) return gone.status();
    if (*gone != 1) return Status::NotFound("the account " + account.email + " is gone already");
    erased = {*sessions, *grants, *mails};
    return Status::Ok();
  });
  if (!s.ok()) return s;
  // Committed: every child of this server forgets the account's sessions now, whoever erased it
  // (outside httpd there is no cache here: the server's own entries expire within its timeout).
  account_sessions_ended(ctx, account.id);
  // In WAL mode the log still holds pages as they were before the erasure; a checkpoint that
  // truncates it leaves the erased rows nowhere. Best effort: a reader in another process may
  // hold the log; the erasure itself is done.
  if (sqlite) (void)sql.query("PRAGMA wal_checkpoint(TRUNCATE)");
  return erased;
}

Result<AccountErasure> AccountServiceImpl::erase(Context& ctx, const Account& account) {
  return erase_account(ctx, account);
}

// The account and its live sessions, without a secret: no password hash, no session id.
Result<Value> export_account(Context& ctx, const Account& account) {
  auto row = ctx.sql().query(
      "SELECT created_at, verified_at, password_changed_at FROM accounts WHERE id = %s",
      {std::to_string(account.id)});
  if (!row.ok()) return row.status();
  if (row->empty()) return Status::NotFound("the account is gone");
  auto sessions = list_sessions(ctx, account.id);
  if (!sessions.ok()) return sessions.status();
  Value::List list;
  for (const SessionInfo& si : *sessions)
    list.emplace_back(Value::Map{{"created", json::utc_time(si.created_at)},
                                 {"last_seen", json::utc_time(si.last_seen)},
                                 {"user_agent", si.user_agent},
                                 {"this_one", si.current}});
  Value::Map who{{"email", account.email},
                 {"state", account.state},
                 {"language", account.lang},
                 {"created", json::utc_time(row->integer(0, "created_at"))},
                 {"verified", json::utc_time(row->integer(0, "verified_at"))},
                 {"password_changed", json::utc_time(row->integer(0, "password_changed_at"))}};
  return Value(
      Value::Map{{"account", Value(std::move(who))}, {"sessions", Value(std::move(list))}});
}

}  // namespace natomedia::auth
