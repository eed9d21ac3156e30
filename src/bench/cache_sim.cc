#include "bench/cache_sim.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <unordered_map>
#include <utility>

#include "common/hash.h"
#include "engine/context/policy.h"

namespace ctxstore::bench {
namespace {

using engine::EvictionPolicy;
using engine::PolicyNode;

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

// Replays `trace`: request(ids, first_ref) handles one request (first_ref
// is the index of its first id in trace.blocks) and returns how many of its
// leading blocks were cached. Evictions are left to the caller.
SimResult Replay(const Trace& trace, std::string_view policy, uint64_t capacity,
                 const std::function<uint64_t(std::span<const uint64_t>, size_t)>& request) {
  SimResult res;
  res.trace = trace.name;
  res.policy = std::string(policy);
  res.capacity_blocks = capacity;
  for (const TraceRequest& r : trace.requests) {
    const uint64_t matched = request(trace.BlocksOf(r), r.first_block);
    res.requests++;
    res.blocks += r.block_count;
    res.hits += matched;
    res.input_tokens += r.input_length;
    res.tokens_avoided += std::min(matched * kBlockTokens, r.input_length);
  }
  return res;
}

// For each reference in trace.blocks, the index of the next reference to
// the same block, or kNever.
std::vector<uint64_t> NextUses(const Trace& trace) {
  std::vector<uint64_t> next(trace.blocks.size(), kNever);
  std::unordered_map<uint64_t, uint64_t> later;  // id -> its next reference seen so far
  later.reserve(trace.blocks.size());
  for (size_t i = trace.blocks.size(); i-- > 0;) {
    auto [it, inserted] = later.try_emplace(trace.blocks[i], i);
    if (!inserted) {
      next[i] = it->second;
      it->second = i;
    }
  }
  return next;
}

// Belady's MIN with bypass; capacity 0 = unlimited (nothing ever leaves).
class BeladyCache {
 public:
  BeladyCache(const std::vector<uint64_t>& next_use, uint64_t capacity)
      : next_use_(next_use), capacity_(capacity) {}

  uint64_t Request(std::span<const uint64_t> ids, size_t first_ref) {
    uint64_t matched = 0;
    bool in_prefix = true;
    for (size_t i = 0; i < ids.size(); ++i) {
      const uint64_t next = next_use_[first_ref + i];
      auto [it, inserted] = cached_.try_emplace(ids[i], next);
      if (!inserted) {
        it->second = next;
        if (in_prefix) matched++;
      } else {
        in_prefix = false;
      }
      if (capacity_ == 0) continue;
      by_next_use_.emplace(next, ids[i]);
      if (cached_.size() > capacity_) EvictFarthest();
    }
    return matched;
  }

  uint64_t evictions() const { return evictions_; }

 private:
  void EvictFarthest() {
    for (;;) {
      auto [next, id] = by_next_use_.top();
      by_next_use_.pop();
      auto it = cached_.find(id);
      if (it == cached_.end() || it->second != next) continue;  // stale
      cached_.erase(it);
      evictions_++;
      return;
    }
  }

