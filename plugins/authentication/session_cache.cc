#include "session_cache.h"

#include <string_view>
#include <utility>

#include <natomedia/text.h>

namespace natomedia::auth {

namespace {

// Keys are at least 4 bytes: shmcb refuses shorter ones.
constexpr const char* kEndsKey = "ends:";
constexpr const char* kFormat = "s2";
constexpr size_t kFields = 10;  // the format, 8 values, then the address
constexpr size_t kNonceBytes = 12;

std::string session_key(const std::string& id_hash) { return "session:" + id_hash; }
std::string account_key(int64_t account_id) { return "account:" + std::to_string(account_id); }

}  // namespace

SessionCache::SessionCache(ServerCache* store, const Clock& clock, Crypto& crypto, long lifetime,
                           std::string site)
    : store_(lifetime > 0 ? store : nullptr),
      clock_(clock),
      crypto_(crypto),
      lifetime_(lifetime),
      site_(std::move(site)) {}

// Fields joined by tabs; the address last (no tab can be in it, but it is taken whole anyway).
std::string SessionCache::encode(const Entry& e) {
  const Account& a = e.session.account;
  std::string out = kFormat;
  for (const std::string& field :
       {std::to_string(e.read_at), e.generation, e.site, std::to_string(a.id),
        std::to_string(a.credential_epoch), std::to_string(e.session.created_at),
        std::to_string(e.session.last_seen), a.lang, a.email})
    out += "\t" + field;
  return out;
}

// Read on every request with a session cookie: split in place, one allocation per kept field.
std::optional<SessionCache::Entry> SessionCache::decode(const std::string& text) {
  std::string_view fields[kFields];
  std::string_view rest(text);
  for (size_t i = 0; i < kFields - 1; ++i) {
    const size_t tab = rest.find('\t');
    if (tab == std::string_view::npos) return std::nullopt;
    fields[i] = rest.substr(0, tab);
    rest.remove_prefix(tab + 1);
  }
  fields[kFields - 1] = rest;  // the address
  if (fields[0] != kFormat || fields[2].empty() || fields[3].empty() || fields[9].empty())
    return std::nullopt;
  Entry e;
  long long id = 0, epoch = 0;
  if (!text::parse_decimal(fields[1], e.read_at) || !text::parse_decimal(fields[4], id) ||
      !text::parse_decimal(fields[5], epoch) ||
      !text::parse_decimal(fields[6], e.session.created_at) ||
      !text::parse_decimal(fields[7], e.session.last_seen))
    return std::nullopt;
  e.generation = fields[2];
  e.site = fields[3];
  e.session.account.id = id;
  e.session.account.credential_epoch = epoch;
  e.session.account.lang = fields[8];
  e.session.account.email = fields[9];
  e.session.account.state = "verified";
  return e;
}

std::optional<CachedSession> SessionCache::find(const std::string& id_hash) {
  if (!store_ || id_hash.empty()) return std::nullopt;
  auto stored = store_->get(session_key(id_hash));
  if (!stored) return std::nullopt;
  auto entry = decode(*stored);
  if (!entry) return std::nullopt;
  const long long now = clock_.now();
  // Read in the future (a clock stepped back) or older than the lifetime: not believed.
  if (entry->read_at > now || now - entry->read_at >= lifetime_) return std::nullopt;
  if (entry->site != site_) return std::nullopt;  // read from another site's database
  auto generation = store_->get(account_key(entry->session.account.id));
  if (!generation || !crypto_.equal(*generation, entry->generation)) return std::nullopt;
  return entry->session;
}

std::string SessionCache::fresh_nonce() { return crypto_.random_token(kNonceBytes); }

SessionCache::Fill SessionCache::begin_fill() {
  Fill fill;
  if (!store_) return fill;
  if (auto ends = store_->get(kEndsKey)) {
    fill.ends = *ends;
    return fill;
  }
  // None yet (a new server, or evicted): this fill starts one. Another fill doing the same at
  // once overwrites it, and this fill then sees a change and keeps nothing: only a miss more.
  std::string nonce = fresh_nonce();
  if (nonce.empty() || !store_->put(kEndsKey, nonce, clock_.now() + kGenerationLifetime))
    return fill;
  fill.ends = nonce;
  return fill;
}

void SessionCache::fill(const Fill& before, const std::string& id_hash,
                        const CachedSession& session) {
  if (!store_ || before.ends.empty() || id_hash.empty() || session.account.state != "verified")
    return;
  const long long now = clock_.now();
  const std::string gen_key = account_key(session.account.id);
  auto generation = store_->get(gen_key);
  if (!generation) {
    std::string nonce = fresh_nonce();
    if (nonce.empty() || !store_->put(gen_key, nonce, now + kGenerationLifetime)) return;
    generation = nonce;
  }
  Entry e;
  e.session = session;
  e.read_at = now;
  e.generation = *generation;
  e.site = site_;
  const std::string key = session_key(id_hash);
  if (!store_->put(key, encode(e), now + lifetime_)) return;
  // A session end since begin_fill may have come before this entry was stored: then it is not
  // believed. (An end after this read removes the entry, or its generation, itself.)
  auto ends = store_->get(kEndsKey);
  if (!ends || *ends != before.ends) store_->remove(key);
}

void SessionCache::new_ends() {
  std::string nonce = fresh_nonce();
  // A nonce that cannot be written is removed instead: a racing fill then sees a change too.
  if (nonce.empty() || !store_->put(kEndsKey, nonce, clock_.now() + kGenerationLifetime))
    store_->remove(kEndsKey);
}

bool SessionCache::forget_session(const std::string& id_hash) {
  if (!store_ || id_hash.empty()) return true;
  new_ends();
  return store_->remove(session_key(id_hash));
}

bool SessionCache::forget_account(int64_t account_id) {
  if (!store_) return true;
  new_ends();
  return store_->remove(account_key(account_id));
}

}  // namespace natomedia::auth
