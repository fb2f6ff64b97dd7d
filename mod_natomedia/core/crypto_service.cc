#include "core/crypto_service.h"

#include <argon2.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <system_error>
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

}  // namespace

std::string random_or_empty(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&out[0]), static_cast<int>(n)) != 1) return {};
  return out;
}

namespace {

// argon2's working memory (m KiB for each hash), kept between hashes rather than malloc'ed and
// freed every time: once warm, a hash takes no page faults, and nothing stays behind in malloc's
// arenas (one per thread in httpd, see module.cc, so each thread that ever hashed would keep its
// own 19 MiB). At most one buffer per hash slot is kept; larger ones are given back at once.
// argon2 wipes the memory before it hands it back (its default clear_internal_memory).
class Argon2Memory {
 public:
  static int allocate(uint8_t** memory, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex());
      auto& kept = free_buffers();
      for (auto it = kept.begin(); it != kept.end(); ++it) {
        if (it->second != bytes) continue;
        *memory = it->first;
        kept.erase(it);
        return ARGON2_OK;
      }
    }
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return ARGON2_MEMORY_ALLOCATION_ERROR;
    *memory = static_cast<uint8_t*>(p);
    return ARGON2_OK;
  }

  static void deallocate(uint8_t* memory, size_t bytes) {
    if (bytes <= kKeepLimit) {
      std::lock_guard<std::mutex> lock(mutex());
      auto& kept = free_buffers();
      if (kept.size() < std::min<size_t>(default_slots(), kMaxKept)) {
        kept.emplace_back(memory, bytes);
        return;
      }
    }
    munmap(memory, bytes);
  }

 private:
  static constexpr size_t kKeepLimit = size_t{256} << 20;
  static constexpr size_t kMaxKept = 8;

  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::pair<uint8_t*, size_t>>& free_buffers() {
    static auto* kept = new std::vector<std::pair<uint8_t*, size_t>>();  // lives to exit
    return *kept;
  }
};

std::atomic<uint64_t> g_steps_aside{0};

// The handler: async-signal-safe (a system call and a lock-free counter).
void on_step_aside_signal(int) {
  const int saved = errno;
  sched_yield();
  g_steps_aside.fetch_add(1, std::memory_order_relaxed);
  errno = saved;
}

// The real-time signal that makes a hash thread step aside, chosen and given its handler once per
// process: the first of SIGRTMIN+8 .. SIGRTMAX-8 that nobody handles yet. 0 when none is free;
// the hashes then run without stepping aside.
int step_aside_signal() {
  static const int chosen = [] {
    for (int sig = SIGRTMIN + 8; sig <= SIGRTMAX - 8; ++sig) {
      struct sigaction old {};
      if (sigaction(sig, nullptr, &old) != 0 || (old.sa_flags & SA_SIGINFO) ||
          old.sa_handler != SIG_DFL)
        continue;
      struct sigaction sa {};
      sa.sa_handler = on_step_aside_signal;
      sa.sa_flags = SA_RESTART;
      sigemptyset(&sa.sa_mask);
      if (sigaction(sig, &sa, nullptr) == 0) return sig;
    }
    return 0;
  }();
  return chosen;
}

// While it lives, the calling thread calls sched_yield() every kPeriodNs of wall time,
// from a timer signal sent to it alone (httpd's threads block signals; this one unblocks it).
class StepAside {
 public:
  static constexpr long kPeriodNs = 2000000;  // 2 ms, half this kernel's 4 ms tick

  StepAside() {
    const int sig = step_aside_signal();
    if (sig == 0) return;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = sig;
    ev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0) return;
    const itimerspec every{{0, kPeriodNs}, {0, kPeriodNs}};
    if (timer_settime(timer_, 0, &every, nullptr) != 0) {
      timer_delete(timer_);
      return;
    }
    armed_ = true;
  }
  ~StepAside() {
    if (armed_) timer_delete(timer_);
  }
  StepAside(const StepAside&) = delete;
  StepAside& operator=(const StepAside&) = delete;

 private:
  timer_t timer_{};
  bool armed_ = false;
};

