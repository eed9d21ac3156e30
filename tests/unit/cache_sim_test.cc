// The offline cache simulator (src/bench): trace parsing, prefix-hit
// counting, the engine policies' eviction order as replayed, Belady and the
// unlimited cache as bounds, the report, and a replay of the sample trace
// through a real Engine that must match the simulation request by request.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../engine_test_util.h"
#include "bench/cache_sim.h"
#include "bench/trace.h"
#include "common/units.h"
#include "engine/context/policy.h"
#include "engine/engine.h"

namespace ctxstore::bench {
namespace {

const std::string kSampleTrace = std::string(CTXSTORE_TEST_DATA_DIR) + "/sample_trace.jsonl";
constexpr std::string_view kPolicies[] = {"lru", "s3fifo", "lru-ghost", "lru-doorkeeper"};

// A trace of the given requests, each one full blocks long.
Trace MakeTrace(const std::vector<std::vector<uint64_t>>& requests) {
  Trace t;
  t.name = "test";
  for (const auto& ids : requests) {
    TraceRequest r;
    r.input_length = ids.size() * kBlockTokens;
    r.first_block = t.blocks.size();
    r.block_count = ids.size();
    t.blocks.insert(t.blocks.end(), ids.begin(), ids.end());
    t.requests.push_back(r);
  }
  return t;
}

uint64_t PolicyHits(const Trace& t, std::string_view policy, uint64_t capacity) {
  Result<SimResult> r = SimulatePolicy(t, policy, capacity);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->hits : 0;
}

PolicySim MakeSim(std::string_view policy, uint64_t capacity) {
  return PolicySim(engine::NewEvictionPolicy(policy), capacity);
}

uint64_t Req(PolicySim& sim, std::vector<uint64_t> ids) {
  return sim.Request(ids);
}

// --- Trace parsing ---

TEST(TraceTest, ParsesGoodLinesAndSkipsBlankOnes) {
  std::istringstream in(
      "{\"timestamp\": 5, \"input_length\": 600, \"output_length\": 7, \"hash_ids\": [1, 2]}\n"
      "\n"
      "{\"timestamp\": 9, \"input_length\": 10, \"output_length\": 0, \"hash_ids\": [1]}\n");
  Result<Trace> t = ParseTrace(in, "mem");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->name, "mem");
  ASSERT_EQ(t->requests.size(), 2u);
  EXPECT_EQ(t->requests[0].timestamp_ms, 5u);
  EXPECT_EQ(t->requests[0].input_length, 600u);
  EXPECT_EQ(t->requests[0].output_length, 7u);
  EXPECT_EQ(t->requests[1].timestamp_ms, 9u);
  EXPECT_EQ(t->blocks, (std::vector<uint64_t>{1, 2, 1}));
  auto second = t->BlocksOf(t->requests[1]);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0], 1u);
}

TEST(TraceTest, MalformedLineIsReportedWithItsNumber) {
  const std::string good =
      "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [3]}\n";
  const std::pair<std::string, std::string> cases[] = {
      {"{\"timestamp\": 0, \"input_length\": 1,", "not valid JSON"},
      {"[1, 2]", "not a JSON object"},
      {"{\"timestamp\": 0, \"output_length\": 1, \"hash_ids\": []}", "missing \"input_length\""},
      {"{\"timestamp\": -1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": []}",
       "\"timestamp\" is not a non-negative integer"},
      {"{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}", "missing \"hash_ids\""},
      {"{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": 4}",
       "\"hash_ids\" is not an array"},
      {"{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1, \"x\"]}",
       "\"hash_ids\" holds something other than a non-negative integer"},
  };
  for (const auto& [bad, why] : cases) {
    std::istringstream in(good + "\n" + bad + "\n" + good);
    Result<Trace> t = ParseTrace(in, "t.jsonl");
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalid);
    EXPECT_EQ(t.status().message(), "t.jsonl:3: " + why) << bad;
  }
}

TEST(TraceTest, MaxRequestsStopsEarly) {
  // The malformed line after the limit is never read.
  std::istringstream in(
      "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n"
      "{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [2]}\n"
      "garbage\n");
  Result<Trace> t = ParseTrace(in, "t", 2);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->requests.size(), 2u);
}

