// The crash simulator's model of the catalog's namespaces beyond the
// default one, and of the objects in them: scratch namespaces that the
// workload creates (with a small quota), changes (a new quota), fills and
// deletes.
//
// Namespaces: an acknowledged change is durable; one that failed (an
// injected failure, a power cut) may or may not have reached the catalog.
// After a recovery each scratch namespace must exist, under the same id and
// with its quota, exactly as the last acknowledged change left it, or as a
// failed change since would have; then what came back is the new starting
// point.
//
// Objects (docs/architecture.md, "Namespaces" and "Quota eviction"; every
// scratch key is put once, into one namespace):
//   - a namespace's ids are never reused, so once its delete was
//     acknowledged its objects never come back; a delete that failed may
//     leave the namespace, and then its objects follow the rules below;
//   - an object the engine evicted to keep its namespace within its quota
//     (seen gone at run time) may come back after a crash (its tombstone is
//     a delete, unsynced), never with other bytes;
//   - on strict seeds (no flash reclaim, no random faults) an object whose
//     sync put was acknowledged and that was not evicted must come back
//     while its namespace does;
//   - every object in a namespace is one the workload put there, with its
//     bytes; the namespace's object count and bytes are the sum of what it
//     lists, at run time and after a recovery, and at run time its bytes
//     are within its quota.
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
  struct Ns {
    uint32_t id = 0;  // 0: not known (a create that failed)
    uint64_t quota = 0;
    bool operator==(const Ns& o) const {
      return quota == o.quota && (id == 0 || o.id == 0 || id == o.id);
    }
  };
  // A namespace's state, or none when it does not exist.
  using State = std::optional<Ns>;

  struct Object {
    uint32_t ns = 0;
    uint64_t version = 0;
    uint64_t len = 0;
    uint64_t xxh3 = 0;
    bool durable = false;  // its sync put was acknowledged, or a recovery found it
    bool gone = false;     // evicted, or its namespace deleted, at run time
  };

  explicit NamespaceModel(uint64_t seed) : seed_(seed) {}

  // Whether an acknowledged object must survive (no reclaim, no faults).
  void set_strict(bool strict) { strict_ = strict; }
  bool strict() const { return strict_; }

  // A create, set (state: the new quota) or delete (none) was answered;
  // acked: it said ok.
  void Changed(const std::string& name, State state, bool acked);
  // After a recovery: each namespace and object against what may have
  // survived, and what came back becomes the starting point.
  void CheckAndRebase(Engine& engine, RunLog* log);
  size_t names() const { return states_.size(); }

  // Objects: put (committed), acknowledged by its sync callback.
  void Put(const std::string& key, const Object& o) { objects_[key] = o; }
  void AckSync(const std::string& key, uint64_t version);
  // All objects, by key (for reads).
  const std::map<std::string, Object>& objects() const { return objects_; }
  void MarkGone(const std::string& key) { objects_[key].gone = true; }
  // The live objects of namespace id at run time (its delete acknowledged:
  // they are gone).
  uint64_t DeleteObjectsOf(uint32_t id);
  // At run time: lists namespace name and checks it against the model (its
  // count, bytes and quota, each object's bytes); what the model has that
  // is no longer there was evicted. The number evicted.
  uint64_t Audit(Engine& engine, const std::string& name, RunLog* log);

  // Counts for the coverage report.
  uint64_t objects_checked() const { return objects_checked_; }
  uint64_t lost() const { return lost_; }

 private:
  struct History {
    State acked;               // after the last acknowledged change
    std::vector<State> maybe;  // changes that failed since
  };
  void CheckNamespace(const std::string& name, History& h, const State& found, RunLog* log);
  // One object after a recovery; alive: its namespace came back.
  void CheckObject(Engine& engine, const std::string& key, Object& o, bool alive);
  // Lists namespace id whole: checks each listed object and the counters.
  std::vector<std::string> ListChecked(Engine& engine, const NamespaceInfo& info);

  const uint64_t seed_;
  bool strict_ = false;
  std::map<std::string, History> states_;
  std::map<std::string, Object> objects_;
  uint64_t objects_checked_ = 0;
  uint64_t lost_ = 0;
};

}  // namespace ctxstore::engine::crash_sim