// Runs `work` on a thread of its own under SCHED_IDLE and waits for it. A password hash is tens
// of milliseconds of CPU; under SCHED_IDLE it gets only the CPU time that no normal thread wants
// (scheduler weight 3, against 15 at nice 19 and 1024 at nice 0).
//
// That alone did not keep pages from waiting behind a hash on Linux 6.18 (EEVDF): a page thread
// that wakes onto the hash's CPU is often not yet "eligible" (it ran ahead of its share before it
// slept) while the hash is, so the scheduler picks the hash again and the page waits until the
// next tick, up to 4 ms at HZ=250 (docs/performance.md has the traces). A yield makes the hash
// give way: it yields once after switching to SCHED_IDLE (it starts as a normal thread; glibc
// takes no SCHED_IDLE in pthread attributes) and then every 2 ms (StepAside). A yield with nobody
// waiting returns at once. Where SCHED_IDLE is refused, the thread runs at nice 19. Runs `work`
// here when no thread can be started.
void run_at_lower_priority(const std::function<void()>& work) {
  std::exception_ptr error;
  try {
    std::thread worker([&work, &error] {
      sched_param param{};
      if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0)
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
      sched_yield();
      StepAside step_aside;
      try {
        work();
      } catch (...) {
        error = std::current_exception();  // rethrown on the caller's thread
      }
    });
    worker.join();
  } catch (const std::system_error&) {
    return work();
  }
  if (error) std::rethrow_exception(error);
}

// The raw argon2id hash of `password` with `salt`, through Argon2Memory.
int argon2id_raw(const std::string& password, const std::string& salt,
                 const PasswordParams& params, uint32_t version, std::string* out) {
  argon2_context c{};
  c.out = reinterpret_cast<uint8_t*>(&(*out)[0]);
  c.outlen = static_cast<uint32_t>(out->size());
  c.pwd = reinterpret_cast<uint8_t*>(const_cast<char*>(password.data()));
  c.pwdlen = static_cast<uint32_t>(password.size());
  c.salt = reinterpret_cast<uint8_t*>(const_cast<char*>(salt.data()));
  c.saltlen = static_cast<uint32_t>(salt.size());
  c.t_cost = params.t;
  c.m_cost = params.m_kib;
  c.lanes = params.p;
  c.threads = params.p;
  c.version = version;
  c.allocate_cbk = &Argon2Memory::allocate;
  c.free_cbk = &Argon2Memory::deallocate;
  c.flags = ARGON2_DEFAULT_FLAGS;
  if (password.size() > UINT32_MAX || salt.size() > UINT32_MAX) return ARGON2_PWD_TOO_LONG;
  return argon2_ctx(&c, Argon2_id);
}

Result<std::string> argon2id_phc(const std::string& password, const std::string& salt,
                                 const PasswordParams& params) {
  std::string hash(CryptoService::kHashBytes, '\0');
  int rc = ARGON2_OK;
  run_at_lower_priority([&] { rc = argon2id_raw(password, salt, params, ARGON2_VERSION_13, &hash); });
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
    return Status::Unavailable("argon2id: out of memory; try again later");
  if (rc != ARGON2_OK)
    return Status::Internal(std::string("argon2id: ") + argon2_error_message(rc));
  // As argon2id_hash_encoded writes it.
  return "$argon2id$v=" + std::to_string(ARGON2_VERSION_13) + "$m=" +
         std::to_string(params.m_kib) + ",t=" + std::to_string(params.t) +
         ",p=" + std::to_string(params.p) + "$" + text::base64_encode_unpadded(salt) + "$" +
         text::base64_encode_unpadded(hash);
}

}  // namespace

// SHA-256 fetched once, and one digest context per thread, kept: EVP_sha256() makes OpenSSL 3
// look the implementation up again on every digest, under its global locks, and a new context
// allocates its state each time (the digest of a request's session cookie was a third of the
// session lookup's time in perf; 518 ns a digest that way, 144 ns this way, single-threaded).
// The context is a plain pointer, never freed (a few hundred bytes per thread, gone with the
// process): a thread_local with a destructor would pin the module in memory across httpd's
// restarts, so a new version of it would never be loaded (as KeyedMacs below says).
std::string sha256(const std::string& data) {
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // never freed
  thread_local EVP_MD_CTX* ctx = EVP_MD_CTX_new();                          // never freed
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = fetched ? fetched : EVP_sha256();
  const bool done = ctx ? EVP_DigestInit_ex2(ctx, type, nullptr) == 1 &&
                              EVP_DigestUpdate(ctx, data.data(), data.size()) == 1 &&
                              EVP_DigestFinal_ex(ctx, md, &len) == 1
                        : EVP_Digest(data.data(), data.size(), md, &len, type, nullptr) == 1;
  if (!done) len = 0;
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
            parse_cost(parts[3], out.params) && !parts[4].empty() && !parts[5].empty() &&
            text::base64_decode_unpadded(parts[4], out.salt) &&
            text::base64_decode_unpadded(parts[5], out.hash);
  if (!ok)
    return Status::Invalid("not an argon2id PHC string ($argon2id$v=19$m=M,t=T,p=P$salt$hash)");
  return out;
}

