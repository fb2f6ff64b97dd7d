// Sign-in throttling (CONTRACT section 5): 5 failures in 5 minutes for one address, or 10 in a
// minute from one client IP, lock that address or IP out for a while that doubles from 1 to at
// most 15 minutes. Never permanent: the lock and its doubling level expire on their own.
//
// Counters live in memcached, shared by every node, keyed by an HMAC of the address or IP (no
// address in the cache). An address without an account is counted like any other, so the
// answer never tells whether it exists. When memcached cannot be reached the throttle lets the
// attempt through (argon2id's bounded hash slots still bound the rate) and says so in the log.
#pragma once

#include <ctime>
#include <string>

#include <natomedia/plugin.h>

namespace natomedia::auth {

struct ThrottleLimits {
  long account_failures = 5;  // failures of one address ...
  long account_window = 300;  // ... within this many seconds
  long ip_failures = 10;      // failures from one client IP ...
  long ip_window = 60;        // ... within this many seconds
  long first_lock = 60;       // seconds of the first lock; each next one doubles
  long max_lock = 900;        // the longest lock
  long level_memory = 3600;   // seconds after a lock ends before the doubling starts over
};

// The length of the lock imposed for the `level`-th time in a row (0-based): first_lock doubled
// `level` times, at most max_lock. Pure.
long lock_seconds(const ThrottleLimits& limits, long level);

class SignInThrottle {
 public:
  explicit SignInThrottle(ThrottleLimits limits = {}) : limits_(limits) {}

  // Seconds until `email` (normalised) or this client IP may try again; 0 when not locked.
  long retry_after(Context& ctx, const std::string& email) const;
  // Counts a failed sign-in; locks the address or the IP when it reaches its limit.
  void record_failure(Context& ctx, const std::string& email) const;
  // A right password: the address's failures are forgiven (its doubling level is kept).
  void record_success(Context& ctx, const std::string& email) const;
  // The owner proved control of the mailbox (password reset): the address is unlocked.
  void clear(Context& ctx, const std::string& email) const;

 private:
  struct Keys {
    std::string failures, lock, level;
  };
  Keys keys(Context& ctx, const std::string& kind, const std::string& who) const;
  long locked_for(Context& ctx, const Keys& keys) const;
  void count(Context& ctx, const Keys& keys, long limit, long window) const;

  ThrottleLimits limits_;
};

}  // namespace natomedia::auth
