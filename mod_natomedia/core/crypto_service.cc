#include "core/crypto_service.h"

#include <argon2.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <natomedia/text.h>

namespace natomedia {
namespace core {
namespace {

// Domain separation: hmac() and sign() never share a derived key, whatever the purpose.
constexpr char kHmacDomain[] = "natomedia:";
constexpr char kSignDomain[] = "natomedia-sign:";

unsigned default_slots() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// Parses a decimal uint32 that must fill `s`; no sign, no leading junk, no overflow.
bool parse_u32(const std::string& s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

// Byte length of unpadded standard base64 (argon2's PHC alphabet); false when not base64.
bool b64_length(const std::string& s, size_t& bytes) {
  if (s.empty() || s.size() % 4 == 1) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  bytes = s.size() * 3 / 4;
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// "m=19456,t=2,p=1", in that order as argon2 writes it.
bool parse_cost(const std::string& s, PasswordParams& params) {
  std::vector<std::string> fields = split(s, ',');
  if (fields.size() != 3) return false;
  const char* names[] = {"m=", "t=", "p="};
  uint32_t* values[] = {&params.m_kib, &params.t, &params.p};
  for (size_t i = 0; i < 3; ++i) {
    if (fields[i].compare(0, 2, names[i]) != 0) return false;
    if (!parse_u32(fields[i].substr(2), *values[i])) return false;
  }
  return true;
}

std::string random_or_empty(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&out[0]), static_cast<int>(n)) != 1) return {};
  return out;
}

Result<std::string> argon2id_phc(const std::string& password, const std::string& salt,
                                 const PasswordParams& params) {
  size_t len = argon2_encodedlen(params.t, params.m_kib, params.p, salt.size(),
                                 CryptoService::kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(params.t, params.m_kib, params.p, password.data(), password.size(),
                                 salt.data(), salt.size(), CryptoService::kHashBytes, &encoded[0],
                                 encoded.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
    return Status::Unavailable("argon2id: out of memory; try again later");
  if (rc != ARGON2_OK)
    return Status::Internal(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

}  // namespace

std::string sha256(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

namespace {

// HMAC-SHA256 contexts already keyed, shared by the process's threads, each call working on
// a copy. OpenSSL 3's one-shot HMAC() looks the algorithms up by name on every call, under its
// global locks; copying a keyed context does not, and skips the key schedule too (about half
// the time, and less contention between threads). The keys are few (a secret and the keys
// derived from it per purpose); the cache forgets them all when it is full, and wipes each key
// it forgets. Not thread_local: a thread_local with a destructor would pin the module in memory
// across httpd's restarts.
class KeyedMacs {
 public:
  KeyedMacs() = default;
  KeyedMacs(const KeyedMacs&) = delete;
  KeyedMacs& operator=(const KeyedMacs&) = delete;
  ~KeyedMacs() { clear(); }

  // A fresh context keyed with `key` (the caller frees it), or nullptr when OpenSSL fails.
  EVP_MAC_CTX* copy_for(const std::string& key) {
    {
      std::shared_lock<std::shared_mutex> lock(mutex_);
      if (EVP_MAC_CTX* keyed = find(key)) return EVP_MAC_CTX_dup(keyed);
    }
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // never freed
    if (mac == nullptr) return nullptr;
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (ctx == nullptr || EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()),
                                       key.size(), params) != 1) {
      EVP_MAC_CTX_free(ctx);
      return nullptr;
    }
    std::unique_lock<std::shared_mutex> lock(mutex_);
    if (find(key) == nullptr) {
      if (entries_.size() >= kMaxKeys) clear();
      entries_.push_back({key, ctx});
    } else {
      EVP_MAC_CTX_free(ctx);  // another thread keyed it first
    }
    return EVP_MAC_CTX_dup(find(key));
  }

 private:
  struct Entry {
    std::string key;
    EVP_MAC_CTX* ctx;
  };
  static constexpr size_t kMaxKeys = 64;

  // Caller holds mutex_.
  EVP_MAC_CTX* find(const std::string& key) const {
    for (const auto& entry : entries_)
      if (entry.key.size() == key.size() &&
          CRYPTO_memcmp(entry.key.data(), key.data(), key.size()) == 0)
        return entry.ctx;
    return nullptr;
  }

  // Caller holds mutex_ exclusively (or is the destructor).
  void clear() {
    for (auto& entry : entries_) {
      if (!entry.key.empty()) OPENSSL_cleanse(&entry.key[0], entry.key.size());
      EVP_MAC_CTX_free(entry.ctx);
    }
    entries_.clear();
  }

  std::shared_mutex mutex_;
  std::vector<Entry> entries_;
};

// HMAC-SHA256 of `data` through the shared keyed contexts. False when OpenSSL fails.
bool keyed_hmac(const std::string& key, const std::string& data, unsigned char* md,
                size_t* len) {
  static KeyedMacs macs;
  EVP_MAC_CTX* ctx = macs.copy_for(key);
  bool ok = ctx != nullptr &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) == 1 &&
            EVP_MAC_final(ctx, md, len, EVP_MAX_MD_SIZE) == 1;
  EVP_MAC_CTX_free(ctx);
  return ok;
}

}  // namespace

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (keyed_hmac(key, data, md, &mac_len))
    return std::string(reinterpret_cast<char*>(md), mac_len);
  unsigned int len = 0;  // the one-shot call, should the keyed path ever fail
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

Result<PhcString> parse_argon2id_phc(const std::string& phc) {
  // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
  std::vector<std::string> parts = split(phc, '$');
  PhcString out;
  bool ok = parts.size() == 6 && parts[0].empty() && parts[1] == "argon2id" &&
            parts[2].compare(0, 2, "v=") == 0 && parse_u32(parts[2].substr(2), out.version) &&
            parse_cost(parts[3], out.params) && b64_length(parts[4], out.salt_bytes) &&
            b64_length(parts[5], out.hash_bytes);
  if (!ok)
    return Status::Invalid("not an argon2id PHC string ($argon2id$v=19$m=M,t=T,p=P$salt$hash)");
  return out;
}

const std::string& dummy_password_hash() {
  static const std::string hash = [] {
    PasswordParams params;
    std::string password = random_or_empty(32);
    std::string salt = random_or_empty(CryptoService::kSaltBytes);
    Result<std::string> phc = argon2id_phc(password, salt, params);
    // Only an allocation failure at start-up gets here; verifying against "" then fails fast.
    return phc.ok() ? *phc : std::string();
  }();
  return hash;
}

HashSlots::Guard HashSlots::acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, wait, [this] { return free_ > 0; })) return Guard(nullptr);
  --free_;
  return Guard(this);
}