TEST(TraceTest, LoadsSampleFile) {
  Result<Trace> t = LoadTrace(kSampleTrace);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->name, "sample_trace.jsonl");
  EXPECT_EQ(t->requests.size(), 20u);
  EXPECT_EQ(t->blocks.size(), 590u);
  for (const TraceRequest& r : t->requests) {
    EXPECT_EQ(r.block_count, (r.input_length + kBlockTokens - 1) / kBlockTokens);
  }
  EXPECT_EQ(LoadTrace("/nonexistent/trace.jsonl").status().code(), StatusCode::kIoError);
}

// --- Hit counting ---

TEST(CacheSimTest, HitAfterMissInSameRequestDoesNotCount) {
  // Blocks 2 and 3 are cached when the second request comes, but its first
  // block is not: no prefix, no hits.
  Trace t = MakeTrace({{1, 2, 3}, {9, 2, 3}, {1, 2, 7}});
  for (std::string_view p : kPolicies) EXPECT_EQ(PolicyHits(t, p, 100), 2u) << p;
  EXPECT_EQ(SimulateBelady(t, 100).hits, 2u);
  SimResult inf = SimulateInfinite(t);
  EXPECT_EQ(inf.hits, 2u);
  EXPECT_EQ(inf.blocks, 9u);
  EXPECT_EQ(inf.requests, 3u);
  EXPECT_DOUBLE_EQ(inf.hit_rate(), 2.0 / 9.0);
}

TEST(CacheSimTest, TokensAvoidedAreCappedByInputLength) {
  Trace t = MakeTrace({{1, 2}, {1, 2}, {1, 2, 3}});
  t.requests[1].input_length = 700;  // the last block is partial
  SimResult r = SimulateInfinite(t);
  EXPECT_EQ(r.hits, 4u);
  EXPECT_EQ(r.tokens_avoided, 700u + 2 * kBlockTokens);
  EXPECT_EQ(r.input_tokens, 700u + 5 * kBlockTokens);
}

// --- Policies as replayed ---

TEST(CacheSimTest, LruEvictsLeastRecentlyUsedAtCapacityThree) {
  PolicySim sim = MakeSim("lru", 3);
  EXPECT_EQ(Req(sim, {1}), 0u);
  EXPECT_EQ(Req(sim, {2}), 0u);
  EXPECT_EQ(Req(sim, {3}), 0u);
  EXPECT_EQ(Req(sim, {1}), 1u);  // 2 is now the least recently used
  EXPECT_EQ(Req(sim, {4}), 0u);
  EXPECT_FALSE(sim.Contains(2));
  EXPECT_EQ(Req(sim, {1}), 1u);
  EXPECT_EQ(Req(sim, {2}), 0u);  // evicts 3
  EXPECT_FALSE(sim.Contains(3));
  EXPECT_TRUE(sim.Contains(1));
  EXPECT_TRUE(sim.Contains(4));
  EXPECT_EQ(sim.size(), 3u);
  EXPECT_EQ(sim.evictions(), 2u);
}

TEST(CacheSimTest, LruAtCapacityTwoKeepsTheRequestsPrefix) {
  // {1,2} fills the cache; {1,3} accesses 1 then puts 3, which evicts 2.
  PolicySim sim = MakeSim("lru", 2);
  EXPECT_EQ(Req(sim, {1, 2}), 0u);
  EXPECT_EQ(Req(sim, {1, 3}), 1u);
  EXPECT_FALSE(sim.Contains(2));
  EXPECT_FALSE(sim.IsOrphan(3));
  EXPECT_EQ(Req(sim, {1, 3}), 2u);
  // A new root evicts the least recently used block, 1, which orphans 3;
  // 3 is then the first to go.
  EXPECT_EQ(Req(sim, {5}), 0u);
  EXPECT_TRUE(sim.IsOrphan(3));
  EXPECT_EQ(Req(sim, {6}), 0u);
  EXPECT_FALSE(sim.Contains(3));
  EXPECT_TRUE(sim.Contains(5));
}

TEST(CacheSimTest, OrphansLeaveBeforeOlderBlocks) {
  // {9, 1, 2}: 9 is put, 1 is present (EXISTS, not accessed), 2 is put under
  // 1. Recency is then 2, 9, 1 (newest first).
  PolicySim sim = MakeSim("lru", 3);
  Req(sim, {1});
  EXPECT_EQ(Req(sim, {9, 1, 2}), 0u);
  EXPECT_EQ(sim.size(), 3u);
  Req(sim, {4});  // evicts 1, orphaning 2
  EXPECT_FALSE(sim.Contains(1));
  EXPECT_TRUE(sim.IsOrphan(2));
  Req(sim, {5});  // the orphan goes, not 9, the least recently used
  EXPECT_FALSE(sim.Contains(2));
  EXPECT_TRUE(sim.Contains(9));
}