  const std::vector<uint64_t>& next_use_;
  const uint64_t capacity_;
  std::unordered_map<uint64_t, uint64_t> cached_;  // id -> index of its next reference
  // (next reference, id), farthest on top; entries whose next reference
  // has changed since, or whose block left, are skipped when they surface.
  std::priority_queue<std::pair<uint64_t, uint64_t>> by_next_use_;
  uint64_t evictions_ = 0;
};

SimResult RunBelady(const Trace& trace, std::string_view name,
                    const std::vector<uint64_t>& next_use, uint64_t capacity) {
  BeladyCache cache(next_use, capacity);
  SimResult res =
      Replay(trace, name, capacity, [&cache](std::span<const uint64_t> ids, size_t first_ref) {
        return cache.Request(ids, first_ref);
      });
  res.evictions = cache.evictions();
  return res;
}

std::string FormatCount(uint64_t v) {
  char buf[32];
  if (v >= 1'000'000) {
    std::snprintf(buf, sizeof(buf), "%.2fM", static_cast<double>(v) / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRIu64, v);
  }
  return buf;
}

std::string FormatFixed(double v, const char* format) {
  if (v < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string FormatCapacity(uint64_t capacity_blocks) {
  return capacity_blocks == 0 ? "unlimited" : std::to_string(capacity_blocks);
}

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

PolicySim::PolicySim(std::unique_ptr<EvictionPolicy> policy, uint64_t capacity_blocks,
                     bool reads_hits)
    : policy_(std::move(policy)),
      capacity_(capacity_blocks),
      reads_hits_(reads_hits),
      evictable_([](PolicyNode*) { return true; }) {}

uint64_t PolicySim::Request(std::span<const uint64_t> ids) {
  size_t matched = 0;
  for (; matched < ids.size(); ++matched) {
    auto it = blocks_.find(ids[matched]);
    if (it == blocks_.end()) break;
    policy_->Access(&it->second);
  }
  // The GETs of the matched blocks (nothing was evicted in between).
  for (size_t i = 0; reads_hits_ && i < matched; ++i) {
    policy_->Access(&blocks_.find(ids[i])->second);
  }
  for (size_t i = matched; i < ids.size(); ++i) {
    if (!blocks_.contains(ids[i])) Put(ids[i], i > 0 ? &ids[i - 1] : nullptr);
  }
  return matched;
}

bool PolicySim::IsOrphan(uint64_t id) const {
  auto it = blocks_.find(id);
  return it != blocks_.end() && it->second.orphan;
}

void PolicySim::Put(uint64_t id, const uint64_t* parent_id) {
  // MakeRoomLocked.
  while (capacity_ != 0 && blocks_.size() >= capacity_) {
    PolicyNode* victim = policy_->Victim(evictable_);
    if (victim == nullptr) break;  // cannot happen: everything is evictable
    Erase(*static_cast<Block*>(victim));
  }
  // AttachLocked.
  Block& b = blocks_.try_emplace(id).first->second;
  b.id = id;
  // The engine hashes the user key; a block's key is its id in decimal (as
  // the online replay names it), so hash-based policies (Bloom filters)
  // see the same collisions.
  char key[24];
  const int key_len = std::snprintf(key, sizeof(key), "%" PRIu64, id);
  b.key_hash = engine::PolicyKeyHash(std::string_view(key, static_cast<size_t>(key_len)));
  b.bytes = 1;
  policy_->Insert(&b);
  if (parent_id == nullptr) return;
  auto it = blocks_.find(*parent_id);
  if (it != blocks_.end() && &it->second != &b) {
    b.parent = &it->second;
    it->second.children.push_back(&b);
  } else {
    policy_->Orphan(&b);  // its prefix is already broken
  }
}

// DetachLocked with orphan_children, then the index erase.
void PolicySim::Erase(Block& b) {
  policy_->Remove(&b);
  if (b.parent != nullptr) std::erase(b.parent->children, &b);
  for (Block* child : b.children) {
    child->parent = nullptr;
    policy_->Orphan(child);
  }
  evictions_++;
  blocks_.erase(b.id);
}

Result<SimResult> SimulatePolicy(const Trace& trace, std::string_view policy,
                                 uint64_t capacity_blocks, bool reads_hits) {
  std::unique_ptr<EvictionPolicy> p = engine::NewEvictionPolicy(policy);
  if (p == nullptr) {
    return Status::Invalid("unknown policy '" + std::string(policy) + "' (" +
                           std::string(engine::kPolicyNames) + ")");
  }
  PolicySim sim(std::move(p), capacity_blocks, reads_hits);
  SimResult res =
      Replay(trace, policy, capacity_blocks,
             [&sim](std::span<const uint64_t> ids, size_t) { return sim.Request(ids); });
  res.evictions = sim.evictions();
  return res;
}

SimResult SimulateBelady(const Trace& trace, uint64_t capacity_blocks) {
  const std::vector<uint64_t> next_use = NextUses(trace);
  return RunBelady(trace, kBelady, next_use, capacity_blocks);
}

SimResult SimulateInfinite(const Trace& trace) {
  // Belady never evicts without a limit; its next-use bookkeeping is unused.
  const std::vector<uint64_t> next_use(trace.blocks.size(), kNever);
  return RunBelady(trace, kInfinite, next_use, 0);
}

Result<std::vector<SimResult>> RunSimulations(std::span<const Trace> traces,
                                              const SimConfig& config) {
  for (uint64_t c : config.capacities) {
    if (c == 0) return Status::Invalid("capacities must be at least 1 block");
  }
  std::vector<SimResult> results;
  for (const Trace& trace : traces) {
    for (uint64_t capacity : config.capacities) {
      for (const std::string& policy : config.policies) {
        Result<SimResult> r = SimulatePolicy(trace, policy, capacity);
        if (!r.ok()) return r.status();
        results.push_back(std::move(*r));
      }
      results.push_back(SimulateBelady(trace, capacity));
    }
    results.push_back(SimulateInfinite(trace));
  }
  return results;
}

double HitRatio(std::span<const SimResult> results, const SimResult& r, std::string_view baseline) {
  for (const SimResult& b : results) {
    if (b.policy == baseline && b.trace == r.trace &&
        (b.capacity_blocks == r.capacity_blocks || baseline == kInfinite)) {
      return b.hits == 0 ? -1 : static_cast<double>(r.hits) / static_cast<double>(b.hits);
    }
  }
  return -1;
}

std::string FormatTable(std::span<const SimResult> results) {
  std::string out =
      "| trace | capacity (blocks) | policy | requests | blocks | prefix hits | hit rate | "
      "prefill tokens avoided | of input | vs LRU | vs Belady | vs unlimited |\n"
      "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const SimResult& r : results) {
    out += "| " + r.trace + " | " + FormatCapacity(r.capacity_blocks) + " | " + r.policy + " | " +
           std::to_string(r.requests) + " | " + std::to_string(r.blocks) + " | " +
           std::to_string(r.hits) + " | " + FormatFixed(100 * r.hit_rate(), "%.1f%%") + " | " +
           FormatCount(r.tokens_avoided) + " | " +
           FormatFixed(100 * Share(r.tokens_avoided, r.input_tokens), "%.1f%%") + " | " +
           FormatFixed(HitRatio(results, r, "lru"), "%.3f") + " | " +
           FormatFixed(HitRatio(results, r, kBelady), "%.3f") + " | " +
           FormatFixed(HitRatio(results, r, kInfinite), "%.3f") + " |\n";
  }
  return out;
}

nlohmann::json ToJson(std::span<const SimResult> results) {
  nlohmann::json rows = nlohmann::json::array();
  auto ratio = [&](const SimResult& r, std::string_view baseline) -> nlohmann::json {
    double v = HitRatio(results, r, baseline);
    return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v);
  };
  for (const SimResult& r : results) {
    rows.push_back({{"trace", r.trace},
                    {"policy", r.policy},
                    {"capacity_blocks", r.capacity_blocks},
                    {"requests", r.requests},
                    {"blocks", r.blocks},
                    {"hits", r.hits},
                    {"hit_rate", r.hit_rate()},
                    {"input_tokens", r.input_tokens},
                    {"tokens_avoided", r.tokens_avoided},
                    {"evictions", r.evictions},
                    {"vs_lru", ratio(r, "lru")},
                    {"vs_belady", ratio(r, kBelady)},
                    {"vs_unlimited", ratio(r, kInfinite)}});
  }
  return {{"results", std::move(rows)}};
}

}  // namespace ctxstore::bench
