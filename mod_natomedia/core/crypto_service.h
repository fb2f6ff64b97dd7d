// The core's natomedia::Crypto: OpenSSL for randomness, SHA-256 and HMAC, libargon2 for passwords.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <sys/types.h>

#include <natomedia/services.h>

#include "core/secret_keys.h"

namespace natomedia {
namespace core {

// Raw 32-byte digests: the building blocks, exposed for known-answer tests and SecretKeys.
std::string sha256(const std::string& data);
std::string hmac_sha256(const std::string& key, const std::string& data);

// argon2id cost. The defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane); CONTRACT §5.
struct PasswordParams {
  uint32_t m_kib = 19456;
  uint32_t t = 2;
  uint32_t p = 1;
};

// A PHC string parsed: "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" (SALT and HASH unpadded base64).
struct PhcString {
  uint32_t version = 0;
  PasswordParams params;
  std::string salt;  // decoded
  std::string hash;
};
// Invalid when `phc` is not an argon2id PHC string of that shape.
Result<PhcString> parse_argon2id_phc(const std::string& phc);

// `n` bytes from OpenSSL's CSPRNG; "" when it fails (callers refuse to go on). Thread-safe.
std::string random_or_empty(size_t n);

// How many times, in this process, a password hash stepped aside for other threads (it yields
// every 2 ms of wall time; crypto_service.cc). For tests and diagnostics.
uint64_t password_hash_steps_aside();

// A valid argon2id PHC string for a random password nobody knows, made once (with the default
// PasswordParams) on first use. Sign-in verifies the typed password against it when the address
// has no account, so an unknown address costs the same time as a wrong password and answers
// cannot tell which addresses exist. Thread-safe.
const std::string& dummy_password_hash();

// A counting semaphore that gives up after a deadline: the bound on concurrent password hashes.
// In one process by itself; across processes (httpd's children) too once share_across_processes
// has been called before they fork: then a hash needs a slot of its process and one of the
// server's. The server's slots are a SysV semaphore taken with SEM_UNDO, so a process that dies
// holding slots gives them back.
class HashSlots {
 public:
  explicit HashSlots(unsigned slots) : free_(slots) {}
  ~HashSlots();
  HashSlots(const HashSlots&) = delete;
  HashSlots& operator=(const HashSlots&) = delete;

  // Holds one slot until destroyed; `held()` is false when none freed up in time.
  class Guard {
   public:
    Guard(Guard&& other) noexcept : owner_(other.owner_), server_(other.server_) {
      other.owner_ = nullptr;
    }
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (owner_) owner_->release(server_);
    }
    bool held() const { return owner_ != nullptr; }

   private:
    friend class HashSlots;
    Guard(HashSlots* owner, bool server) : owner_(owner), server_(server) {}
    HashSlots* owner_;
    bool server_;  // a server slot is held too
  };

  Guard acquire(std::chrono::milliseconds wait);
  unsigned free_slots() const;

  // Makes `slots` server-wide slots (replacing any made before by this process), owned by
  // `uid`/`gid` when they are given (the parent runs as root, the children as httpd's User).
  // The process that made them removes them when this object goes, or at the next call.
  // If the semaphore has gone (removed at a restart), acquire() goes on with the process's
  // slots alone rather than refuse.
  Status share_across_processes(unsigned slots, std::optional<std::pair<uid_t, gid_t>> owner);
  // The server-wide slots free now; -1 when there are none.
  int free_server_slots() const;

 private:
  void release(bool server);
  void remove_server_slots();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  unsigned free_;
  int sem_id_ = -1;
  pid_t sem_maker_ = 0;
};

// Thread-safe. Owns a copy of the keys, which must hold at least one (SecretKeys::load never
// gives fewer); construct once and share.
class CryptoService : public natomedia::Crypto {
 public:
  // max_concurrent_hashes: how many argon2id hashes may run at once (each takes m_kib of
  // memory); 0 means one per CPU. A caller waits at most kSlotWait for a slot.
  explicit CryptoService(SecretKeys keys, PasswordParams params = {},
                         unsigned max_concurrent_hashes = 0);

  std::string random_bytes(size_t n) override;
  std::string random_digits(size_t n) override;
  std::string random_token(size_t bytes) override;
  // Keyed with HMAC(current key, "natomedia:" + purpose): only the current key, so values stored
  // by hmac() (code digests) no longer match after the secret rotates. Use sign() for anything
  // that must outlive a rotation.
  std::string hmac(const std::string& purpose, const std::string& data) const override;
  // "kid.base64url(HMAC-SHA256)", with a signing key derived for the purpose apart from hmac()'s,
  // so no hmac() output is ever a valid signature.
  std::string sign(const std::string& purpose, const std::string& data) const override;
  bool verify(const std::string& purpose, const std::string& data,
              const std::string& signature) const override;
  bool equal(const std::string& a, const std::string& b) const override;
  std::string sha256_hex(const std::string& data) const override;
  Result<std::string> password_hash(const std::string& password) override;
  // Invalid for a malformed PHC string; Unavailable when no hash slot frees up in time.
  Result<bool> password_verify(const std::string& password, const std::string& phc) override;
  bool password_needs_rehash(const std::string& phc) const override;

  // The semaphore behind the bound: for tests and reporting, and to share it across processes.
  HashSlots& hash_slots() { return slots_; }

  static constexpr std::chrono::milliseconds kSlotWait{2000};
  static constexpr size_t kSaltBytes = 16;
  static constexpr size_t kHashBytes = 32;
  // A stored PHC string asking for more memory than this is refused rather than run.
  static constexpr uint32_t kMaxVerifyKib = 1024 * 1024;

 private:
  std::string sign_with(const SecretKeys::Key& key, const std::string& purpose,
                        const std::string& data) const;

  SecretKeys keys_;
  PasswordParams params_;
  HashSlots slots_;
};

}  // namespace core
}  // namespace natomedia
