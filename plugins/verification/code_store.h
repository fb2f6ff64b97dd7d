// The emailed one-time codes in memcached (CONTRACT section 5). Plain logic over the SDK's Cache
// and Crypto, so it runs the same against a fake cache in unit tests.
//
// Per (purpose, address) there are two entries, both keyed by an HMAC of the address (no address
// in memcached keys):
//   codes:c:P:H   "c2 HMAC ISSUED WRONG BINDING": the code's HMAC, issue time, wrong entries so
//                 far, and the registration the code is bound to ("-" for none); "x" once
//                 consumed or killed. TTL: NatoMediaCodeLifetime. A decoy (an address that must
//                 get no code) is the same entry with a random HMAC that no typed code matches,
//                 so it answers wrong, dead and expired exactly as a real code does. ("c1 HMAC
//                 ISSUED WRONG", the format before bindings, is read as bound to nothing.)
//   codes:w:P:H   "COUNT WINDOW_START": wrong entries in the current hour, across codes. Made
//                 when a code is issued and kept (not reset) by the next code. If it has vanished
//                 (eviction, memcached restart) the live code is refused: losing it must never give
//                 fresh tries.
// Rate limits are fixed hourly windows (codes:ra:H:HOUR per address, codes:ri:H:HOUR per client
// IP) and the resend cooldown is codes:cd:P:H (holding the issue time).
//
// Every method is thread-safe as far as the Cache is: races are settled by add and CAS.
#pragma once

#include <ctime>
#include <string>

#include <natomedia/providers.h>
#include <natomedia/services.h>

namespace natomedia::verification {

struct CodeLimits {
  long lifetime = 1800;           // NatoMediaCodeLifetime
  long cooldown = 60;             // NatoMediaResendCooldown
  int wrong_per_code = 5;         // the 5th wrong entry kills the code
  int wrong_per_hour = 10;        // per account (address), across codes
  int codes_per_address = 5;      // an hour
  int codes_per_ip = 20;          // an hour
};

// "verify", "reset" or "change": the purpose as it appears in keys and HMAC labels.
std::string purpose_name(CodePurpose purpose);

// The code as typed with spaces and dashes (ASCII and the common Unicode ones) removed.
std::string clean_typed_code(const std::string& typed);

class CodeStore {
 public:
  CodeStore(Cache& cache, const Crypto& crypto, CodeLimits limits)
      : cache_(cache), crypto_(crypto), limits_(limits) {}

  // The resend cooldown and the hourly limits for one more code to `email` from `client_ip`
  // (counted by natomedia::client_key: an IPv4 address or an IPv6 /64).
  // kSent means "allowed" (and counted); nothing is stored for the code itself.
  CodeIssue admit(CodePurpose purpose, const std::string& email, const std::string& client_ip,
                  std::time_t now);
  // Stores `code` as the one live code for (purpose, email), bound to `binding` (a registration,
  // "" for none), killing any earlier one but keeping the hourly count of wrong entries.
  // Unavailable when memcached cannot be reached.
  Status store(CodePurpose purpose, const std::string& email, const std::string& code,
               std::time_t now, const std::string& binding = "");
  // The same work and entry as store() for a code nobody gets: in place of its HMAC, `random`
  // (32 bytes from the CSPRNG), so no typed code is ever right. Kills any earlier code, as
  // store() does.
  Status store_decoy(CodePurpose purpose, const std::string& email, std::time_t now,
                     const std::string& random);
  // Checks `typed` and consumes the code when it is right (exactly one caller wins a race); on
  // kOk, *binding (when given) is what the code was bound to ("" for nothing).
  CodeCheck check(CodePurpose purpose, const std::string& email, const std::string& typed,
                  std::time_t now, std::string* binding = nullptr);
  // Removes every code state of `email` (each purpose's live code, wrong-entry count and
  // cooldown): the account-deleted erasure. Unavailable when memcached cannot be reached.
  Status forget(const std::string& email);

 private:
  struct Hourly;
  std::string key(const char* kind, CodePurpose purpose, const std::string& email) const;
  std::string code_hmac(CodePurpose purpose, const std::string& email,
                        const std::string& code) const;
  long counter_ttl() const;
  Status put(CodePurpose purpose, const std::string& email, const std::string& hmac,
             std::time_t now, const std::string& binding);
  CodeIssue hourly_limit(const std::string& key, int limit, std::time_t now);
  CodeCheck record_wrong(const std::string& code_key, const std::string& wrong_key,
                         std::time_t now);

  Cache& cache_;
  const Crypto& crypto_;
  CodeLimits limits_;
};

}  // namespace natomedia::verification
