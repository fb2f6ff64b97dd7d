#include "core/metrics_registry.h"

#include <new>

namespace natomedia::core {

MetricsRegistry::MetricsRegistry() {}

void MetricsRegistry::declare(const std::string& name, const std::string& help, bool gauge) {
  if (by_name_.count(name)) return;
  by_name_[name] = {names_.size(), help, gauge};
  names_.push_back(name);
  // Re-create the private slots; only ever done before any counter is used.
  std::vector<std::atomic<uint64_t>> fresh(names_.size());
  private_.swap(fresh);
  slots_ = private_.data();
}

void MetricsRegistry::attach(void* memory) {
  auto* slots = static_cast<std::atomic<uint64_t>*>(memory);
  for (size_t i = 0; i < names_.size(); ++i) new (&slots[i]) std::atomic<uint64_t>(0);
  slots_ = slots;
}

std::atomic<uint64_t>* MetricsRegistry::slot(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || !slots_) return nullptr;
  return &slots_[it->second.index];
}

void MetricsRegistry::add(const std::string& name, uint64_t delta) {
  if (auto* s = slot(name)) s->fetch_add(delta, std::memory_order_relaxed);
}

void MetricsRegistry::set(const std::string& name, uint64_t value) {
  if (auto* s = slot(name)) s->store(value, std::memory_order_relaxed);
}

uint64_t MetricsRegistry::value(const std::string& name) const {
  auto* s = slot(name);
  return s ? s->load(std::memory_order_relaxed) : 0;
}

std::string MetricsRegistry::render_prometheus() const {
  std::string out;
  for (const auto& name : names_) {
    const Info& info = by_name_.at(name);
    out += "# HELP " + name + " " + info.help + "\n";
    out += "# TYPE " + name + (info.gauge ? " gauge\n" : " counter\n");
    out += name + " " + std::to_string(value(name)) + "\n";
  }
  return out;
}

}  // namespace natomedia::core
