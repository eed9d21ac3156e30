// Offline simulator of the store's prefix cache on request traces
// (bench/trace.h): how many leading blocks of each request a cache of a
// given capacity would already hold, under each of the engine's eviction
// policies (engine/policy.h), under Belady's offline optimum, and with
// unlimited capacity. docs/simulator.md describes the semantics.
//
// The policy replay does what the engine does for a client that sends, per
// request, one MATCH_PREFIX over the request's block keys and then a
// put-if-absent of each block from the first unmatched one on, with the
// previous block as parent: the same policy calls in the same order, so
// that a replay against the server and a simulation agree.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/trace.h"
#include "ctxstore/status.h"
#include "engine/context/policy.h"

namespace ctxstore::bench {

// Pseudo-policies reported beside the engine's.
inline constexpr std::string_view kBelady = "belady";
inline constexpr std::string_view kInfinite = "infinite";

struct SimResult {
  std::string trace;
  std::string policy;            // an engine policy, kBelady or kInfinite
  uint64_t capacity_blocks = 0;  // 0 = unlimited
  uint64_t requests = 0;
  uint64_t blocks = 0;          // block references (every hash id of every request)
  uint64_t hits = 0;            // blocks found as part of their request's cached prefix
  uint64_t input_tokens = 0;    // sum of input_length
  uint64_t tokens_avoided = 0;  // per request min(hits * 512, input_length), summed
  uint64_t evictions = 0;

  double hit_rate() const { return blocks == 0 ? 0 : static_cast<double>(hits) / blocks; }
};

// The engine's view of one namespace of blocks, reduced to what eviction
// sees: an index of blocks, each with its policy node (one byte each), its
// parent link and its children, kept as Engine::AttachLocked,
// DetachLocked and MakeRoomLocked keep them.
class PolicySim {
 public:
  // capacity_blocks 0 = unlimited.
  // reads_hits: the client also GETs the matched blocks after the match (the
  // online replay of `bench run` does), which accesses each of them again,
  // in order, before the puts; policies that count reads (s3fifo) see it.
  PolicySim(std::unique_ptr<engine::EvictionPolicy> policy, uint64_t capacity_blocks,
            bool reads_hits = false);
  PolicySim(const PolicySim&) = delete;
  PolicySim& operator=(const PolicySim&) = delete;

  // One request: MATCH_PREFIX over `ids` (each matched block is accessed,
  // in order), then a put-if-absent of every block from the first
  // unmatched one on, with the previous id as parent (a block still
  // present answers EXISTS and is not touched). Returns the match length.
  uint64_t Request(std::span<const uint64_t> ids);

  bool Contains(uint64_t id) const { return blocks_.contains(id); }
  // Whether the cached block `id` is an orphan (false when not cached).
  bool IsOrphan(uint64_t id) const;
  uint64_t size() const { return blocks_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Block : engine::PolicyNode {
    uint64_t id = 0;
    Block* parent = nullptr;       // linked only if present when this was put
    std::vector<Block*> children;  // in the order they were linked
  };

  void Put(uint64_t id, const uint64_t* parent_id);
  void Erase(Block& b);

  std::unique_ptr<engine::EvictionPolicy> policy_;
  const uint64_t capacity_;
  const bool reads_hits_;
  std::unordered_map<uint64_t, Block> blocks_;  // node-based: Blocks stay put
  const std::function<bool(engine::PolicyNode*)> evictable_;
  uint64_t evictions_ = 0;
};

// Replays `trace` through the engine policy `policy` ("lru", "s3fifo",
// "lru-ghost", "lru-doorkeeper") with room for capacity_blocks blocks (0 = unlimited, as a
// quota of 0 is in the engine). Invalid for an unknown policy.
Result<SimResult> SimulatePolicy(const Trace& trace, std::string_view policy,
                                 uint64_t capacity_blocks, bool reads_hits = false);

// Belady's MIN with bypass: a missing block is brought in, and when that
// makes one too many the cached block (the new one included) whose next
// reference is farthest away leaves. Hits follow the same leading-prefix
// rule. With prefix-chained ids (a parent is referenced whenever its child
// is) this is an upper bound for every policy at the same capacity.
SimResult SimulateBelady(const Trace& trace, uint64_t capacity_blocks);

// Unlimited capacity: a block hits when any earlier request held it (and
// the blocks before it in this request hit). The best any cache can do.
SimResult SimulateInfinite(const Trace& trace);

struct SimConfig {
  std::vector<uint64_t> capacities;   // blocks, each > 0
  std::vector<std::string> policies;  // engine policy names
};

// For each trace: every policy and Belady at every capacity, then the
// unlimited cache; in that order.
Result<std::vector<SimResult>> RunSimulations(std::span<const Trace> traces,
                                              const SimConfig& config);

// Hits of `r` relative to those of `baseline` (kBelady, "lru", ...) for the
// same trace and capacity in `results` (for kInfinite: the same trace);
// negative when there is no such row or it has no hits.
double HitRatio(std::span<const SimResult> results, const SimResult& r, std::string_view baseline);

// A markdown table, one row per result, with the ratios to LRU, Belady and
// the unlimited cache.
std::string FormatTable(std::span<const SimResult> results);
// {"results": [{...}, ...]} with the same columns.
nlohmann::json ToJson(std::span<const SimResult> results);

}  // namespace ctxstore::bench
