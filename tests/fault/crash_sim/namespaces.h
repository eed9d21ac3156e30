// The crash simulator's model of the catalog's namespaces beyond the
// default one: scratch namespaces that the workload creates (with a
// quota), changes (a new quota) and deletes. An acknowledged change is
// durable; one that failed (an injected failure, a power cut) may or may
// not have reached the catalog. After a recovery each scratch namespace
// must exist, with its quota, exactly as the last acknowledged change left
// it, or as a failed change since would have; then what came back is the
// new starting point.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crash_sim/run_log.h"
#include "engine/engine.h"

namespace ctxstore::engine::crash_sim {

class NamespaceModel {
 public:
  // A namespace's state: its quota, or none when it does not exist.
  using State = std::optional<uint64_t>;

  // A create, set (state: the new quota) or delete (none) was answered;
  // acked: it said ok.
  void Changed(const std::string& name, State state, bool acked);
  // After a recovery: each namespace against what may have survived, and
  // what came back becomes the starting point.
  void CheckAndRebase(Engine& engine, RunLog* log);
  size_t names() const { return states_.size(); }

 private:
  struct History {
    State acked;                 // after the last acknowledged change
    std::vector<State> maybe;    // changes that failed since
  };
  std::map<std::string, History> states_;
};

}  // namespace ctxstore::engine::crash_sim
