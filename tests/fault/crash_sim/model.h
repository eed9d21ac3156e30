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
//
// Besides: a put's expiry and its changes (an expired object is never
// served, and may be gone after a crash), leases (they hold expiry off, until a crash), pins
// (with flash reclaim on, an unpinned object may be reclaimed; a pinned
// one must survive) and groups (DeleteGroup deletes their present objects).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ctxstore::engine::crash_sim {

// One value put for a key: MakeValue(key, version, len) (values.h). A
// change of expiry (Engine::SetExpiry) is a version of its own that holds
// an earlier one's bytes.
struct Version {
  uint64_t version = 0;
  uint64_t len = 0;
  uint64_t xxh3 = 0;
  uint64_t expires_ms = 0;  // wall clock; 0: never
  std::string group;        // "" for none
  uint64_t bytes_of = 0;    // the version whose bytes it holds; 0: its own
  bool ExpiredAt(uint64_t now_ms) const { return expires_ms != 0 && expires_ms <= now_ms; }
  uint64_t value_version() const { return bytes_of != 0 ? bytes_of : version; }
};

// Whether a read may find a key: at a lease's end or inside a lease that
// holds an expired object, either answer is right.
enum class Seen { kNo, kYes, kEither };

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
  // Present and not expired at now_ms (a lease holds expiry off).
  Seen Visible(const std::string& key, uint64_t now_ms) const;
  // A MATCH_PREFIX with a lease held key until until_ms (in memory only).
  void Lease(const std::string& key, uint64_t until_ms);
  void ForgetLeases() { leases_.clear(); }  // a restart ends them
  // An acknowledged pin of key: with reclaim on, its objects must survive
  // from now on. One that reclaim dropped before (its flash copy; the
  // object lived on in DRAM) is not brought back by the pin.
  void Pin(const std::string& key) { pinned_.emplace(key, next_index_); }
  bool Pinned(const std::string& key) const { return pinned_.contains(key); }
  size_t pinned_count() const { return pinned_.size(); }
  // Flash reclaim counted pinned objects it could not carry (pinned_lost:
  // a read of one failed): from now on the pins protect nothing here.
  void ForgetPins() { pinned_.clear(); }
  // Flash reclaim may drop unpinned objects (small flash).
  void set_reclaim(bool on) { reclaim_ = on; }
  // Whether flash reclaim may have dropped key's object: reclaim is on, and
  // the key is not pinned, or no put of it since the pin is the current
  // one or durable (a recovery's starting point counts as a put then).
  // After a crash only a durable one counts: the current one may be lost
  // with the power, and the version before it may have lost its flash copy
  // to reclaim before the pin (a pin does not write it again).
  bool Reclaimable(const std::string& key, bool after_crash = false) const;
  // The present keys whose current version is in group.
  std::vector<std::string> GroupMembers(const std::string& group) const;
  const Version* FindVersion(const std::string& key, uint64_t version) const;
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
  std::map<std::string, uint64_t> leases_;  // key -> the end of its latest lease
  std::map<std::string, uint64_t> pinned_;  // key -> the index when it was pinned
  bool reclaim_ = false;
};

}  // namespace ctxstore::engine::crash_sim