TEST(CacheSimTest, BlockWhoseParentWasEvictedForItIsAnOrphan) {
  // With room for one block, putting 2 evicts its parent 1 first.
  for (std::string_view p : kPolicies) {
    PolicySim sim = MakeSim(p, 1);
    EXPECT_EQ(Req(sim, {1, 2}), 0u) << p;
    EXPECT_FALSE(sim.Contains(1)) << p;
    EXPECT_TRUE(sim.IsOrphan(2)) << p;
  }
}

TEST(CacheSimTest, UnknownPolicyIsInvalid) {
  Trace t = MakeTrace({{1}});
  EXPECT_EQ(SimulatePolicy(t, "mru", 3).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(RunSimulations(std::span(&t, 1), {{3}, {"mru"}}).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(RunSimulations(std::span(&t, 1), {{0}, {"lru"}}).status().code(), StatusCode::kInvalid);
}

// --- Belady and the unlimited cache ---

TEST(CacheSimTest, BeladyBypassesBlocksNeverUsedAgain) {
  // Capacity 2: Belady keeps 1 and 2 and lets 3 pass; LRU evicts 1 for 3,
  // then 2 for 1, then 3 for 2: no hits.
  Trace t = MakeTrace({{1}, {2}, {3}, {1}, {2}});
  SimResult b = SimulateBelady(t, 2);
  EXPECT_EQ(b.hits, 2u);
  EXPECT_EQ(b.evictions, 1u);
  EXPECT_EQ(PolicyHits(t, "lru", 2), 0u);
}

// Requests that walk a random trie of blocks: prefix-chained ids, as in the
// real traces (a block's parent is the same wherever it appears).
Trace RandomChainedTrace(uint64_t seed, int requests) {
  std::mt19937_64 rng(seed);
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> child;  // (parent, branch) -> id
  uint64_t next_id = 1;
  std::vector<std::vector<uint64_t>> reqs;
  std::geometric_distribution<int> branch(0.5);
  std::uniform_int_distribution<int> depth(1, 10);
  for (int r = 0; r < requests; ++r) {
    std::vector<uint64_t> ids;
    uint64_t parent = 0;
    for (int d = depth(rng); d > 0; --d) {
      auto [it, inserted] = child.try_emplace({parent, branch(rng)}, next_id);
      if (inserted) next_id++;
      parent = it->second;
      ids.push_back(parent);
    }
    reqs.push_back(std::move(ids));
  }
  return MakeTrace(reqs);
}

TEST(CacheSimTest, BeladyBoundsEveryPolicyOnRandomTraces) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Trace t = RandomChainedTrace(seed, 300);
    const uint64_t best = SimulateInfinite(t).hits;
    for (uint64_t capacity : {1, 2, 3, 5, 8, 13, 30, 100}) {
      const uint64_t belady = SimulateBelady(t, capacity).hits;
      EXPECT_LE(belady, best) << "seed " << seed << " capacity " << capacity;
      for (std::string_view p : kPolicies) {
        EXPECT_LE(PolicyHits(t, p, capacity), belady)
            << p << " seed " << seed << " capacity " << capacity;
      }
    }
    // With room for every block, nothing is ever evicted.
    EXPECT_EQ(SimulateBelady(t, 1'000'000).hits, best);
    for (std::string_view p : kPolicies) EXPECT_EQ(PolicyHits(t, p, 1'000'000), best) << p;
  }
}

TEST(CacheSimTest, InfiniteIsTheUpperBoundOnTheSample) {
  Result<Trace> t = LoadTrace(kSampleTrace);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  SimResult inf = SimulateInfinite(*t);
  EXPECT_EQ(inf.hits, 67u);  // computed independently from the file
  EXPECT_EQ(inf.tokens_avoided, 34304u);
  for (uint64_t capacity : {10, 50, 200, 1000}) {
    const uint64_t belady = SimulateBelady(*t, capacity).hits;
    EXPECT_LE(belady, inf.hits);
    for (std::string_view p : kPolicies) EXPECT_LE(PolicyHits(*t, p, capacity), belady) << p;
  }
}

