// The core's services as a plugin reaches them. Each is a small interface; the core owns the
// implementations. Unless a comment says otherwise every call is thread-safe, and nothing here
// throws: failures come back as Status / Result values.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <natomedia/config.h>
#include <natomedia/feed.h>
#include <natomedia/http.h>
#include <natomedia/status.h>
#include <natomedia/values.h>

namespace natomedia {

// ---- SQL (apr-util DBD through mod_dbd) ---------------------------------------------------------

using SqlValue = std::optional<std::string>;  // nullopt is SQL NULL

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;

  size_t size() const { return rows.size(); }
  bool empty() const { return rows.empty(); }
  // The value in `row` of the column called `name`; nullopt for NULL or an unknown column.
  SqlValue get(size_t row, const std::string& name) const {
    for (size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name) return rows.at(row).at(c);
    return std::nullopt;
  }
  std::string text(size_t row, const std::string& name) const {
    auto v = get(row, name);
    return v ? *v : std::string();
  }
  long long integer(size_t row, const std::string& name) const {
    auto v = get(row, name);
    return v && !v->empty() ? std::stoll(*v) : 0;
  }
};

// One database connection, for one request or one task: not shared between threads.
// Statements use apr_dbd's placeholders: `%s` for each parameter (`%%` for a literal '%').
// Every statement is prepared (never interpolated) and cached per connection by its text.
class Sql {
 public:
  virtual ~Sql() = default;
  virtual Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // Returns the number of rows changed.
  virtual Result<int> exec(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual Status rollback() = 0;
  virtual std::string driver() const = 0;  // "sqlite3" or "pgsql"
};

// Runs `body` in a transaction: commits when it returns Ok, rolls back otherwise.
inline Status transaction(Sql& sql, const std::function<Status()>& body) {
  Status s = sql.begin();
  if (!s.ok()) return s;
  Status r = body();
  if (!r.ok()) {
    sql.rollback();
    return r;
  }
  return sql.commit();
}

// A schema change of one plugin (or of the core). Versions count up from 1 per owner and are
// applied once, in order, at start-up and by `natomedia-admin db migrate`. `pgsql` may be left
// empty when the SQLite statements are valid PostgreSQL too.
struct Migration {
  int version = 0;
  std::string description;
  std::vector<std::string> sqlite;
  std::vector<std::string> pgsql;
};

// ---- Cache (memcached) -------------------------------------------------------------------------

// Hit, authoritative miss and backend error are three different answers: a caller must never
// treat an unreachable memcached as "no such key".
enum class CacheOutcome { kHit, kMiss, kError };

struct CacheEntry {
  CacheOutcome outcome = CacheOutcome::kError;
  std::string value;
  uint64_t cas = 0;       // for compare-and-swap
  std::string error;      // when outcome is kError
};

class Cache {
 public:
  virtual ~Cache() = default;
  virtual CacheEntry get(const std::string& key) = 0;
  virtual Status set(const std::string& key, const std::string& value, long ttl_seconds) = 0;
  // Stores only when the key is absent: Conflict when it exists.
  virtual Status add(const std::string& key, const std::string& value, long ttl_seconds) = 0;
  // Stores only when the entry is unchanged since `cas` was read: Conflict otherwise,
  // NotFound when it has gone.
  virtual Status cas(const std::string& key, const std::string& value, long ttl_seconds,
                     uint64_t cas) = 0;
  // NotFound when there was nothing to remove.
  virtual Status remove(const std::string& key) = 0;
  // Atomically adds `delta` and returns the new value; creates the entry at `delta` when absent.
  virtual Result<uint64_t> increment(const std::string& key, uint64_t delta, long ttl_seconds) = 0;
};

// ---- The server's shared-memory cache (httpd's socache; SDK ABI 4) -----------------------------

// A small key-value store in shared memory, one per httpd server: what any child stores or
// removes, every child of the server sees at its next call (unlike memcached, it is never shared
// with another server). It is a cache: an entry may be dropped at any time (a full cache evicts
// its oldest), and is gone at its expiry, give or take a second (each child keeps what it read
// for up to a second; store your own time in the value where the exact expiry matters, as the
// session cache does). Keys and values are short binary strings. Every call is thread-safe and
// costs microseconds (a value read again by the same child costs no lock); nothing throws but
// std::bad_alloc.
class ServerCache {
 public:
  virtual ~ServerCache() = default;
  // The value, or nullopt when absent, expired, or the cache could not answer.
  virtual std::optional<std::string> get(const std::string& key) = 0;
  // False when the entry was not stored (too large for the cache, or the cache failed).
  virtual bool put(const std::string& key, const std::string& value, std::time_t expires) = 0;
  // False when the cache failed (an absent key is not a failure: it is gone either way).
  virtual bool remove(const std::string& key) = 0;
};

// ---- Mail --------------------------------------------------------------------------------------

struct MailMessage {
  std::string to;                 // a bare address
  std::string subject;
  std::string text;               // text/plain part
  std::string html;               // text/html part ("" for text only)
  std::string lang = "en";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (List-Unsubscribe…)
};

// The durable outbox: queue() writes the message with the caller's connection, so it commits or
// rolls back with the caller's transaction. A sender outside the request delivers it.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual Status queue(Sql& sql, const MailMessage& message) = 0;
};

// ---- Templates and strings ---------------------------------------------------------------------

// Mustache-like templates that escape every value for HTML unless it is Value::TrustedHtml.
// Syntax: {{name}} {{a.b}} {{#list}}…{{/list}} {{^empty}}…{{/empty}} {{> partial}} {{t:key}}
// ({{t:key}} is the key's text from the string catalogue of the render's language, escaped).
// Templates are looked up in NatoMediaTemplates first, then in the defaults.
class Templates {
 public:
  virtual ~Templates() = default;
  virtual Result<std::string> render(const std::string& name, const Vars& vars,
                                     const std::string& lang) const = 0;
  // The same without HTML escaping, for text/plain mail parts and subjects.
  virtual Result<std::string> render_text(const std::string& name, const Vars& vars,
                                          const std::string& lang) const = 0;
};