uint64_t password_hash_steps_aside() { return g_steps_aside.load(std::memory_order_relaxed); }

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

HashSlots::~HashSlots() { remove_server_slots(); }

HashSlots::Guard HashSlots::acquire(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, wait, [this] { return free_ > 0; })) return Guard(nullptr, false);
    --free_;
  }
  if (sem_id_ < 0) return Guard(this, false);
  sembuf take{0, -1, SEM_UNDO};
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::nanoseconds(0);
    timespec ts{static_cast<time_t>(left.count() / 1000000000),
                static_cast<long>(left.count() % 1000000000)};
    if (semtimedop(sem_id_, &take, 1, &ts) == 0) return Guard(this, true);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {  // none of the server's slots freed up in time
      release(false);
      return Guard(nullptr, false);
    }
    // The semaphore is gone (a restart removed it): this process's bound alone.
    return Guard(this, false);
  }
}

Status HashSlots::share_across_processes(unsigned slots,
                                         std::optional<std::pair<uid_t, gid_t>> owner) {
  remove_server_slots();
  int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  if (id < 0) return Status::Unavailable(std::string("semget: ") + std::strerror(errno));
  union {
    int val;
    semid_ds* buf;
  } arg{};
  arg.val = static_cast<int>(slots);
  bool ok = semctl(id, 0, SETVAL, arg) == 0;
  if (ok && owner) {
    semid_ds ds{};
    arg.buf = &ds;
    ok = semctl(id, 0, IPC_STAT, arg) == 0;
    ds.sem_perm.uid = owner->first;
    ds.sem_perm.gid = owner->second;
    ok = ok && semctl(id, 0, IPC_SET, arg) == 0;
  }
  if (!ok) {
    Status s = Status::Unavailable(std::string("semctl: ") + std::strerror(errno));
    semctl(id, 0, IPC_RMID);
    return s;
  }
  sem_id_ = id;
  sem_maker_ = getpid();
  return Status::Ok();
}

int HashSlots::free_server_slots() const { return sem_id_ < 0 ? -1 : semctl(sem_id_, 0, GETVAL); }

void HashSlots::remove_server_slots() {
  if (sem_id_ >= 0 && sem_maker_ == getpid()) semctl(sem_id_, 0, IPC_RMID);
  sem_id_ = -1;
}

unsigned HashSlots::free_slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_;
}

void HashSlots::release(bool server) {
  if (server) {
    sembuf give{0, 1, SEM_UNDO};
    while (semop(sem_id_, &give, 1) != 0 && errno == EINTR) {
    }
  }
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
  const std::string& expected = parsed->hash;
  std::string computed(expected.size(), '\0');
  int rc = ARGON2_OK;
  run_at_lower_priority([&] {
    rc = argon2id_raw(password, parsed->salt, parsed->params, parsed->version, &computed);
  });
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
    return Status::Unavailable("argon2id: out of memory; try again later");
  if (rc != ARGON2_OK) return Status::Invalid(std::string("argon2id: ") + argon2_error_message(rc));
  return CRYPTO_memcmp(computed.data(), expected.data(), expected.size()) == 0;
}

bool CryptoService::password_needs_rehash(const std::string& phc) const {
  Result<PhcString> parsed = parse_argon2id_phc(phc);
  if (!parsed.ok()) return true;
  const PasswordParams& p = parsed->params;
  return parsed->version != ARGON2_VERSION_13 || p.m_kib != params_.m_kib || p.t != params_.t ||
         p.p != params_.p || parsed->salt.size() != kSaltBytes || parsed->hash.size() != kHashBytes;
}

}  // namespace core
}  // namespace natomedia