unsigned HashSlots::free_slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_;
}

void HashSlots::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
  }
  cv_.notify_one();
}

CryptoService::CryptoService(SecretKeys keys, PasswordParams params, unsigned max_concurrent_hashes)
    : keys_(std::move(keys)),
      params_(params),
      slots_(max_concurrent_hashes == 0 ? default_slots() : max_concurrent_hashes) {}

std::string CryptoService::random_bytes(size_t n) { return random_or_empty(n); }

std::string CryptoService::random_digits(size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::string batch = random_or_empty(n - out.size() + 8);
    if (batch.empty()) return {};
    for (char c : batch) {
      auto b = static_cast<unsigned char>(c);
      // 250 = 25 * 10: accepting only 0..249 leaves every digit exactly equally likely.
      if (b < 250 && out.size() < n) out += static_cast<char>('0' + b % 10);
    }
  }
  return out;
}

std::string CryptoService::random_token(size_t bytes) {
  std::string raw = random_or_empty(bytes);
  if (raw.empty()) return {};
  return text::base64url_encode(raw);
}

std::string CryptoService::hmac(const std::string& purpose, const std::string& data) const {
  const std::string& key = keys_.keys.at(0).material;
  return hmac_sha256(hmac_sha256(key, kHmacDomain + purpose), data);
}

std::string CryptoService::sign_with(const SecretKeys::Key& key, const std::string& purpose,
                                     const std::string& data) const {
  std::string mac = hmac_sha256(hmac_sha256(key.material, kSignDomain + purpose), data);
  return key.id + "." + text::base64url_encode(mac);
}

std::string CryptoService::sign(const std::string& purpose, const std::string& data) const {
  return sign_with(keys_.keys.at(0), purpose, data);
}

bool CryptoService::verify(const std::string& purpose, const std::string& data,
                           const std::string& signature) const {
  size_t dot = signature.find('.');
  if (dot == std::string::npos) return false;
  std::string kid = signature.substr(0, dot);
  for (const auto& key : keys_.keys) {
    if (key.id == kid) return equal(sign_with(key, purpose, data), signature);
  }
  return false;
}

bool CryptoService::equal(const std::string& a, const std::string& b) const {
  if (a.size() != b.size()) {
    // Still walk b, so the time depends on the lengths only, never on where the content differs.
    if (!b.empty()) CRYPTO_memcmp(b.data(), b.data(), b.size());
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string CryptoService::sha256_hex(const std::string& data) const {
  return text::hex_encode(sha256(data));
}

Result<std::string> CryptoService::password_hash(const std::string& password) {
  HashSlots::Guard slot = slots_.acquire(kSlotWait);
  if (!slot.held()) return Status::Unavailable("too many password hashes running; try again later");
  std::string salt = random_or_empty(kSaltBytes);
  if (salt.empty()) return Status::Internal("the CSPRNG failed");
  return argon2id_phc(password, salt, params_);
}

Result<bool> CryptoService::password_verify(const std::string& password, const std::string& phc) {
  Result<PhcString> parsed = parse_argon2id_phc(phc);
  if (!parsed.ok()) return parsed.status();
  if (parsed->params.m_kib > kMaxVerifyKib || parsed->params.t > 64 || parsed->params.p > 64)
    return Status::Invalid("argon2id PHC string asks for more work than is allowed");
  HashSlots::Guard slot = slots_.acquire(kSlotWait);
  if (!slot.held()) return Status::Unavailable("too many password hashes running; try again later");
  int rc = argon2id_verify(phc.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
    return Status::Unavailable("argon2id: out of memory; try again later");
  return Status::Invalid(std::string("argon2id: ") + argon2_error_message(rc));
}

bool CryptoService::password_needs_rehash(const std::string& phc) const {
  Result<PhcString> parsed = parse_argon2id_phc(phc);
  if (!parsed.ok()) return true;
  const PasswordParams& p = parsed->params;
  return parsed->version != ARGON2_VERSION_13 || p.m_kib != params_.m_kib || p.t != params_.t ||
         p.p != params_.p || parsed->salt_bytes != kSaltBytes || parsed->hash_bytes != kHashBytes;
}

}  // namespace core
}  // namespace natomedia
