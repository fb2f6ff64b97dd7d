// CryptoService: randomness, HMAC known answers, signatures across a key rotation, argon2id
// passwords and the bound on concurrent hashes.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <argon2.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <natomedia/text.h>

#include "core/crypto_service.h"
#include "core/secret_keys.h"

using natomedia::Status;
using natomedia::core::CryptoService;
using natomedia::core::dummy_password_hash;
using natomedia::core::HashSlots;
using natomedia::core::hmac_sha256;
using natomedia::core::parse_argon2id_phc;
using natomedia::core::PasswordParams;
using natomedia::core::SecretKeys;
namespace text = natomedia::text;

namespace {

const std::string kKeyA = "key-A-0123456789-0123456789-0123456789";
const std::string kKeyB = "key-B-abcdefghij-abcdefghij-abcdefghij";

SecretKeys keys_from(const std::string& content) {
  auto keys = SecretKeys::parse(content, "test");
  CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
  return *keys;
}

// Small argon2 cost for the tests that are not about the cost itself.
const PasswordParams kCheap{1024, 1, 1};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Runs right(t, i) for i in [0, rounds) on each of 8 threads t at once; how many were false.
int wrong_answers_from_threads(int rounds, const std::function<bool(int, int)>& right) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i)
        if (!right(t, i)) ++wrong;
    });
  for (auto& thread : threads) thread.join();
  return wrong.load();
}

}  // namespace

class CryptoTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CryptoTest);
  CPPUNIT_TEST(testRandomBytes);
  CPPUNIT_TEST(testDigitsAllDigitsUniform);
  CPPUNIT_TEST(testRandomToken);
  CPPUNIT_TEST(testHmacKnownAnswers);
  CPPUNIT_TEST(testHmacManyKeysManyThreads);
  CPPUNIT_TEST(testSha256ManyThreads);
  CPPUNIT_TEST(testSha256Hex);
  CPPUNIT_TEST(testPurposeHmac);
  CPPUNIT_TEST(testSignVerify);
  CPPUNIT_TEST(testSignTampering);
  CPPUNIT_TEST(testSignRotation);
  CPPUNIT_TEST(testEqual);
  CPPUNIT_TEST(testPasswordHashFormat);
  CPPUNIT_TEST(testPasswordVerify);
  CPPUNIT_TEST(testPasswordMalformed);
  CPPUNIT_TEST(testPasswordAgreesWithLibargon2);
  CPPUNIT_TEST(testPasswordHashesInParallel);
  CPPUNIT_TEST(testHashesRunUnderSchedIdle);
  CPPUNIT_TEST(testHashStepsAside);
  CPPUNIT_TEST(testNeedsRehash);
  CPPUNIT_TEST(testDummyHash);
  CPPUNIT_TEST(testConcurrencyLimit);
  CPPUNIT_TEST(testSlotFreedInTime);
  CPPUNIT_TEST(testServerSlotsAcrossProcesses);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRandomBytes() {
    CryptoService c(keys_from(kKeyA));
    std::string a = c.random_bytes(32);
    std::string b = c.random_bytes(32);
    CPPUNIT_ASSERT_EQUAL(size_t{32}, a.size());
    CPPUNIT_ASSERT(a != b);
    CPPUNIT_ASSERT_EQUAL(size_t{0}, c.random_bytes(0).size());
  }

  void testDigitsAllDigitsUniform() {
    CryptoService c(keys_from(kKeyA));
    CPPUNIT_ASSERT_EQUAL(size_t{6}, c.random_digits(6).size());
    const size_t n = 200000;
    std::string digits = c.random_digits(n);
    CPPUNIT_ASSERT_EQUAL(n, digits.size());
    std::array<size_t, 10> counts{};
    for (char d : digits) {
      CPPUNIT_ASSERT(d >= '0' && d <= '9');
      ++counts[d - '0'];
    }
    // Chi-square with 9 degrees of freedom: above 40 happens with p < 1e-5 for a fair source.
    // Taking every byte modulo 10 (0-5 more likely) gives about 70 here, so the test can fail.
    double expected = n / 10.0;
    double chi2 = 0;
    for (size_t k : counts) {
      CPPUNIT_ASSERT(k > 0);
      chi2 += (k - expected) * (k - expected) / expected;
    }
    CPPUNIT_ASSERT_MESSAGE("chi2 = " + std::to_string(chi2), chi2 < 40.0);
  }

  void testRandomToken() {
    CryptoService c(keys_from(kKeyA));
    std::string t = c.random_token(32);
    CPPUNIT_ASSERT_EQUAL(size_t{43}, t.size());  // 32 bytes, unpadded base64url
    std::string raw;
    CPPUNIT_ASSERT(text::base64url_decode(t, raw));
    CPPUNIT_ASSERT_EQUAL(size_t{32}, raw.size());
    CPPUNIT_ASSERT(c.random_token(32) != t);
  }

  void testHmacKnownAnswers() {
    // RFC 4231 test case 2.
    CPPUNIT_ASSERT_EQUAL(
        std::string("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        text::hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")));
    // RFC 4231 test case 1.
    CPPUNIT_ASSERT_EQUAL(
        std::string("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        text::hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")));
  }

  // hmac_sha256 keeps keyed contexts shared by threads and forgets them all when it has too many:
  // many threads with more keys than it keeps (and an empty key, which OpenSSL will not key a
  // context with) must all get the one-shot HMAC's answer.
  void testHmacManyKeysManyThreads() {
    auto reference = [](const std::string& key, const std::string& data) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
      return std::string(reinterpret_cast<char*>(md), len);
    };
    CPPUNIT_ASSERT_EQUAL(0, wrong_answers_from_threads(2000, [&](int t, int i) {
      const std::string key = i % 97 == 0 ? std::string() : "key-" + std::to_string((i + t) % 150);
      const std::string data = "data " + std::to_string(i);
      return hmac_sha256(key, data) == reference(key, data);
    }));
  }

  void testSha256Hex() {
    CryptoService c(keys_from(kKeyA));
    CPPUNIT_ASSERT_EQUAL(
        std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        c.sha256_hex("abc"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        c.sha256_hex(""));
  }

  // sha256 keeps one digest context per thread: many threads, inputs of every length from 0 to
  // 300 bytes (several blocks), each the one-shot digest's answer.
  void testSha256ManyThreads() {
    auto reference = [](const std::string& data) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
      return std::string(reinterpret_cast<char*>(md), len);
    };
    CPPUNIT_ASSERT_EQUAL(0, wrong_answers_from_threads(1500, [&](int t, int i) {
      const std::string data(static_cast<size_t>((i + t) % 301), static_cast<char>('a' + t));
      return natomedia::core::sha256(data) == reference(data);
    }));
  }

  void testPurposeHmac() {
    CryptoService c(keys_from(kKeyA));
    std::string mac = c.hmac("code", "a@example.org:123456");
    CPPUNIT_ASSERT_EQUAL(size_t{32}, mac.size());
    // The documented derivation: HMAC(HMAC(current key, "natomedia:" + purpose), data).
    CPPUNIT_ASSERT(mac ==
                   hmac_sha256(hmac_sha256(kKeyA, "natomedia:code"), "a@example.org:123456"));
    CPPUNIT_ASSERT(mac != c.hmac("session", "a@example.org:123456"));
    CPPUNIT_ASSERT(mac != c.hmac("code", "a@example.org:123457"));
    CryptoService other(keys_from(kKeyB));
    CPPUNIT_ASSERT(mac != other.hmac("code", "a@example.org:123456"));
  }

  void testSignVerify() {
    SecretKeys keys = keys_from(kKeyA);
    CryptoService c(keys);
    std::string sig = c.sign("download", "613342/hd1080:1700000000");
    CPPUNIT_ASSERT(starts_with(sig, keys.keys[0].id + "."));
    CPPUNIT_ASSERT_EQUAL(size_t{8 + 1 + 43}, sig.size());
    CPPUNIT_ASSERT(c.verify("download", "613342/hd1080:1700000000", sig));
    CPPUNIT_ASSERT(!c.verify("download", "613342/hd1080:1700000001", sig));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", "613342/hd1080:1700000000", sig));
    // A signature is never the hmac() of the same purpose and data.
    std::string mac = text::base64url_encode(c.hmac("download", "613342/hd1080:1700000000"));
    CPPUNIT_ASSERT(!c.verify("download", "613342/hd1080:1700000000", keys.keys[0].id + "." + mac));
  }

  void testSignTampering() {
    CryptoService c(keys_from(kKeyA));
    std::string data = "account:42";
    std::string sig = c.sign("unsubscribe", data);
    std::string flipped = sig;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, flipped));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, sig.substr(0, sig.size() - 1)));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, sig + "A"));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, "deadbeef" + sig.substr(8)));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, sig.substr(9)));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, ""));
    CPPUNIT_ASSERT(!c.verify("unsubscribe", data, "."));
  }

  void testSignRotation() {
    CryptoService before(keys_from(kKeyA));
    std::string old_sig = before.sign("download", "item");
    SecretKeys rotated = keys_from(kKeyB + "\n" + kKeyA + "\n");
    CryptoService after(rotated);
    CPPUNIT_ASSERT(after.verify("download", "item", old_sig));
    std::string new_sig = after.sign("download", "item");
    CPPUNIT_ASSERT(starts_with(new_sig, rotated.keys[0].id + "."));
    CPPUNIT_ASSERT(new_sig != old_sig);
    CPPUNIT_ASSERT(after.verify("download", "item", new_sig));
    CPPUNIT_ASSERT(!before.verify("download", "item", new_sig));
    // Once the old key leaves the file its signatures stop working.
    CryptoService retired(keys_from(kKeyB));
    CPPUNIT_ASSERT(!retired.verify("download", "item", old_sig));
    // The key id is only a label: the old id with a signature made by another key fails.
    std::string forged = old_sig.substr(0, 9) + new_sig.substr(9);
    CPPUNIT_ASSERT(!after.verify("download", "item", forged));
  }

  void testEqual() {
    CryptoService c(keys_from(kKeyA));
    CPPUNIT_ASSERT(c.equal("", ""));
    CPPUNIT_ASSERT(c.equal("123456", "123456"));
    CPPUNIT_ASSERT(!c.equal("123456", "123457"));
    CPPUNIT_ASSERT(!c.equal("123456", "12345"));
    CPPUNIT_ASSERT(!c.equal("12345", "123456"));
    CPPUNIT_ASSERT(!c.equal("", "1"));
    CPPUNIT_ASSERT(!c.equal(std::string("a\0b", 3), std::string("a\0c", 3)));
    CPPUNIT_ASSERT(c.equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  }

  void testPasswordHashFormat() {
    CryptoService c(keys_from(kKeyA));  // the default, OWASP minimum, parameters
    auto phc = c.password_hash("Correct-Horse-9");
    CPPUNIT_ASSERT_MESSAGE(phc.status().message(), phc.ok());
    CPPUNIT_ASSERT_MESSAGE(*phc, starts_with(*phc, "$argon2id$v=19$m=19456,t=2,p=1$"));
    auto parsed = parse_argon2id_phc(*phc);
    CPPUNIT_ASSERT(parsed.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{16}, parsed->salt.size());
    CPPUNIT_ASSERT_EQUAL(size_t{32}, parsed->hash.size());
    auto again = c.password_hash("Correct-Horse-9");
    CPPUNIT_ASSERT(again.ok());
    CPPUNIT_ASSERT(*again != *phc);  // a fresh salt each time
    auto ok = c.password_verify("Correct-Horse-9", *phc);
    CPPUNIT_ASSERT(ok.ok() && *ok);
  }

  void testPasswordVerify() {
    CryptoService c(keys_from(kKeyA), kCheap);
    auto phc = c.password_hash("Tr0ub4dor&3-long");
    CPPUNIT_ASSERT(phc.ok());
    auto right = c.password_verify("Tr0ub4dor&3-long", *phc);
    CPPUNIT_ASSERT(right.ok() && *right);
    auto wrong = c.password_verify("Tr0ub4dor&3-lonG", *phc);
    CPPUNIT_ASSERT(wrong.ok() && !*wrong);
    auto prefix = c.password_verify("Tr0ub4dor&3-lon", *phc);
    CPPUNIT_ASSERT(prefix.ok() && !*prefix);
    // Bytes after a NUL count: the password is never cut short.
    std::string with_nul("ab\0cd", 5);
    auto nul_phc = c.password_hash(with_nul);
    CPPUNIT_ASSERT(nul_phc.ok());
    auto cut = c.password_verify("ab", *nul_phc);
    CPPUNIT_ASSERT(cut.ok() && !*cut);
  }

  // The module hashes and verifies through argon2_ctx (its own memory for argon2) and writes
  // and reads the PHC string itself: libargon2's own functions must agree both ways, for salts
  // whose base64 ends in each possible way.
  void testPasswordAgreesWithLibargon2() {
    CryptoService c(keys_from(kKeyA), kCheap);
    auto ours = c.password_hash("Tr0ub4dor&3-long");
    CPPUNIT_ASSERT(ours.ok());
    CPPUNIT_ASSERT_EQUAL(int{ARGON2_OK}, argon2id_verify(ours->c_str(), "Tr0ub4dor&3-long", 16));
    CPPUNIT_ASSERT_EQUAL(int{ARGON2_VERIFY_MISMATCH},
                         argon2id_verify(ours->c_str(), "Tr0ub4dor&3-lonG", 16));
    for (size_t salt_len : {16, 17, 18}) {
      const std::string salt(salt_len, 's');
      char encoded[256];
      CPPUNIT_ASSERT_EQUAL(int{ARGON2_OK},
                           argon2id_hash_encoded(kCheap.t, kCheap.m_kib, kCheap.p, "pw-1234567",
                                                 10, salt.data(), salt.size(), 32, encoded,
                                                 sizeof encoded));
      auto right = c.password_verify("pw-1234567", encoded);
      CPPUNIT_ASSERT(right.ok() && *right);
      auto wrong = c.password_verify("pw-1234568", encoded);
      CPPUNIT_ASSERT(wrong.ok() && !*wrong);
    }
    // The parameters are written as argon2id_hash_encoded writes them.
    char encoded[256];
    const std::string salt(16, '\x07');
    CPPUNIT_ASSERT_EQUAL(int{ARGON2_OK},
                         argon2id_hash_encoded(kCheap.t, kCheap.m_kib, kCheap.p, "pw-1234567", 10,
                                               salt.data(), salt.size(), 32, encoded,
                                               sizeof encoded));
    const std::string library = encoded;
    const std::string params = library.substr(0, library.find('$', library.find("$m=") + 1) + 1);
    CPPUNIT_ASSERT_EQUAL(std::string("$argon2id$v=19$m=1024,t=1,p=1$"), params);
    CPPUNIT_ASSERT_EQUAL(params, ours->substr(0, params.size()));
    CPPUNIT_ASSERT_EQUAL(library.size(), ours->size());  // 16-byte salt, 32-byte hash
  }

  // Concurrent hashes share argon2's kept buffers: every one must still verify.
  void testPasswordHashesInParallel() {
    CryptoService c(keys_from(kKeyA), kCheap, 4);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 3; ++i) {
          const std::string password = "password-" + std::to_string(t) + "-" + std::to_string(i);
          auto phc = c.password_hash(password);
          auto ok = phc.ok() ? c.password_verify(password, *phc) : natomedia::Result<bool>(phc.status());
          auto bad = phc.ok() ? c.password_verify(password + "x", *phc) : natomedia::Result<bool>(false);
          if (!ok.ok() || !*ok || !bad.ok() || *bad) ++wrong;
        }
      });
    for (auto& thread : threads) thread.join();
    CPPUNIT_ASSERT_EQUAL(0, wrong.load());
  }

  // The hash runs on a thread of its own under SCHED_IDLE, so a page request that wakes up
  // takes the CPU from it. Seen from outside, as an administrator would: /proc/self/task.
  void testHashesRunUnderSchedIdle() {
    CryptoService c(keys_from(kKeyA), PasswordParams{19456, 2, 1});
    const pid_t here = static_cast<pid_t>(syscall(SYS_gettid));
    std::atomic<bool> done{false};
    std::atomic<int> idle_seen{0}, other_seen{0};
    std::thread watcher([&] {
      while (!done.load()) {
        DIR* dir = opendir("/proc/self/task");
        if (!dir) break;
        while (dirent* e = readdir(dir)) {
          pid_t tid = static_cast<pid_t>(atoi(e->d_name));
          if (tid <= 0 || tid == here || tid == static_cast<pid_t>(syscall(SYS_gettid))) continue;
          int policy = sched_getscheduler(tid);
          if (policy == SCHED_IDLE)
            ++idle_seen;
          else if (policy >= 0)
            ++other_seen;
        }
        closedir(dir);
      }
    });
    for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT(c.password_hash("password-1A!").ok());
    done = true;
    watcher.join();
    CPPUNIT_ASSERT_MESSAGE("no thread under SCHED_IDLE was seen during three hashes",
                           idle_seen.load() > 0);
    CPPUNIT_ASSERT_EQUAL(SCHED_OTHER, sched_getscheduler(0));  // the caller's thread unchanged
  }

  // A hash steps aside every 2 ms (a timer signal makes its thread yield), so a page thread that
  // wakes onto its CPU does not wait for the next scheduler tick. Three default-cost hashes take
  // tens of milliseconds each: several steps at least. The caller's own signal mask is untouched.
  void testHashStepsAside() {
    CryptoService c(keys_from(kKeyA), PasswordParams{19456, 2, 1});
    sigset_t before, after;
    pthread_sigmask(SIG_BLOCK, nullptr, &before);
    const uint64_t steps = natomedia::core::password_hash_steps_aside();
    for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT(c.password_hash("password-1A!").ok());
    CPPUNIT_ASSERT_MESSAGE("no hash stepped aside in three hashes",
                           natomedia::core::password_hash_steps_aside() >= steps + 3);
    pthread_sigmask(SIG_BLOCK, nullptr, &after);
    for (int sig = 1; sig < NSIG; ++sig)
      CPPUNIT_ASSERT_EQUAL(sigismember(&before, sig), sigismember(&after, sig));
  }

  void testPasswordMalformed() {
    CryptoService c(keys_from(kKeyA), kCheap);
    auto phc = c.password_hash("password-1A!");
    CPPUNIT_ASSERT(phc.ok());
    const std::string good = *phc;
    const std::string bad[] = {
        "",
        "not a hash",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        good.substr(0, good.rfind('$')),
        "$argon2i" + good.substr(9),
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=99999999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
        "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
        "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",  // 4 GiB: refused, not run
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA*$aGFzaA",
        good + "$extra",
    };
    for (const auto& phc_string : bad) {
      auto r = c.password_verify("password-1A!", phc_string);
      CPPUNIT_ASSERT_MESSAGE(phc_string, !r.ok());
      CPPUNIT_ASSERT_MESSAGE(phc_string, r.status().code() == Status::Code::kInvalid);
      CPPUNIT_ASSERT(c.password_needs_rehash(phc_string));
    }
  }

  void testNeedsRehash() {
    CryptoService current(keys_from(kKeyA), kCheap);
    auto phc = current.password_hash("password-1A!");
    CPPUNIT_ASSERT(phc.ok());
    CPPUNIT_ASSERT(!current.password_needs_rehash(*phc));
    CryptoService more_memory(keys_from(kKeyA), PasswordParams{2048, 1, 1});
    CryptoService more_passes(keys_from(kKeyA), PasswordParams{1024, 2, 1});
    CryptoService more_lanes(keys_from(kKeyA), PasswordParams{1024, 1, 2});
    CPPUNIT_ASSERT(more_memory.password_needs_rehash(*phc));
    CPPUNIT_ASSERT(more_passes.password_needs_rehash(*phc));
    CPPUNIT_ASSERT(more_lanes.password_needs_rehash(*phc));
    // The old hash still verifies under the new parameters, so sign-in can re-hash it.
    auto ok = more_memory.password_verify("password-1A!", *phc);
    CPPUNIT_ASSERT(ok.ok() && *ok);
  }

  void testDummyHash() {
    const std::string& dummy = dummy_password_hash();
    CPPUNIT_ASSERT(starts_with(dummy, "$argon2id$v=19$m=19456,t=2,p=1$"));
    CPPUNIT_ASSERT_EQUAL(&dummy, &dummy_password_hash());  // made once
    CryptoService c(keys_from(kKeyA));
    CPPUNIT_ASSERT(!c.password_needs_rehash(dummy));
    auto r = c.password_verify("any password at all", dummy);
    CPPUNIT_ASSERT_MESSAGE(r.status().message(), r.ok() && !*r);
  }

  void testConcurrencyLimit() {
    CryptoService c(keys_from(kKeyA), kCheap, 1);
    CPPUNIT_ASSERT_EQUAL(1u, c.hash_slots().free_slots());
    auto phc = c.password_hash("password-1A!");
    CPPUNIT_ASSERT(phc.ok());
    {
      HashSlots::Guard held = c.hash_slots().acquire(std::chrono::milliseconds(0));
      CPPUNIT_ASSERT(held.held());
      CPPUNIT_ASSERT_EQUAL(0u, c.hash_slots().free_slots());
      auto start = std::chrono::steady_clock::now();
      auto r = c.password_hash("password-1A!");
      auto waited = std::chrono::steady_clock::now() - start;
      CPPUNIT_ASSERT(!r.ok());
      CPPUNIT_ASSERT(r.status().code() == Status::Code::kUnavailable);
      CPPUNIT_ASSERT(waited >= std::chrono::milliseconds(1900));
      CPPUNIT_ASSERT(waited < std::chrono::milliseconds(4000));
      auto v = c.password_verify("password-1A!", *phc);
      CPPUNIT_ASSERT(v.status().code() == Status::Code::kUnavailable);
    }
    CPPUNIT_ASSERT_EQUAL(1u, c.hash_slots().free_slots());
    auto v = c.password_verify("password-1A!", *phc);
    CPPUNIT_ASSERT(v.ok() && *v);
  }

  // httpd's children share the server's slots: a SysV semaphore that a child dying with a slot
  // gives back (SEM_UNDO). A fork stands for a child.
  void testServerSlotsAcrossProcesses() {
    using std::chrono::milliseconds;
    HashSlots slots(4);
    CPPUNIT_ASSERT_EQUAL(-1, slots.free_server_slots());
    CPPUNIT_ASSERT(slots.share_across_processes(1, std::make_pair(getuid(), getgid())).ok());
    CPPUNIT_ASSERT_EQUAL(1, slots.free_server_slots());
    {
      HashSlots::Guard first = slots.acquire(milliseconds(100));
      CPPUNIT_ASSERT(first.held());
      CPPUNIT_ASSERT_EQUAL(0, slots.free_server_slots());
      auto start = std::chrono::steady_clock::now();
      HashSlots::Guard second = slots.acquire(milliseconds(150));
      // Three of the process's slots are free, none of the server's.
      CPPUNIT_ASSERT(!second.held());
      CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start >= milliseconds(140));
      CPPUNIT_ASSERT_EQUAL(3u, slots.free_slots());  // the one it took while waiting is back
    }
    CPPUNIT_ASSERT_EQUAL(1, slots.free_server_slots());
    CPPUNIT_ASSERT_EQUAL(4u, slots.free_slots());

    int ready[2];
    CPPUNIT_ASSERT_EQUAL(0, pipe(ready));
    pid_t child = fork();
    CPPUNIT_ASSERT(child >= 0);
    if (child == 0) {  // takes the slot, says so, holds it, and dies without giving it back
      HashSlots::Guard g = slots.acquire(milliseconds(1000));
      char c = g.held() ? 'y' : 'n';
      if (write(ready[1], &c, 1) != 1) _exit(2);
      usleep(300 * 1000);
      _exit(0);
    }
    char c = 0;
    CPPUNIT_ASSERT_EQUAL(static_cast<ssize_t>(1), read(ready[0], &c, 1));
    close(ready[0]);
    close(ready[1]);
    CPPUNIT_ASSERT_EQUAL('y', c);
    CPPUNIT_ASSERT(!slots.acquire(milliseconds(50)).held());  // the child holds the only one
    int status = 0;
    CPPUNIT_ASSERT_EQUAL(child, waitpid(child, &status, 0));
    CPPUNIT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CPPUNIT_ASSERT_EQUAL(1, slots.free_server_slots());  // given back by the kernel
    CPPUNIT_ASSERT(slots.acquire(milliseconds(100)).held());
  }

  void testSlotFreedInTime() {
    CryptoService c(keys_from(kKeyA), kCheap, 2);
    HashSlots::Guard a = c.hash_slots().acquire(std::chrono::milliseconds(0));
    std::atomic<bool> holding{false};
    std::thread holder([&c, &holding] {
      HashSlots::Guard b = c.hash_slots().acquire(std::chrono::milliseconds(0));
      holding = b.held();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
    while (!holding && c.hash_slots().free_slots() > 0) std::this_thread::yield();
    CPPUNIT_ASSERT_EQUAL(0u, c.hash_slots().free_slots());
    auto r = c.password_hash("password-1A!");  // waits for the holder, then runs
    holder.join();
    CPPUNIT_ASSERT(holding);
    CPPUNIT_ASSERT_MESSAGE(r.status().message(), r.ok());
    CPPUNIT_ASSERT_EQUAL(1u, c.hash_slots().free_slots());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CryptoTest);
