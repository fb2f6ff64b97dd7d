#include "core/metrics_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <tuple>

namespace natomedia::core {

constexpr double MetricsRegistry::kBuckets[];

namespace {

// Names the layout of Block: change it whenever the layout changes, so that a graceful restart
// into a module with another layout starts the block afresh instead of misreading it.
constexpr uint64_t kMagic = 0x4e4d4d4554524932ull;  // "NMMETRI2"

uint64_t hash_key(const std::string& text, int code) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : text) mix(c);
  mix(0);
  for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>((static_cast<unsigned>(code) >> (8 * i)) & 0xff));
  return h | 1;  // 0 marks a free slot
}

std::string label_value(const char* raw) {
  std::string out;
  for (const char* p = raw; *p; ++p) {
    if (*p == '\\') out += "\\\\";
    else if (*p == '"') out += "\\\"";
    else if (*p == '\n') out += "\\n";
    else out += *p;
  }
  return out;
}

std::string seconds_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

std::string bound_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

struct MetricsRegistry::CounterSlot {
  std::atomic<uint64_t> key;  // hash of the name; 0 = free
  char name[kNameBytes];
  std::atomic<uint64_t> value;
};

namespace {
struct SeriesSlot {
  std::atomic<uint64_t> key;    // hash of (route, code); 0 = free
  std::atomic<uint32_t> ready;  // 1 once route and code are written
  int32_t code;
  char route[MetricsRegistry::kNameBytes];
  std::atomic<uint64_t> count;
  std::atomic<uint64_t> sum_us;
  std::atomic<uint64_t> buckets[MetricsRegistry::kBucketCount];  // not cumulative
};
}  // namespace

struct MetricsRegistry::Block {
  std::atomic<uint64_t> magic;
  std::atomic<uint64_t> dropped;  // observations with no free series slot left
  CounterSlot counters[kCounterCapacity];
  SeriesSlot series[kSeriesCapacity];
};

static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared counters need lock-free atomics");

size_t MetricsRegistry::bytes_needed() { return sizeof(Block); }

MetricsRegistry::MetricsRegistry() : private_(new unsigned char[sizeof(Block)]()) {
  attach(private_.get());
}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::attach(void* memory) {
  auto* block = static_cast<Block*>(memory);
  // Zeroed memory is a valid empty block (atomics of integers are all-zero when zero).
  if (block->magic.load(std::memory_order_acquire) != kMagic) {
    std::memset(memory, 0, sizeof(Block));
    block->magic.store(kMagic, std::memory_order_release);
  }
  block_ = block;
  for (auto& [name, info] : by_name_) info.slot = find_or_claim(name);
}

MetricsRegistry::CounterSlot* MetricsRegistry::find_or_claim(const std::string& name) const {
  if (name.size() >= kNameBytes) return nullptr;
  const uint64_t key = hash_key(name, 0);
  const size_t start = key % kCounterCapacity;
  for (size_t i = 0; i < kCounterCapacity; ++i) {
    CounterSlot& s = block_->counters[(start + i) % kCounterCapacity];
    uint64_t seen = s.key.load(std::memory_order_acquire);
    if (seen == key && std::strncmp(s.name, name.c_str(), kNameBytes) == 0) return &s;
    if (seen == 0) {
      std::memset(s.name, 0, kNameBytes);
      std::memcpy(s.name, name.data(), name.size());
      s.value.store(0, std::memory_order_relaxed);
      s.key.store(key, std::memory_order_release);
      return &s;
    }
  }
  return nullptr;  // full: the counter is not kept
}

void MetricsRegistry::declare(const std::string& name, const std::string& help, bool gauge) {
  if (by_name_.count(name)) return;
  by_name_[name] = {help, gauge, find_or_claim(name)};
  names_.push_back(name);
}

void MetricsRegistry::add(const std::string& name, uint64_t delta) {
  auto it = by_name_.find(name);
  if (it != by_name_.end() && it->second.slot)
    it->second.slot->value.fetch_add(delta, std::memory_order_relaxed);
}

void MetricsRegistry::set(const std::string& name, uint64_t value) {
  auto it = by_name_.find(name);
  if (it != by_name_.end() && it->second.slot)
    it->second.slot->value.store(value, std::memory_order_relaxed);
}

uint64_t MetricsRegistry::value(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || !it->second.slot) return 0;
  return it->second.slot->value.load(std::memory_order_relaxed);
}