// --- Report ---

TEST(CacheSimTest, RunSimulationsOrderAndRatios) {
  Trace t = MakeTrace({{1}, {2}, {3}, {1}, {2}, {1}});
  Result<std::vector<SimResult>> r = RunSimulations(std::span(&t, 1), {{2, 3}, {"lru", "s3fifo"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> order;
  for (const SimResult& s : *r) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s@%llu", s.policy.c_str(),
                  static_cast<unsigned long long>(s.capacity_blocks));
    order.push_back(buf);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"lru@2", "s3fifo@2", "belady@2", "lru@3", "s3fifo@3",
                                             "belady@3", "infinite@0"}));
  const SimResult& lru2 = (*r)[0];
  const SimResult& belady2 = (*r)[2];
  EXPECT_EQ(lru2.hits, 1u);  // only the last {1}
  EXPECT_EQ(belady2.hits, 3u);
  EXPECT_DOUBLE_EQ(HitRatio(*r, belady2, "lru"), 3.0);
  EXPECT_DOUBLE_EQ(HitRatio(*r, lru2, kBelady), 1.0 / 3.0);
  EXPECT_LT(HitRatio(*r, r->back(), "lru"), 0);             // no LRU row without a limit
  EXPECT_DOUBLE_EQ(HitRatio(*r, belady2, kInfinite), 1.0);  // 3 hits without a limit too

  std::string table = FormatTable(*r);
  EXPECT_NE(table.find("| test | 2 | belady | 6 | 6 | 3 | 50.0% |"), std::string::npos) << table;
  EXPECT_NE(table.find("| test | unlimited | infinite |"), std::string::npos) << table;
  nlohmann::json j = ToJson(*r);
  ASSERT_EQ(j["results"].size(), 7u);
  EXPECT_EQ(j["results"][2]["policy"], "belady");
  EXPECT_DOUBLE_EQ(j["results"][2]["vs_lru"].get<double>(), 3.0);
  EXPECT_TRUE(j["results"][6]["vs_lru"].is_null());
}

// --- Against the engine ---

// The sample trace through a real Engine (one namespace with a quota of
// `capacity` one-byte values; per request a MATCH_PREFIX, then a
// put-if-absent of each block from the first unmatched one on, with its
// predecessor as parent) gives the simulated match length for every
// request, under every policy.
TEST(CacheSimTest, EngineReplayMatchesSimulation) {
  Result<Trace> trace = LoadTrace(kSampleTrace);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  for (std::string_view policy : kPolicies) {
    for (uint64_t capacity : {7, 40, 150}) {
      engine::test_util::TempDir dir;
      ASSERT_TRUE(dir.ok());
      engine::EngineOptions o;
      o.data_dir = dir.data_dir();
      o.memory_bytes = 8 * ctxstore::kMiB;
      o.disk_bytes = 64 * ctxstore::kMiB;
      o.segment_bytes = 1 * ctxstore::kMiB;
      o.max_value_bytes = 64 * ctxstore::kKiB;
      o.eviction_policy = std::string(policy);
      auto opened = engine::Engine::Open(o);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      std::unique_ptr<engine::Engine> eng = std::move(opened).value();
      ASSERT_TRUE(eng->SetNamespace("default", {.quota_bytes = capacity}).ok());
      PolicySim sim = MakeSim(policy, capacity);
      const uint8_t value[1] = {42};
      for (size_t n = 0; n < trace->requests.size(); ++n) {
        std::span<const uint64_t> ids = trace->BlocksOf(trace->requests[n]);
        std::vector<std::string> keys;
        for (uint64_t id : ids) keys.push_back(std::to_string(id));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        auto m = eng->MatchPrefix(engine::kDefaultNamespaceId, views, 0);
        ASSERT_TRUE(m.ok()) << m.status().ToString();
        for (size_t i = m->matched; i < keys.size(); ++i) {
          engine::WriteOptions w;
          if (i > 0) w.parent = keys[i - 1];
          Status st = eng->Put(keys[i], std::span<const uint8_t>(value), w);
          ASSERT_TRUE(st.ok() || st.code() == StatusCode::kExists) << st.ToString();
        }
        EXPECT_EQ(m->matched, sim.Request(ids))
            << policy << " capacity " << capacity << " request " << n;
      }
      ASSERT_TRUE(eng->Close().ok());
    }
  }
}

}  // namespace
}  // namespace ctxstore::bench
