#include "sessions.h"

#include <string>

#include <natomedia/text.h>

#include "session_cache.h"

namespace natomedia::auth {

namespace {

constexpr size_t kSessionIdBytes = 16;     // 128 bits
constexpr size_t kSessionTokenChars = 22;  // base64url of 16 bytes, unpadded
constexpr size_t kUserAgentChars = 255;    // what /account/sessions shows of a User-Agent

// The stored form of a cookie value, or "" when the value cannot be one of our ids.
std::string session_hash(Context& ctx, const std::string& token) {
  std::string raw;
  if (token.size() != kSessionTokenChars || !text::base64url_decode(token, raw) ||
      raw.size() != kSessionIdBytes)
    return "";
  return ctx.crypto().sha256_hex(token);
}

std::string current_hash(Context& ctx) {
  auto token = ctx.cookie(kSessionCookie);
  return token ? session_hash(ctx, *token) : std::string();
}

SessionCache cache_of(Context& ctx) {
  return SessionCache(ctx.server_cache(), ctx.clock(), ctx.crypto(),
                      ctx.config().session_cache_lifetime, ctx.config().site_id);
}

void warn_cache_kept(Context& ctx, bool forgotten) {
  if (!forgotten)
    ctx.log(LogLevel::kWarning, "the session cache failed to drop an ended session: other "
                                "requests may see it signed in for NatoMediaSessionCacheTimeout");
}

// Autocommit: the entry goes once the row has.
void delete_session(Context& ctx, const std::string& hash) {
  auto deleted = ctx.sql().exec("DELETE FROM account_sessions WHERE id_hash = %s", {hash});
  if (!deleted.ok())
    ctx.log(LogLevel::kWarning, "could not delete a session: " + deleted.status().message());
  warn_cache_kept(ctx, cache_of(ctx).forget_session(hash));
}

// The User-Agent as stored: at most kUserAgentChars bytes, cut on a character boundary, and ""
// when it is not UTF-8 (the page shows nothing rather than mojibake).
std::string user_agent_of(Context& ctx) {
  std::string ua = ctx.request().user_agent;
  if (ua.size() > kUserAgentChars) {
    size_t cut = kUserAgentChars;
    while (cut > 0 && (static_cast<unsigned char>(ua[cut]) & 0xC0) == 0x80) --cut;
    ua.resize(cut);
  }
  return text::valid_utf8(ua) ? ua : std::string();
}

void clear_cookie(Context& ctx) { ctx.set_cookie({kSessionCookie, "", 0, true, "Lax"}); }

// Idle for session_idle or older than session_max: the one rule, here and in
// delete_expired_sessions (the same comparisons written in SQL).
bool expired(const SiteConfig& config, long long created, long long last_seen, long long now) {
  return now - created >= config.session_max || now - last_seen >= config.session_idle;
}

}  // namespace

Status start_session(Context& ctx, const Account& account) {
  if (account.state != "verified") return Status::Invalid("only a verified account signs in");
  std::string old = current_hash(ctx);
  if (!old.empty()) delete_session(ctx, old);
  std::string token = ctx.crypto().random_token(kSessionIdBytes);
  if (token.size() != kSessionTokenChars) return Status::Unavailable("the CSPRNG failed");
  const std::string now = std::to_string(ctx.clock().now());
  auto inserted = ctx.sql().exec(
      "INSERT INTO account_sessions (id_hash, account_id, created_at, last_seen, user_agent) "
      "VALUES (%s, %s, %s, %s, %s)",
      {ctx.crypto().sha256_hex(token), std::to_string(account.id), now, now,
       user_agent_of(ctx)});
  if (!inserted.ok()) return inserted.status();
  ctx.set_cookie({kSessionCookie, token, -1, true, "Lax"});
  ctx.rotate_csrf();
  ctx.reset_account();
  return Status::Ok();
}

Result<std::optional<Account>> resolve_session(Context& ctx) {
  const std::optional<Account> nobody;
  const std::string hash = current_hash(ctx);
  if (hash.empty()) return nobody;
  SessionCache cache = cache_of(ctx);
  // The cached last_seen is at most as recent as the row's: a session it calls idle is read
  // from SQL, which decides.
  if (auto cached = cache.find(hash);
      cached && !expired(ctx.config(), cached->created_at, cached->last_seen, ctx.clock().now())) {
    ctx.metrics().add("natomedia_session_cache_hits_total");
    return std::optional<Account>(std::move(cached->account));
  }
  if (cache.enabled()) ctx.metrics().add("natomedia_session_cache_misses_total");
  const SessionCache::Fill fill = cache.begin_fill();
  auto rows = ctx.sql().query(
      "SELECT s.created_at, s.last_seen, a.id, a.email, a.state, a.lang, a.credential_epoch "
      "FROM account_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = %s",
      {hash});
  if (!rows.ok()) return Status::Unavailable("session lookup failed: " + rows.status().message());
  if (rows->empty()) return nobody;
  const long long now = ctx.clock().now();
  const long long created = rows->integer(0, "created_at");
  const long long last_seen = rows->integer(0, "last_seen");
  if (expired(ctx.config(), created, last_seen, now) || rows->text(0, "state") != "verified") {
    delete_session(ctx, hash);
    return nobody;
  }
  CachedSession session;
  session.created_at = created;
  session.last_seen = last_seen;
  if (now - last_seen >= kLastSeenGranularity &&
      ctx.sql()
          .exec("UPDATE account_sessions SET last_seen = %s WHERE id_hash = %s",
                {std::to_string(now), hash})
          .ok())
    session.last_seen = now;
  Account& a = session.account;
  a.id = rows->integer(0, "id");
  a.email = rows->text(0, "email");
  a.state = rows->text(0, "state");
  a.lang = rows->text(0, "lang");
  a.credential_epoch = rows->integer(0, "credential_epoch");
  cache.fill(fill, hash, session);
  return std::optional<Account>(std::move(a));
}

void end_session(Context& ctx) {
  std::string hash = current_hash(ctx);
  if (!hash.empty()) delete_session(ctx, hash);
  if (ctx.cookie(kSessionCookie)) clear_cookie(ctx);
  ctx.rotate_csrf();
  ctx.reset_account();
}

Status end_all_sessions(Sql& sql, int64_t account_id) {
  auto deleted =
      sql.exec("DELETE FROM account_sessions WHERE account_id = %s", {std::to_string(account_id)});
  return deleted.ok() ? Status::Ok() : deleted.status();
}

Result<int> end_other_sessions(Context& ctx, int64_t account_id) {
  return ctx.sql().exec("DELETE FROM account_sessions WHERE account_id = %s AND id_hash <> %s",
                        {std::to_string(account_id), current_hash(ctx)});
}

void account_sessions_ended(Context& ctx, int64_t account_id) {
  warn_cache_kept(ctx, cache_of(ctx).forget_account(account_id));
}

Result<std::vector<SessionInfo>> list_sessions(Context& ctx, int64_t account_id) {
  auto rows = ctx.sql().query(
      "SELECT id_hash, created_at, last_seen, user_agent FROM account_sessions "
      "WHERE account_id = %s ORDER BY created_at DESC",
      {std::to_string(account_id)});
  if (!rows.ok()) return rows.status();
  const std::string mine = current_hash(ctx);
  const long long now = ctx.clock().now();
  std::vector<SessionInfo> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    SessionInfo s;
    s.created_at = rows->integer(i, "created_at");
    s.last_seen = rows->integer(i, "last_seen");
    if (expired(ctx.config(), s.created_at, s.last_seen, now)) continue;
    s.user_agent = rows->text(i, "user_agent");
    s.current = !mine.empty() && rows->text(i, "id_hash") == mine;
    out.push_back(std::move(s));
  }
  return out;
}

Result<int> delete_expired_sessions(Sql& sql, const SiteConfig& config, std::time_t now) {
  // now - created_at >= session_max  or  now - last_seen >= session_idle, as expired() says.
  return sql.exec(
      "DELETE FROM account_sessions WHERE created_at <= %s OR last_seen <= %s",
      {std::to_string(now - config.session_max), std::to_string(now - config.session_idle)});
}

}  // namespace natomedia::auth
