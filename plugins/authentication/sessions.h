// Server-side sessions (CONTRACT section 5). The browser holds a 128-bit random id in the
// nm_session cookie (HttpOnly, SameSite=Lax, Path=/; the core adds Secure and __Host- on HTTPS);
// the database holds only its SHA-256, so a leaked table signs nobody in. Sessions live in SQL:
// they survive httpd and memcached restarts and are valid on every node sharing the database.
// What SQL said of a session is kept in the server's shared-memory cache (session_cache.h) for
// NatoMediaSessionCacheTimeout seconds, so a request with the cookie does not read SQL each time.
//
// Every session end goes through this file, and every one made in this server drops the cache's
// entries in the same step, once the SQL change has committed: end_session does it itself; after
// end_all_sessions, end_other_sessions or any change of an account, the caller calls
// account_sessions_ended once its change has committed (a request that read SQL before the
// commit could otherwise have cached the old state).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::auth {

inline constexpr const char* kSessionCookie = "nm_session";
// Seconds between two writes of last_seen: idle time is tracked to this precision.
inline constexpr long kLastSeenGranularity = 60;

// Signs `account` in on this browser: a new id (the old session of this browser, if any, is
// deleted), the cookie, a new CSRF binding. The account must be verified.
Status start_session(Context& ctx, const Account& account);

// The verified account of this browser's live session, or nullopt; Unavailable when the session
// cannot be read (the database is down). Expired sessions (idle longer than session_idle, or
// older than session_max) are deleted on sight.
Result<std::optional<Account>> resolve_session(Context& ctx);

// Signs this browser out: its session row is deleted (autocommit, not inside a transaction), its
// cache entry dropped, and the cookie cleared.
void end_session(Context& ctx);

// Deletes every session of the account, on every browser (password reset), with `sql` inside
// the caller's transaction: call account_sessions_ended(ctx, account_id) after it commits.
Status end_all_sessions(Sql& sql, int64_t account_id);

// Deletes every session of the account but this browser's; returns how many. Like
// end_all_sessions, call account_sessions_ended(ctx, account_id) once the change has committed
// (right after, when this ran alone; after the caller's transaction otherwise).
Result<int> end_other_sessions(Context& ctx, int64_t account_id);

// The sessions of the account ended, or what a session shows of the account changed (password,
// address, state, credential epoch, deletion): every child of this server stops believing the
// cached sessions of the account now. Call it after the SQL change has committed. Changes made
// outside this server reach it within NatoMediaSessionCacheTimeout instead.
void account_sessions_ended(Context& ctx, int64_t account_id);

// One session of an account as /account/sessions shows it (no secret: the id hash stays in SQL).
struct SessionInfo {
  long long created_at = 0;
  long long last_seen = 0;
  std::string user_agent;
  bool current = false;  // this browser's
};

// The account's live sessions, newest first.
Result<std::vector<SessionInfo>> list_sessions(Context& ctx, int64_t account_id);

// Deletes every session past its idle or absolute lifetime at `now` (the rule resolve_session
// applies on sight); returns how many went.
Result<int> delete_expired_sessions(Sql& sql, const SiteConfig& config, std::time_t now);

}  // namespace natomedia::auth
