// Test doubles of the SDK's services, for the unit tests of the core and of any plugin: a clock,
// memcached, crypto, outbox, feed and metrics stand-in, so every test fakes them alike.
// Header-only; uses the SDK alone. Part of the plugin test kit (natomedia/testing/kit.h, CMake
// target NatoMedia::testing), which uses them in its TestPortal.
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <memory>
#include <vector>

#include <natomedia/feed.h>
#include <natomedia/services.h>

namespace natomedia::testing {

// A clock the test sets: `t` seconds since the epoch (14 November 2023 to start with).
class FakeClock : public Clock {
 public:
  std::time_t now() const override { return t; }
  std::atomic<std::time_t> t{1700000000};
};

// memcached as a map: entries expire by `clock`, every change bumps the CAS value, incr keeps the
// expiry (as memcached does); `down` makes every call a backend error. Thread-safe.
class FakeCache : public Cache {
 public:
  explicit FakeCache(const Clock& clock) : clock_(clock) {}

  CacheEntry get(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    CacheEntry e;
    if (down) return e;
    auto it = live(key);
    if (it == items_.end()) {
      e.outcome = CacheOutcome::kMiss;
      return e;
    }
    e.outcome = CacheOutcome::kHit;
    e.value = it->second.value;
    e.cas = it->second.cas;
    return e;
  }
  Status set(const std::string& key, const std::string& value, long ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    put(key, value, ttl);
    return Status::Ok();
  }
  Status add(const std::string& key, const std::string& value, long ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    if (live(key) != items_.end()) return Status::Conflict("exists");
    put(key, value, ttl);
    return Status::Ok();
  }
  Status cas(const std::string& key, const std::string& value, long ttl, uint64_t cas) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    auto it = live(key);
    if (it == items_.end()) return Status::NotFound("gone");
    if (it->second.cas != cas) return Status::Conflict("changed");
    put(key, value, ttl);
    return Status::Ok();
  }
  Status remove(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    return items_.erase(key) ? Status::Ok() : Status::NotFound("none");
  }
  Result<uint64_t> increment(const std::string& key, uint64_t delta, long ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("down");
    auto it = live(key);
    if (it == items_.end()) {
      put(key, std::to_string(delta), ttl);
      return delta;
    }
    uint64_t n = std::stoull(it->second.value) + delta;
    it->second.value = std::to_string(n);
    it->second.cas = ++next_cas_;
    return n;
  }
  // Drops every entry whose key starts with `prefix` (an eviction).
  void evict(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = items_.begin(); it != items_.end();)
      it = it->first.rfind(prefix, 0) == 0 ? items_.erase(it) : std::next(it);
  }

  std::atomic<bool> down{false};

 private:
  struct Item {
    std::string value;
    uint64_t cas;
    std::time_t expires;
  };
  std::map<std::string, Item>::iterator live(const std::string& key) {
    auto it = items_.find(key);
    if (it != items_.end() && it->second.expires <= clock_.now()) {
      items_.erase(it);
      return items_.end();
    }
    return it;
  }
  void put(const std::string& key, const std::string& value, long ttl) {
    items_[key] = Item{value, ++next_cas_, clock_.now() + ttl};
  }

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Item> items_;
  uint64_t next_cas_ = 0;
};

// Deterministic crypto: hmac() is a keyed std::hash (distinct inputs, distinct outputs), sign()
// carries a key id and verify() checks it; password hashing is unavailable.
class FakeCrypto : public Crypto {
 public:
  std::string random_bytes(size_t n) override { return std::string(n, 'x'); }
  std::string random_digits(size_t n) override { return std::string(n, '1'); }
  std::string random_token(size_t) override { return "token"; }
  std::string hmac(const std::string& purpose, const std::string& data) const override {
    return std::to_string(std::hash<std::string>()(key + purpose + "\n" + data));
  }
  std::string sign(const std::string& purpose, const std::string& data) const override {
    return "k1." + hmac(purpose, data);
  }
  bool verify(const std::string& purpose, const std::string& data,
              const std::string& signature) const override {
    return signature == sign(purpose, data);
  }
  bool equal(const std::string& a, const std::string& b) const override { return a == b; }
  std::string sha256_hex(const std::string& data) const override { return hmac("sha", data); }
  Result<std::string> password_hash(const std::string&) override {
    return Status::Unavailable("no password hashing in this test");
  }
  Result<bool> password_verify(const std::string&, const std::string&) override {
    return Status::Unavailable("no password hashing in this test");
  }
  bool password_needs_rehash(const std::string&) const override { return false; }

  std::string key = "secret";
};

// Records every message queued, in order; `down` makes queue() Unavailable. Thread-safe.
class FakeOutbox : public Outbox {
 public:
  Status queue(Sql&, const MailMessage& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return Status::Unavailable("outbox down");
    sent.push_back(message);
    return Status::Ok();
  }
  std::vector<MailMessage> sent;
  std::atomic<bool> down{false};

 private:
  std::mutex mu_;
};

// A feed that always gives the snapshot the test put in it (an empty one to start with). Use
// natomedia::testing::load_feed (kit.h) to fill it from a NewsML-G2 file through the real loader.
class StaticFeed : public Feed {
 public:
  StaticFeed() : snapshot_(std::make_shared<FeedSnapshot>()) {}
  explicit StaticFeed(std::shared_ptr<const FeedSnapshot> s) : snapshot_(std::move(s)) {}
  std::shared_ptr<const FeedSnapshot> snapshot() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshot_;
  }
  void set(std::shared_ptr<const FeedSnapshot> s) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const FeedSnapshot> snapshot_;
};

// httpd's socache (ServerCache) as a map: entries expire by `clock`; `down` makes every call
// fail. `on_get` (when set) runs before each get, with the key: a test interleaves another
// request's steps there. Thread-safe.
class FakeServerCache : public ServerCache {
 public:
  explicit FakeServerCache(const Clock& clock) : clock_(clock) {}

  std::optional<std::string> get(const std::string& key) override {
    if (on_get) on_get(key);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(key);
    if (down || it == items_.end() || it->second.second <= clock_.now()) return std::nullopt;
    return it->second.first;
  }
  bool put(const std::string& key, const std::string& value, std::time_t expires) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return false;
    items_[key] = {value, expires};
    return true;
  }
  bool remove(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down) return false;
    items_.erase(key);
    return true;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

  std::atomic<bool> down{false};
  std::function<void(const std::string&)> on_get;

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::time_t>> items_;
};

// Counts what add() and set() were given, by counter name.
class CountingMetrics : public Metrics {
 public:
  void add(const std::string& name, uint64_t delta) override {
    std::lock_guard<std::mutex> lock(mu_);
    counts[name] += delta;
  }
  void set(const std::string& name, uint64_t value) override {
    std::lock_guard<std::mutex> lock(mu_);
    counts[name] = value;
  }
  std::map<std::string, uint64_t> counts;

 private:
  std::mutex mu_;
};

}  // namespace natomedia::testing