class I18n {
 public:
  virtual ~I18n() = default;
  // The text for `key` in `lang`, English when the language lacks it, the key itself when neither
  // has it (so a missing string shows, and a test can see it).
  virtual std::string text(const std::string& lang, const std::string& key) const = 0;
  // "Thursday (6 July 2023)" / "jeudi 6 juillet 2023", in UTC.
  virtual std::string long_date(std::time_t t, const std::string& lang) const = 0;
  // The page languages: the ones the string catalogue has files for, "en" first (SDK ABI 4).
  virtual std::vector<std::string> languages() const { return {"en", "fr"}; }
};

// A mail made from the templates BASE.txt (the text part, unescaped) and BASE.html (the HTML
// part), rendered in `lang` with `vars` (plus `lang`), to `to`, with `subject` as given. Queue it
// with Outbox::queue.
inline Result<MailMessage> compose_mail(const Templates& templates, const std::string& to,
                                        const std::string& lang, const std::string& base,
                                        std::string subject, Vars vars) {
  vars["lang"] = lang;
  auto text = templates.render_text(base + ".txt", vars, lang);
  if (!text.ok()) return text.status();
  auto html = templates.render(base + ".html", vars, lang);
  if (!html.ok()) return html.status();
  MailMessage m;
  m.to = to;
  m.lang = lang;
  m.subject = std::move(subject);
  m.text = std::move(*text);
  m.html = std::move(*html);
  return m;
}

// ---- Secrets and cryptography ------------------------------------------------------------------

class Crypto {
 public:
  virtual ~Crypto() = default;
  // From OpenSSL's CSPRNG. An empty result means the CSPRNG failed (never a weaker fallback).
  virtual std::string random_bytes(size_t n) = 0;
  virtual std::string random_digits(size_t n) = 0;     // uniform, no modulo bias
  virtual std::string random_token(size_t bytes) = 0;  // base64url, no padding
  // HMAC-SHA256 with a key derived from NatoMediaSecretFile for `purpose` (raw 32 bytes).
  virtual std::string hmac(const std::string& purpose, const std::string& data) const = 0;
  // A signature carrying its key id ("kid.sig"), checkable after the secret rotates.
  virtual std::string sign(const std::string& purpose, const std::string& data) const = 0;
  virtual bool verify(const std::string& purpose, const std::string& data,
                      const std::string& signature) const = 0;
  virtual bool equal(const std::string& a, const std::string& b) const = 0;  // constant time
  virtual std::string sha256_hex(const std::string& data) const = 0;
  // argon2id as a PHC string. Unavailable when too many hashes are running at once.
  virtual Result<std::string> password_hash(const std::string& password) = 0;
  virtual Result<bool> password_verify(const std::string& password, const std::string& phc) = 0;
  virtual bool password_needs_rehash(const std::string& phc) const = 0;
};

// ---- Metrics -----------------------------------------------------------------------------------

// Counters shared by every child of the server (CONTRACT section 11). Names are declared by
// PluginHost::counter at configuration time; adding to an undeclared name does nothing.
class Metrics {
 public:
  virtual ~Metrics() = default;
  virtual void add(const std::string& name, uint64_t delta = 1) = 0;
  virtual void set(const std::string& name, uint64_t value) = 0;  // for gauges
};

// ---- The one clock -----------------------------------------------------------------------------

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::time_t now() const = 0;
};

// ---- Accounts, events, providers ---------------------------------------------------------------

struct Account {
  int64_t id = 0;
  std::string email;
  std::string state;  // "pending", "verified", "disabled"
  std::string lang;
  // Moves on whenever trust in the account changes (its password or address changes, it is
  // disabled; a deleted account has none): a link, grant or token bound to an earlier epoch is
  // dead (CONTRACT section 12). Bind it into what stands for the account (SDK ABI version 3).
  int64_t credential_epoch = 0;
  // A pending account's latest registration, as an opaque name that changes whenever the address
  // is registered again; a verification code is bound to it (ABI 3). "" for other accounts.
  std::string registration;
};

enum class AccountEvent {
  kCreated,
  kVerified,
  kSignedIn,
  kPasswordChanged,
  kPasswordResetRequested,
  // The account is being erased (POST /account/delete): every plugin deletes or anonymises what
  // it holds about it, with Context::sql(), which is inside the erasure's transaction. The
  // account's row still exists while the listeners run; it goes after the last one. A listener
  // that cannot erase should throw: the core logs it, and on PostgreSQL the failed statement
  // aborts the transaction, so the account is not deleted half-way (SDK ABI version 4).
  kDeleted,
  // The account's address has changed (POST /account/email/verify): `account` carries the new
  // address and epoch. Sent inside the change's transaction (Context::sql()), so a plugin that
  // keeps a copy of the address updates it with the change (SDK ABI version 4).
  kEmailChanged,
};

struct AccountEventData {
  AccountEvent type;
  Account account;
};

enum class LogLevel { kDebug, kInfo, kWarning, kError };

class Context;

// Who is signed in. The authentication plugin registers the one provider; Context::account()
// asks it once per request. nullopt: nobody is signed in. Unavailable: it cannot be told now
// (the database is down); Context::sign_in_required() then answers 503, not "sign in".
class IdentityProvider {
 public:
  virtual ~IdentityProvider() = default;
  virtual Result<std::optional<Account>> resolve(Context& ctx) = 0;
};

}  // namespace natomedia
