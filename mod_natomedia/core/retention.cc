#include "core/retention.h"

namespace natomedia::core {

int64_t PruneOutcome::total() const {
  int64_t n = 0;
  for (const auto& p : removed) n += p.rows;
  return n;
}

PruneOutcome prune(Sql& sql, const std::vector<OwnedPruner>& pruners, const SiteConfig& config,
                   std::time_t now) {
  PruneOutcome outcome;
  for (const auto& owned : pruners) {
    std::vector<Pruned> counts;
    Status s = transaction(sql, [&]() -> Status {
      try {
        auto r = owned.pruner(sql, config, now);
        if (!r.ok()) return r.status();
        counts = std::move(*r);
        return Status::Ok();
      } catch (const std::exception& e) {
        return Status::Internal(std::string("pruner threw: ") + e.what());
      } catch (...) {
        return Status::Internal("pruner threw an unknown exception");
      }
    });
    if (!s.ok()) {
      outcome.errors.push_back(owned.owner + ": " + s.message());
      continue;
    }
    for (auto& c : counts) outcome.removed.push_back(std::move(c));
  }
  return outcome;
}

std::string describe(const PruneOutcome& outcome) {
  std::string out = "pruned " + std::to_string(outcome.total()) + " rows";
  std::string sep = ": ";
  for (const auto& p : outcome.removed) {
    out += sep + std::to_string(p.rows) + " " + p.what;
    sep = ", ";
  }
  if (!outcome.errors.empty())
    out += "; " + std::to_string(outcome.errors.size()) + " pruner(s) failed";
  return out;
}

}  // namespace natomedia::core
