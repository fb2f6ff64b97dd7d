// Counters shared by every child: declared by name at configuration time, each lives in a slot of
// a fixed-size block of memory the module maps before forking (apr_shm), so an increment in any
// child is seen by the status page in every child. Lock-free (atomic adds).
//
// The block is found by name, not by position: a slot holds its metric's name, so the block can
// outlive a configuration (the module keeps it across graceful restarts, CONTRACT section 14) and
// a restart that loads other plugins finds each counter where it was. Besides the named counters,
// the block holds one series per (route, code) of the portal's requests: their count
// (natomedia_http_requests_total) and a duration histogram
// (natomedia_http_request_duration_seconds), claimed on first use with a compare-and-swap.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <natomedia/services.h>

namespace natomedia::core {

class MetricsRegistry : public Metrics {
 public:
  // Fixed capacities of the shared block (its size never changes, so a restart can reuse it).
  static constexpr size_t kCounterCapacity = 256;
  static constexpr size_t kSeriesCapacity = 1024;
  static constexpr size_t kNameBytes = 96;
  // Prometheus' default buckets, in seconds (upper bounds; +Inf is the count).
  static constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1.0,  2.5,   5.0,  10.0};
  static constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

  MetricsRegistry();
  ~MetricsRegistry() override;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Configuration time only. Declaring a name twice keeps the first help text.
  void declare(const std::string& name, const std::string& help, bool gauge = false);
  size_t size() const { return names_.size(); }
  // Bytes of shared memory attach() needs (a constant).
  static size_t bytes_needed();
  // Moves the counters into `memory` (bytes_needed() long, aligned for 8-byte atomics). Zeroed
  // memory is laid out afresh; a block laid out before (an earlier generation of the server)
  // keeps its values, each counter found again by name. Until then they live in private memory
  // (unit tests, tools). Configuration time only, in one thread.
  void attach(void* memory);

  void add(const std::string& name, uint64_t delta = 1) override;
  void set(const std::string& name, uint64_t value) override;
  uint64_t value(const std::string& name) const;

  // One answered request: `route` is the route's pattern (bounded: never the raw URL), `code`
  // the HTTP status. Thread-safe, lock-free.
  void observe_request(const std::string& route, int code, double seconds);
  // The count of observe_request(route, code, …) so far.
  uint64_t requests(const std::string& route, int code) const;

  // Prometheus text exposition format 0.0.4.
  std::string render_prometheus() const;

  struct Block;  // the shared layout (metrics_registry.cc)

 private:
  struct CounterSlot;
  CounterSlot* find_or_claim(const std::string& name) const;

  struct Info {
    std::string help;
    bool gauge;
    CounterSlot* slot;
  };
  std::map<std::string, Info> by_name_;
  std::vector<std::string> names_;
  std::unique_ptr<unsigned char[]> private_;  // before attach()
  Block* block_ = nullptr;
};

}  // namespace natomedia::core
