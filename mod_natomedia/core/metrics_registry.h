// Counters shared by every child: declared by name at configuration time, then each lives in a
// fixed slot of a block of memory the module maps before forking (apr_shm), so an increment in any
// child is seen by the status page in every child. Lock-free (atomic adds).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <natomedia/services.h>

namespace natomedia::core {

class MetricsRegistry : public Metrics {
 public:
  MetricsRegistry();

  // Configuration time only. Declaring a name twice keeps the first help text.
  void declare(const std::string& name, const std::string& help, bool gauge = false);
  size_t size() const { return names_.size(); }
  // Bytes of shared memory attach() needs.
  size_t bytes_needed() const { return names_.size() * sizeof(std::atomic<uint64_t>); }
  // Moves the counters into `memory` (bytes_needed() long, zeroed by the caller or inherited
  // from an earlier generation). Until then they live in private memory (unit tests, tools).
  void attach(void* memory);

  void add(const std::string& name, uint64_t delta = 1) override;
  void set(const std::string& name, uint64_t value) override;
  uint64_t value(const std::string& name) const;

  // Prometheus text exposition format 0.0.4.
  std::string render_prometheus() const;

 private:
  std::atomic<uint64_t>* slot(const std::string& name) const;

  struct Info {
    size_t index;
    std::string help;
    bool gauge;
  };
  std::map<std::string, Info> by_name_;
  std::vector<std::string> names_;
  std::vector<std::atomic<uint64_t>> private_;  // before attach()
  std::atomic<uint64_t>* slots_ = nullptr;
};

}  // namespace natomedia::core
