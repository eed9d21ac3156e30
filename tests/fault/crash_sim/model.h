// The crash simulator's model of what the store promised: for every key,
// the mutations committed since the last recovery (the first of them the
// state that recovery found), which of them were acknowledged as durable,
// and every value ever put, so that a read can be traced to the put it
// came from.
//
// Durable means: a sync put or delete whose callback said ok, or any
// mutation committed before a FLUSH (or a checkpoint, or a clean close)
// that said ok. After a crash, a key must show the state after its newest
// durable mutation or after a later one; with none, also the state before
// its first. A key that an injected fault may have damaged (tainted) may
// show any value ever put for it, or none, but never bytes that were not
// put.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ctxstore::engine::crash_sim {

// One value put for a key: MakeValue(key, version, len) (values.h).
struct Version {
  uint64_t version = 0;
  uint64_t len = 0;
  uint64_t xxh3 = 0;
};

struct Mutation {
  bool is_put = true;
  uint64_t version = 0;    // puts
  uint64_t index = 0;      // commit order over the whole run
  bool durable = false;    // acknowledged on its own (a sync ack, or the recovered base)
  bool by_engine = false;  // a delete the engine made: a corrupt read dropped the object
};

// What may be seen of a key after a crash.
struct Allowed {
  bool absent = false;
  std::vector<uint64_t> versions;
  bool Allows(std::optional<uint64_t> version) const;
};

class Model {
 public:
  // The index the next mutation gets (a FLUSH started now covers those below it).
  uint64_t next_index() const { return next_index_; }

  uint64_t Put(const std::string& key, const Version& v);
  uint64_t Delete(const std::string& key, bool by_engine = false);
  // Undoes the last mutation of key (its commit failed after all).
  void Retract(const std::string& key, uint64_t index);
  void AckSync(const std::string& key, uint64_t index);  // a sync callback said ok
  void AckAllBefore(uint64_t index);  // a FLUSH, checkpoint or clean close said ok

  bool Present(const std::string& key) const;
  // The value a read must return now; none when absent.
  std::optional<Version> Current(const std::string& key) const;
  // The versions put for key with these bytes (by length and XXH3): more
  // than one when two puts stored the same bytes (empty values).
  std::vector<Version> FindVersions(const std::string& key, uint64_t len, uint64_t xxh3) const;
  Allowed AllowedAfterCrash(const std::string& key) const;
  // The newest mutation at or after the newest durable one, for messages.
  std::string Describe(const std::string& key) const;

  void Taint(const std::string& key) { keys_[key].tainted = true; }
  bool Tainted(const std::string& key) const;

  // After a recovery was checked: what came back (a version, or none) is
  // every key's durable starting point.
  void Rebase(const std::map<std::string, std::optional<uint64_t>>& recovered);

  // The default namespace's DRAM priority, a catalog setting: changes are
  // durable once acknowledged; one whose change failed may or may not have
  // reached the catalog.
  void SetPriority(uint8_t priority, bool acked);
  std::vector<uint8_t> AllowedPriorities() const;
  void RebasePriority(uint8_t priority);

  const std::map<std::string, std::vector<Version>>& versions() const { return versions_; }
  std::vector<std::string> Keys(bool present) const;
  size_t size() const { return keys_.size(); }

 private:
  struct KeyState {
    std::vector<Mutation> mutations;
    bool tainted = false;
  };
  bool Durable(const Mutation& m) const { return m.durable || m.index < durable_before_; }

  std::map<std::string, KeyState> keys_;
  std::map<std::string, std::vector<Version>> versions_;  // every value ever put, by key
  uint64_t next_index_ = 0;
  uint64_t durable_before_ = 0;  // mutations with a lower index are durable
  uint8_t priority_ = 0;
  std::vector<uint8_t> priority_maybe_;  // changes that failed since the last ack
};

}  // namespace ctxstore::engine::crash_sim
