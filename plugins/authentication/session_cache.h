// What the server's shared-memory cache (ServerCache, httpd's socache) holds of the sessions, so
// that a request with a session cookie costs microseconds instead of an SQL read (CONTRACT
// section 14: a gated page at >= 0.9 x the same page open).
//
// An entry is what resolve_session read from SQL for one session: the account (id, address,
// language, credential epoch; only verified accounts are kept), the session's created_at and
// last_seen, the time it was read and the account's generation then. It is keyed by the SHA-256
// of the cookie's token (never the token), and believed for `lifetime` seconds
// (NatoMediaSessionCacheTimeout) at most.
//
// Exact within one server. Every session end made in this server calls forget_session or
// forget_account after its SQL change has committed:
//   - forget_session removes the entry; forget_account removes the account's generation key, so
//     every entry of the account stops matching (entries store the generation they were made
//     under; a new one is a fresh random value, never an old one again);
//   - both first write a fresh server-wide "ends" nonce. A fill (the miss path) reads it before
//     its SQL read and again after storing its entry, and removes the entry when it changed: a
//     fill that raced an end either sees the change, or stored its entry before the end removed
//     it (or its generation).
// Changes made outside this server (natomedia-admin, another server on the same database) cannot
// reach the shared memory: they take effect when the entry's lifetime runs out.
//
// One SessionCache per request (it is a few pointers); thread-safe as the ServerCache is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <natomedia/services.h>

namespace natomedia::auth {

struct CachedSession {
  Account account;  // state is "verified": no other account is kept
  long long created_at = 0;
  long long last_seen = 0;
};

class SessionCache {
 public:
  // `store` null or `lifetime` <= 0: no cache (find always misses, the rest does nothing).
  // `site` (SiteConfig::site_id) is kept in each entry: another virtual host of the server, which
  // may use another database, does not believe it (ends still drop it for every site).
  SessionCache(ServerCache* store, const Clock& clock, Crypto& crypto, long lifetime,
               std::string site = "main");

  // The session with this id hash, if an entry for it is still believed: younger than the
  // lifetime, and made under the account's current generation. The caller still applies the
  // session rules (idle, absolute lifetime) to created_at and last_seen.
  std::optional<CachedSession> find(const std::string& id_hash);

  // The miss path: begin_fill() before the SQL read, fill() after it with what was read.
  struct Fill {
    std::string ends;  // the "ends" nonce seen before the SQL read; "" when no fill is possible
  };
  Fill begin_fill();
  void fill(const Fill& before, const std::string& id_hash, const CachedSession& session);

  // After the SQL change committed: this session ended (sign-out, expiry seen, a new sign-in
  // in this browser).
  // Both return false when the cache failed to remove: the entries then live out their lifetime.
  bool forget_session(const std::string& id_hash);
  // After the SQL change committed: every session of the account ended, or the account changed
  // (password, address, state, credential epoch, deletion).
  bool forget_account(int64_t account_id);

  bool enabled() const { return store_ != nullptr; }

  // The entry's stored form (exposed for the tests): "" when `text` is not one.
  struct Entry {
    CachedSession session;
    long long read_at = 0;
    std::string generation;
    std::string site = "main";
  };
  static std::string encode(const Entry& entry);
  static std::optional<Entry> decode(const std::string& text);

 private:
  std::string fresh_nonce();
  void new_ends();

  ServerCache* store_;
  const Clock& clock_;
  Crypto& crypto_;
  long lifetime_;
  std::string site_;
};

// The account generation keys and the "ends" nonce live this long: far longer than any entry (an
// entry whose generation has gone is not believed, so their expiry only costs a miss).
inline constexpr long kGenerationLifetime = 3600;

}  // namespace natomedia::auth
