#include "sign_in_throttle.h"

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

}  // namespace

long lock_seconds(const ThrottleLimits& limits, long level) {
  long seconds = limits.first_lock;
  for (long i = 0; i < level && seconds < limits.max_lock; ++i) seconds *= 2;
  return seconds < limits.max_lock ? seconds : limits.max_lock;
}

SignInThrottle::Keys SignInThrottle::keys(Context& ctx, const std::string& kind,
                                          const std::string& who) const {
  const std::string id = text::hex_encode(ctx.crypto().hmac("auth.throttle", kind + ":" + who));
  const std::string base = "auth:" + kind + ":" + id.substr(0, 32);
  return {base + ":f", base + ":l", base + ":n"};
}

long SignInThrottle::locked_for(Context& ctx, const Keys& k) const {
  CacheEntry lock = ctx.cache().get(k.lock);
  if (lock.outcome == CacheOutcome::kError) {
    warn_cache(ctx, "get");
    return 0;
  }
  if (lock.outcome != CacheOutcome::kHit) return 0;
  long left = parse_long(lock.value) - static_cast<long>(ctx.clock().now());
  return left > 0 ? left : 0;
}

long SignInThrottle::retry_after(Context& ctx, const std::string& email) const {
  long account = locked_for(ctx, keys(ctx, "a", email));
  long ip = locked_for(ctx, keys(ctx, "i", ctx.request().client_ip));
  return account > ip ? account : ip;
}

void SignInThrottle::count(Context& ctx, const Keys& k, long limit, long window) const {
  Cache& cache = ctx.cache();
  auto failures = cache.increment(k.failures, 1, window);
  if (!failures.ok()) {
    warn_cache(ctx, "incr");
    return;
  }
  if (static_cast<long>(*failures) < limit) return;
  CacheEntry level_entry = cache.get(k.level);
  long level = level_entry.outcome == CacheOutcome::kHit ? parse_long(level_entry.value) : 0;
  long seconds = lock_seconds(limits_, level);
  long until = static_cast<long>(ctx.clock().now()) + seconds;
  if (!cache.set(k.lock, std::to_string(until), seconds).ok()) warn_cache(ctx, "set");
  cache.set(k.level, std::to_string(level + 1), seconds + limits_.level_memory);
  cache.remove(k.failures);  // the next lock needs `limit` new failures
}

void SignInThrottle::record_failure(Context& ctx, const std::string& email) const {
  count(ctx, keys(ctx, "a", email), limits_.account_failures, limits_.account_window);
  count(ctx, keys(ctx, "i", ctx.request().client_ip), limits_.ip_failures, limits_.ip_window);
}

void SignInThrottle::record_success(Context& ctx, const std::string& email) const {
  ctx.cache().remove(keys(ctx, "a", email).failures);
}

void SignInThrottle::clear(Context& ctx, const std::string& email) const {
  Keys k = keys(ctx, "a", email);
  ctx.cache().remove(k.failures);
  ctx.cache().remove(k.lock);
  ctx.cache().remove(k.level);
}

}  // namespace natomedia::auth