namespace {

// The series of (route, code), claimed when absent (claim = true). Lock-free: a slot is claimed
// by a compare-and-swap of its key; its labels are published by `ready`.
SeriesSlot* series_of(MetricsRegistry::Block* block, SeriesSlot* slots, const std::string& route,
                      int code, bool claim) {
  const std::string bounded = route.substr(0, MetricsRegistry::kNameBytes - 1);
  const uint64_t key = hash_key(bounded, code);
  const size_t n = MetricsRegistry::kSeriesCapacity;
  const size_t start = key % n;
  for (size_t i = 0; i < n; ++i) {
    SeriesSlot& s = slots[(start + i) % n];
    uint64_t seen = s.key.load(std::memory_order_acquire);
    if (seen == key) return &s;
    if (seen != 0) continue;
    if (!claim) return nullptr;
    uint64_t expected = 0;
    if (s.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
      std::memset(s.route, 0, sizeof s.route);
      std::memcpy(s.route, bounded.data(), bounded.size());
      s.code = code;
      s.ready.store(1, std::memory_order_release);
      return &s;
    }
    if (expected == key) return &s;  // another thread claimed it for the same series
  }
  (void)block;
  return nullptr;
}

}  // namespace

void MetricsRegistry::observe_request(const std::string& route, int code, double seconds) {
  SeriesSlot* s = series_of(block_, block_->series, route, code, true);
  if (!s) {
    block_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (seconds < 0) seconds = 0;
  size_t b = 0;
  while (b < kBucketCount && seconds > kBuckets[b]) ++b;
  if (b < kBucketCount) s->buckets[b].fetch_add(1, std::memory_order_relaxed);
  s->sum_us.fetch_add(static_cast<uint64_t>(seconds * 1e6 + 0.5), std::memory_order_relaxed);
  s->count.fetch_add(1, std::memory_order_relaxed);
}

uint64_t MetricsRegistry::requests(const std::string& route, int code) const {
  SeriesSlot* s = series_of(block_, block_->series, route, code, false);
  return s ? s->count.load(std::memory_order_relaxed) : 0;
}

std::string MetricsRegistry::render_prometheus() const {
  std::string out;
  for (const auto& name : names_) {
    const Info& info = by_name_.at(name);
    out += "# HELP " + name + " " + info.help + "\n";
    out += "# TYPE " + name + (info.gauge ? " gauge\n" : " counter\n");
    out += name + " " + std::to_string(value(name)) + "\n";
  }

  // A snapshot of the series, read once each, in a stable order.
  struct Row {
    std::string route;
    int code;
    uint64_t buckets[kBucketCount];
    uint64_t sum_us;
    uint64_t count;
  };
  std::vector<Row> rows;
  for (const SeriesSlot& s : block_->series) {
    if (s.ready.load(std::memory_order_acquire) != 1) continue;
    Row row;
    row.route = label_value(s.route);
    row.code = s.code;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBucketCount; ++b) {
      cumulative += s.buckets[b].load(std::memory_order_relaxed);
      row.buckets[b] = cumulative;
    }
    row.sum_us = s.sum_us.load(std::memory_order_relaxed);
    // Read last, and never below what the buckets already counted (+Inf >= every bucket).
    row.count = std::max(s.count.load(std::memory_order_relaxed), cumulative);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.route, a.code) < std::tie(b.route, b.code);
  });

  out += "# HELP natomedia_http_requests_total Requests answered by the portal, by route pattern "
         "and status code\n";
  out += "# TYPE natomedia_http_requests_total counter\n";
  for (const Row& r : rows)
    out += "natomedia_http_requests_total{route=\"" + r.route + "\",code=\"" +
           std::to_string(r.code) + "\"} " + std::to_string(r.count) + "\n";
  out += "# HELP natomedia_http_request_duration_seconds Time from reading the request to "
         "logging it, by route pattern and status code\n";
  out += "# TYPE natomedia_http_request_duration_seconds histogram\n";
  for (const Row& r : rows) {
    const std::string labels =
        "route=\"" + r.route + "\",code=\"" + std::to_string(r.code) + "\"";
    for (size_t b = 0; b < kBucketCount; ++b)
      out += "natomedia_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
             bound_text(kBuckets[b]) + "\"} " + std::to_string(r.buckets[b]) + "\n";
    out += "natomedia_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(r.count) + "\n";
    out += "natomedia_http_request_duration_seconds_sum{" + labels + "} " +
           seconds_text(static_cast<double>(r.sum_us) / 1e6) + "\n";
    out += "natomedia_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(r.count) + "\n";
  }
  out += "# HELP natomedia_metrics_series_dropped_total Requests not counted by route: every "
         "series slot was taken\n";
  out += "# TYPE natomedia_metrics_series_dropped_total counter\n";
  out += "natomedia_metrics_series_dropped_total " +
         std::to_string(block_->dropped.load(std::memory_order_relaxed)) + "\n";
  return out;
}

}  // namespace natomedia::core
