// Sign-in throttling (CONTRACT sections 5 and 12), holding under concurrency.
//
// Every attempt takes a place before its password is checked: one of 5 places of the address,
// each held for 5 minutes, and one of 10 places of the client (an IPv4 address or an IPv6 /64,
// see natomedia/client_address.h), each held for 1 minute. A place is taken with memcached `add`,
// which is atomic across every child and every node, so however many attempts arrive at once no
// more passwords are checked than there are places; an attempt that finds no free place is
// refused (429) before any hash is made. A right password, or a check that could not run (every
// hash slot busy), gives its places back; a wrong one keeps them until they expire.
//
// Failures also lock, as section 5 says: 5 failures of an address (10 of a client) lock it for a
// while that doubles from 1 to at most 15 minutes, and at least until one of its places frees.
// Never permanent: places, lock and doubling level expire on their own (the level an hour after
// the last lock); a password reset unlocks the address.
//
// Everything lives in memcached, shared by every node, keyed by an HMAC of the address or client
// (no address in the cache). An address without an account is counted like any other, so the
// answer never tells whether it exists. When memcached cannot be reached the throttle lets the
// attempt through (argon2id's bounded hash slots still bound the rate) and says so in the log.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::auth {

struct ThrottleLimits {
  long account_failures = 5;  // places (and failures before a lock) of one address ...
  long account_window = 300;  // ... each held this many seconds
  long ip_failures = 10;      // places (and failures before a lock) of one client ...
  long ip_window = 60;        // ... each held this many seconds
  long first_lock = 60;       // seconds of the first lock; each next one doubles
  long max_lock = 900;        // the longest lock
  long level_memory = 3600;   // seconds after a lock ends before the doubling starts over
};

// The length of the lock imposed for the `level`-th time in a row (0-based): first_lock doubled
// `level` times, at most max_lock. Pure.
long lock_seconds(const ThrottleLimits& limits, long level);

class SignInThrottle {
 public:
  // One sign-in attempt: the places it holds, or why it may not go on.
  struct Attempt {
    long retry_after = 0;  // > 0: refused, nothing is held; seconds until it may try again
    std::string who;       // the address as the throttle counts it
    std::vector<std::string> places;  // cache keys of the places held
    bool refused() const { return retry_after > 0; }
  };

  explicit SignInThrottle(ThrottleLimits limits = {}) : limits_(limits) {}

  // Takes a place of `email` (normalised) and of this request's client, or refuses when either
  // is locked or has no free place. Call it before the password is checked, and then exactly
  // one of failed(), succeeded() or abandoned() unless it was refused.
  Attempt begin(Context& ctx, const std::string& email) const;
  // The password was wrong (or the account may not sign in): the places stay taken until they
  // expire; the failure counts toward a lock of the address and of the client.
  void failed(Context& ctx, const Attempt& attempt) const;
  // A right password: the places are given back and the address's failures forgiven (its
  // doubling level is kept).
  void succeeded(Context& ctx, const Attempt& attempt) const;
  // No password was checked (every hash slot busy, the database down): the places are given back.
  void abandoned(Context& ctx, const Attempt& attempt) const;
  // The owner proved control of the mailbox (password reset): the address is unlocked and its
  // places are freed.
  void clear(Context& ctx, const std::string& email) const;

 private:
  // The cache keys of one address or client, and its limits.
  struct Keys {
    std::string base, failures, lock, level;
    long places = 0;  // how many places, and how many failures lock
    long window = 0;  // seconds a place is held, and the failures are counted
    std::string place(long i) const { return base + ":p" + std::to_string(i); }
  };
  Keys account_keys(Context& ctx, const std::string& email) const;
  Keys client_keys(Context& ctx) const;
  Keys keys(Context& ctx, const std::string& kind, const std::string& who, long places,
            long window) const;
  long locked_for(Context& ctx, const Keys& keys) const;
  long earliest_free(Context& ctx, const Keys& keys) const;
  long take_place(Context& ctx, const Keys& keys, std::vector<std::string>& held) const;
  void give_back(Context& ctx, const Attempt& attempt) const;
  void count_failure(Context& ctx, const Keys& keys) const;

  ThrottleLimits limits_;
};

}  // namespace natomedia::auth
