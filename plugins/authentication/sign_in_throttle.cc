#include "sign_in_throttle.h"

#include <algorithm>

#include <natomedia/client_address.h>
#include <natomedia/text.h>

namespace natomedia::auth {

namespace {

long parse_long(const std::string& s) {
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 1000000000000L) return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

void warn_cache(Context& ctx, const std::string& what) {
  ctx.log(LogLevel::kWarning,
          "sign-in throttle: memcached " + what + " failed; the attempt is not throttled");
}

long now_of(Context& ctx) { return static_cast<long>(ctx.clock().now()); }

}  // namespace

long lock_seconds(const ThrottleLimits& limits, long level) {
  long seconds = limits.first_lock;
  for (long i = 0; i < level && seconds < limits.max_lock; ++i) seconds *= 2;
  return seconds < limits.max_lock ? seconds : limits.max_lock;
}

SignInThrottle::Keys SignInThrottle::keys(Context& ctx, const std::string& kind,
                                          const std::string& who, long places, long window) const {
  const std::string id = text::hex_encode(ctx.crypto().hmac("auth.throttle", kind + ":" + who));
  const std::string base = "auth:" + kind + ":" + id.substr(0, 32);
  return {base, base + ":f", base + ":l", base + ":n", places, window};
}

SignInThrottle::Keys SignInThrottle::account_keys(Context& ctx, const std::string& email) const {
  return keys(ctx, "a", email, limits_.account_failures, limits_.account_window);
}

SignInThrottle::Keys SignInThrottle::client_keys(Context& ctx) const {
  return keys(ctx, "i", client_key(ctx.request().client_ip), limits_.ip_failures,
              limits_.ip_window);
}

long SignInThrottle::locked_for(Context& ctx, const Keys& k) const {
  CacheEntry lock = ctx.cache().get(k.lock);
  if (lock.outcome == CacheOutcome::kError) {
    warn_cache(ctx, "get");
    return 0;
  }
  if (lock.outcome != CacheOutcome::kHit) return 0;
  long left = parse_long(lock.value) - now_of(ctx);
  return left > 0 ? left : 0;
}

// Seconds until the first of the places frees (each holds the time it expires); 0 when one is
// free already.
long SignInThrottle::earliest_free(Context& ctx, const Keys& k) const {
  const long now = now_of(ctx);
  long earliest = k.window;
  for (long i = 0; i < k.places; ++i) {
    CacheEntry e = ctx.cache().get(k.place(i));
    if (e.outcome == CacheOutcome::kMiss) return 0;
    if (e.outcome == CacheOutcome::kHit) earliest = std::min(earliest, parse_long(e.value) - now);
  }
  return std::max(earliest, 0L);
}

// Takes the first free place (memcached `add`: of racing attempts exactly one gets it) and
// returns 0, or returns the seconds until one frees when none is free. A cache failure lets the
// attempt through without a place.
long SignInThrottle::take_place(Context& ctx, const Keys& k, std::vector<std::string>& held) const {
  const std::string expires = std::to_string(now_of(ctx) + k.window);
  for (long i = 0; i < k.places; ++i) {
    Status s = ctx.cache().add(k.place(i), expires, k.window);
    if (s.ok()) {
      held.push_back(k.place(i));
      return 0;
    }
    if (s.code() != Status::Code::kConflict) {
      warn_cache(ctx, "add");
      return 0;
    }
  }
  return std::max(earliest_free(ctx, k), 1L);
}

SignInThrottle::Attempt SignInThrottle::begin(Context& ctx, const std::string& email) const {
  Attempt attempt;
  attempt.who = email;
  const Keys account = account_keys(ctx, email);
  const Keys client = client_keys(ctx);
  attempt.retry_after = std::max(locked_for(ctx, account), locked_for(ctx, client));
  if (attempt.refused()) return attempt;
  // The client's place first: a client spraying many addresses is stopped before it holds any
  // address's place, even for a moment.
  attempt.retry_after = take_place(ctx, client, attempt.places);
  if (attempt.refused()) return attempt;
  attempt.retry_after = take_place(ctx, account, attempt.places);
  if (attempt.refused()) {
    give_back(ctx, attempt);
    attempt.places.clear();
  }
  return attempt;
}

void SignInThrottle::give_back(Context& ctx, const Attempt& attempt) const {
  for (const auto& place : attempt.places) ctx.cache().remove(place);
}

void SignInThrottle::count_failure(Context& ctx, const Keys& k) const {
  Cache& cache = ctx.cache();
  auto failures = cache.increment(k.failures, 1, k.window);
  if (!failures.ok()) {
    warn_cache(ctx, "incr");
    return;
  }
  if (static_cast<long>(*failures) < k.places) return;
  CacheEntry level_entry = cache.get(k.level);
  long level = level_entry.outcome == CacheOutcome::kHit ? parse_long(level_entry.value) : 0;
  // Locked for the doubling time, and at least until a place frees: a lock that ended while
  // every place is still held would only say "try again" to be refused again.
  long seconds = std::max(lock_seconds(limits_, level), earliest_free(ctx, k));
  long until = now_of(ctx) + seconds;
  if (!cache.set(k.lock, std::to_string(until), seconds).ok()) warn_cache(ctx, "set");
  cache.set(k.level, std::to_string(level + 1), seconds + limits_.level_memory);
  cache.remove(k.failures);  // the next lock needs `places` new failures
}

void SignInThrottle::failed(Context& ctx, const Attempt& attempt) const {
  count_failure(ctx, account_keys(ctx, attempt.who));
  count_failure(ctx, client_keys(ctx));
}

void SignInThrottle::succeeded(Context& ctx, const Attempt& attempt) const {
  give_back(ctx, attempt);
  ctx.cache().remove(account_keys(ctx, attempt.who).failures);
}

void SignInThrottle::abandoned(Context& ctx, const Attempt& attempt) const {
  give_back(ctx, attempt);
}

void SignInThrottle::clear(Context& ctx, const std::string& email) const {
  const Keys k = account_keys(ctx, email);
  Cache& cache = ctx.cache();
  cache.remove(k.failures);
  cache.remove(k.lock);
  cache.remove(k.level);
  for (long i = 0; i < k.places; ++i) cache.remove(k.place(i));
}

}  // namespace natomedia::auth
