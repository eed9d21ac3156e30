#include "engine/context/policy.h"

#include <gtest/gtest.h>

#include "engine/context/policy_internal.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ctxstore::engine {
namespace {

bool AllowAll(PolicyNode*) {
  return true;
}

std::unique_ptr<EvictionPolicy> MakePolicy(std::string_view name) {
  auto policy = NewEvictionPolicy(name);
  EXPECT_NE(policy, nullptr) << name;
  return policy;
}

// Nodes with key_hash = first_key + i; the vector is never resized, so the
// nodes stay put while linked.
std::vector<PolicyNode> MakeNodes(int count, uint64_t bytes = 1, uint64_t first_key = 1) {
  std::vector<PolicyNode> nodes(count);
  for (int i = 0; i < count; ++i) {
    nodes[i].key_hash = first_key + i;
    nodes[i].bytes = bytes;
  }
  return nodes;
}

// A node of its own, for keys inserted and removed one at a time.
PolicyNode Node(uint64_t key_hash, uint64_t bytes = 1) {
  PolicyNode n;
  n.key_hash = key_hash;
  n.bytes = bytes;
  return n;
}

// Evicts until no victim is left (or the policy is empty) and returns the
// victims' keys in order.
std::vector<uint64_t> Drain(EvictionPolicy& policy,
                            const std::function<bool(PolicyNode*)>& evictable = AllowAll) {
  std::vector<uint64_t> order;
  while (PolicyNode* victim = policy.Victim(evictable)) {
    order.push_back(victim->key_hash);
    policy.Remove(victim);
    if (order.size() > 1'000'000) break;  // a bug; do not hang the test
  }
  return order;
}

// splitmix64: the same sequence on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// Rules every policy follows.

class EvictionPolicyTest : public testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<EvictionPolicy> policy_ = MakePolicy(GetParam());
};

TEST_P(EvictionPolicyTest, NameRoundTrips) {
  EXPECT_EQ(policy_->name(), GetParam());
  EXPECT_NE(kPolicyNames.find(GetParam()), std::string_view::npos);
}

TEST_P(EvictionPolicyTest, EmptyHasNoVictim) {
  EXPECT_EQ(policy_->Victim(AllowAll), nullptr);
  EXPECT_EQ(policy_->size(), 0u);
  EXPECT_EQ(policy_->bytes(), 0u);
}

TEST_P(EvictionPolicyTest, SizeAndBytesAreExact) {
  std::vector<PolicyNode> nodes = MakeNodes(5);
  for (int i = 0; i < 5; ++i) nodes[i].bytes = uint64_t{1} << (10 + i);  // 1 KiB .. 16 KiB
  for (auto& n : nodes) policy_->Insert(&n);
  EXPECT_EQ(policy_->size(), 5u);
  EXPECT_EQ(policy_->bytes(), 31u << 10);

  policy_->Access(&nodes[0]);
  policy_->Orphan(&nodes[1]);
  EXPECT_EQ(policy_->size(), 5u);
  EXPECT_EQ(policy_->bytes(), 31u << 10);

  policy_->Remove(&nodes[2]);
  EXPECT_EQ(policy_->size(), 4u);
  EXPECT_EQ(policy_->bytes(), 27u << 10);

  // Removing an unlinked node, twice or never inserted, changes nothing.
  policy_->Remove(&nodes[2]);
  PolicyNode stranger = Node(99, 1 << 20);
  policy_->Remove(&stranger);
  policy_->Access(&stranger);
  EXPECT_EQ(policy_->size(), 4u);
  EXPECT_EQ(policy_->bytes(), 27u << 10);

  // Inserting a linked node again does not count it twice.
  policy_->Insert(&nodes[3]);
  policy_->Insert(&nodes[3]);
  EXPECT_EQ(policy_->size(), 4u);
  EXPECT_EQ(policy_->bytes(), 27u << 10);

  std::vector<uint64_t> order = Drain(*policy_);
  EXPECT_EQ(std::multiset<uint64_t>(order.begin(), order.end()),
            (std::multiset<uint64_t>{1, 2, 4, 5}));
  EXPECT_EQ(policy_->size(), 0u);
  EXPECT_EQ(policy_->bytes(), 0u);
}

TEST_P(EvictionPolicyTest, VictimDoesNotUnlink) {
  std::vector<PolicyNode> nodes = MakeNodes(4);
  for (auto& n : nodes) policy_->Insert(&n);
  policy_->Access(&nodes[2]);
  PolicyNode* first = policy_->Victim(AllowAll);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(policy_->size(), 4u);
  EXPECT_EQ(policy_->Victim(AllowAll), first);
  policy_->Remove(first);
  EXPECT_EQ(policy_->size(), 3u);
  EXPECT_NE(policy_->Victim(AllowAll), first);
}

TEST_P(EvictionPolicyTest, RemoveFromTheMiddle) {
  std::vector<PolicyNode> nodes = MakeNodes(6);
  for (auto& n : nodes) policy_->Insert(&n);
  policy_->Remove(&nodes[2]);
  policy_->Remove(&nodes[4]);
  EXPECT_EQ(policy_->size(), 4u);
  std::vector<uint64_t> order = Drain(*policy_);
  EXPECT_EQ(std::set<uint64_t>(order.begin(), order.end()), (std::set<uint64_t>{1, 2, 4, 6}));
  EXPECT_EQ(order.size(), 4u);

  // A removed node can come back.
  policy_->Insert(&nodes[2]);
  EXPECT_EQ(Drain(*policy_), std::vector<uint64_t>{3});
}

TEST_P(EvictionPolicyTest, OrphansGoFirst) {
  std::vector<PolicyNode> nodes = MakeNodes(6);
  for (auto& n : nodes) policy_->Insert(&n);
  for (auto& n : nodes) policy_->Access(&n);
  // Orphaned in the order 4, 2; read after that: still first.
  policy_->Orphan(&nodes[3]);
  policy_->Orphan(&nodes[1]);
  policy_->Orphan(&nodes[1]);  // twice is once
  policy_->Access(&nodes[3]);
  policy_->Access(&nodes[1]);
  EXPECT_TRUE(nodes[3].orphan);
  // Orphaned before it was inserted: an orphan from the start.
  PolicyNode late = Node(7);
  policy_->Orphan(&late);
  EXPECT_EQ(policy_->size(), 6u);
  policy_->Insert(&late);
  EXPECT_EQ(policy_->size(), 7u);

  std::vector<uint64_t> order = Drain(*policy_);
  ASSERT_EQ(order.size(), 7u);
  EXPECT_EQ(std::set<uint64_t>(order.begin(), order.begin() + 3), (std::set<uint64_t>{2, 4, 7}));
  EXPECT_EQ(std::set<uint64_t>(order.begin() + 3, order.end()), (std::set<uint64_t>{1, 3, 5, 6}));
}

TEST_P(EvictionPolicyTest, OrphansLeaveInTheOrderOrphaned) {
  std::vector<PolicyNode> nodes = MakeNodes(4);
  for (auto& n : nodes) policy_->Insert(&n);
  policy_->Orphan(&nodes[2]);
  policy_->Orphan(&nodes[0]);
  policy_->Orphan(&nodes[3]);
  std::vector<uint64_t> order = Drain(*policy_);
  EXPECT_EQ(order, (std::vector<uint64_t>{3, 1, 4, 2}));
}

TEST_P(EvictionPolicyTest, PinnedOrphansAreSkipped) {
  std::vector<PolicyNode> nodes = MakeNodes(3);
  for (auto& n : nodes) policy_->Insert(&n);
  policy_->Orphan(&nodes[1]);
  auto not_two = [](PolicyNode* n) { return n->key_hash != 2; };
  PolicyNode* victim = policy_->Victim(not_two);
  ASSERT_NE(victim, nullptr);
  EXPECT_NE(victim->key_hash, 2u);
  EXPECT_EQ(Drain(*policy_, not_two).size(), 2u);
  EXPECT_EQ(Drain(*policy_), std::vector<uint64_t>{2});
}

TEST_P(EvictionPolicyTest, RefusedNodesAreNeverReturned) {
  std::vector<PolicyNode> nodes = MakeNodes(20);
  for (auto& n : nodes) policy_->Insert(&n);
  for (int i = 0; i < 20; i += 3) policy_->Access(&nodes[i]);
  std::set<uint64_t> pinned;
  for (int i = 0; i < 20; i += 2) pinned.insert(nodes[i].key_hash);
  auto unpinned = [&](PolicyNode* n) { return pinned.count(n->key_hash) == 0; };

  std::vector<uint64_t> order = Drain(*policy_, unpinned);
  EXPECT_EQ(order.size(), 10u);
  for (uint64_t key : order) EXPECT_EQ(key % 2, 0u) << key;  // keys 2, 4, ... are unpinned

  // The pinned ones are all still there, and come out once unpinned.
  EXPECT_EQ(policy_->size(), 10u);
  EXPECT_EQ(policy_->bytes(), 10u);
  EXPECT_EQ(policy_->Victim(unpinned), nullptr);
  EXPECT_EQ(policy_->size(), 10u);
  pinned.clear();
  order = Drain(*policy_, unpinned);
  EXPECT_EQ(std::set<uint64_t>(order.begin(), order.end()),
            (std::set<uint64_t>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19}));
}

// Refusing everything returns nullptr after a bounded amount of work, and
// asks about each node at most twice.
TEST_P(EvictionPolicyTest, AllRefusedIsBoundedAndReturnsNull) {
  constexpr int kNodes = 200;
  std::vector<PolicyNode> nodes = MakeNodes(kNodes);
  Rng rng(7);
  for (auto& n : nodes) {
    policy_->Insert(&n);
    for (uint64_t r = rng.Uniform(5); r > 0; --r) policy_->Access(&nodes[rng.Uniform(kNodes)]);
  }
  for (int i = 0; i < kNodes; i += 17) policy_->Orphan(&nodes[i]);

  for (int round = 0; round < 3; ++round) {
    std::map<PolicyNode*, int> asked;
    PolicyNode* victim = policy_->Victim([&](PolicyNode* n) {
      asked[n]++;
      return false;
    });
    EXPECT_EQ(victim, nullptr);
    EXPECT_EQ(asked.size(), static_cast<size_t>(kNodes));  // nobody overlooked
    for (const auto& [node, times] : asked) EXPECT_LE(times, 2) << node->key_hash;
    EXPECT_EQ(policy_->size(), static_cast<uint64_t>(kNodes));
    EXPECT_EQ(policy_->bytes(), static_cast<uint64_t>(kNodes));
  }
  // Only one is evictable: it is found.
  auto only_150 = [](PolicyNode* n) { return n->key_hash == 150; };
  PolicyNode* victim = policy_->Victim(only_150);
  ASSERT_NE(victim, nullptr);
  EXPECT_EQ(victim->key_hash, 150u);
}

// Random operations against a model: the totals stay exact, and a victim is
// always a linked, evictable node, nullptr exactly when there is none.
TEST_P(EvictionPolicyTest, RandomOperationsKeepInvariants) {
  constexpr int kNodes = 64;
  std::vector<PolicyNode> nodes = MakeNodes(kNodes);
  Rng rng(42);
  for (int i = 0; i < kNodes; ++i) nodes[i].bytes = 1 + rng.Uniform(1000);
  for (int i = 0; i < kNodes; ++i) nodes[i].key_hash = 1 + rng.Uniform(kNodes / 2);  // shared
  std::set<PolicyNode*> linked;
  std::set<PolicyNode*> pinned;
  auto evictable = [&](PolicyNode* n) { return pinned.count(n) == 0; };

  for (int step = 0; step < 20000; ++step) {
    PolicyNode* n = &nodes[rng.Uniform(kNodes)];
    switch (rng.Uniform(8)) {
      case 0:
      case 1:
        policy_->Insert(n);
        linked.insert(n);
        break;
      case 2:
      case 3:
        policy_->Access(n);
        break;
      case 4:
        policy_->Remove(n);
        linked.erase(n);
        if (rng.Uniform(2) == 0) n->orphan = false;  // a fresh object reuses the node
        break;
      case 5:
        if (rng.Uniform(8) == 0) policy_->Orphan(n);
        break;
      case 6:
        if (pinned.count(n) != 0) {
          pinned.erase(n);
        } else {
          pinned.insert(n);
        }
        break;
      case 7: {
        PolicyNode* victim = policy_->Victim(evictable);
        bool any = false;
        for (PolicyNode* l : linked) any = any || evictable(l);
        if (victim == nullptr) {
          ASSERT_FALSE(any) << "step " << step;
        } else {
          ASSERT_EQ(linked.count(victim), 1u) << "step " << step;
          ASSERT_TRUE(evictable(victim)) << "step " << step;
          if (rng.Uniform(4) != 0) {
            policy_->Remove(victim);
            linked.erase(victim);
          }
        }
        break;
      }
    }
    uint64_t bytes = 0;
    for (PolicyNode* l : linked) bytes += l->bytes;
    ASSERT_EQ(policy_->size(), linked.size()) << "step " << step;
    ASSERT_EQ(policy_->bytes(), bytes) << "step " << step;
  }
  pinned.clear();
  std::vector<uint64_t> order = Drain(*policy_);
  EXPECT_EQ(order.size(), linked.size());
  EXPECT_EQ(policy_->size(), 0u);
  EXPECT_EQ(policy_->bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(All, EvictionPolicyTest,
                         testing::Values("lru", "s3fifo", "lru-ghost", "lru-doorkeeper"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(EvictionPolicyFactoryTest, UnknownNameIsNull) {
  EXPECT_EQ(NewEvictionPolicy(""), nullptr);
  EXPECT_EQ(NewEvictionPolicy("LRU"), nullptr);
  EXPECT_EQ(NewEvictionPolicy("fifo"), nullptr);
}

// ---------------------------------------------------------------------------
// lru

TEST(LruPolicyTest, LeastRecentlyUsedGoesFirst) {
  auto policy = MakePolicy("lru");
  std::vector<PolicyNode> nodes = MakeNodes(6);
  for (int i = 0; i < 5; ++i) policy->Insert(&nodes[i]);
  policy->Access(&nodes[1]);
  policy->Access(&nodes[3]);
  policy->Insert(&nodes[5]);
  policy->Access(&nodes[0]);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{3, 5, 2, 4, 6, 1}));
}

TEST(LruPolicyTest, ReinsertMakesMostRecent) {
  auto policy = MakePolicy("lru");
  std::vector<PolicyNode> nodes = MakeNodes(3);
  for (auto& n : nodes) policy->Insert(&n);
  policy->Insert(&nodes[0]);  // a new version of key 1
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{2, 3, 1}));
}

// A refused node keeps its place: it is the victim as soon as it may go.
TEST(LruPolicyTest, RefusalKeepsPosition) {
  auto policy = MakePolicy("lru");
  std::vector<PolicyNode> nodes = MakeNodes(3);
  for (auto& n : nodes) policy->Insert(&n);
  auto not_one = [](PolicyNode* n) { return n->key_hash != 1; };
  EXPECT_EQ(policy->Victim(not_one)->key_hash, 2u);
  EXPECT_EQ(policy->Victim(AllowAll)->key_hash, 1u);
}

// A flood of one-shot keys pushes a reused key out under plain LRU.
TEST(LruPolicyTest, ReusedObjectLeavesBeforeNewerOneShots) {
  auto policy = MakePolicy("lru");
  std::vector<PolicyNode> nodes = MakeNodes(10);
  policy->Insert(&nodes[0]);
  policy->Insert(&nodes[1]);
  policy->Access(&nodes[0]);
  for (int i = 2; i < 10; ++i) policy->Insert(&nodes[i]);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{2, 1, 3, 4, 5, 6, 7, 8, 9, 10}));
}

// ---------------------------------------------------------------------------
// s3fifo

// Same sequence as LruPolicyTest.ReusedObjectLeavesBeforeNewerOneShots: the
// object read while in small moves to main and outlives every one-shot.
TEST(S3FifoPolicyTest, OneHitWondersLeaveBeforeReusedObjects) {
  auto policy = MakePolicy("s3fifo");
  std::vector<PolicyNode> nodes = MakeNodes(10);
  policy->Insert(&nodes[0]);
  policy->Insert(&nodes[1]);
  policy->Access(&nodes[0]);
  for (int i = 2; i < 10; ++i) policy->Insert(&nodes[i]);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 1}));
}

TEST(S3FifoPolicyTest, SmallIsFifoWithoutReads) {
  auto policy = MakePolicy("s3fifo");
  std::vector<PolicyNode> nodes = MakeNodes(5);
  for (auto& n : nodes) policy->Insert(&n);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

// A key evicted from small and stored again skips small: fresh one-shots go
// before it.
TEST(S3FifoPolicyTest, GhostHitEntersMain) {
  auto policy = MakePolicy("s3fifo");
  PolicyNode x = Node(100);
  policy->Insert(&x);
  ASSERT_EQ(policy->Victim(AllowAll), &x);
  policy->Remove(&x);

  policy->Insert(&x);
  std::vector<PolicyNode> nodes = MakeNodes(3);
  for (auto& n : nodes) policy->Insert(&n);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{1, 2, 3, 100}));

  // The ghost entry was used up: the next time it is a stranger again, in
  // small among other strangers.
  policy->Insert(&x);
  std::vector<PolicyNode> fresh = MakeNodes(3, 1, 11);
  for (auto& n : fresh) policy->Insert(&n);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{100, 11, 12, 13}));
}

// Removal without eviction (overwrite, delete) leaves no ghost.
TEST(S3FifoPolicyTest, RemoveIsNotEviction) {
  auto policy = MakePolicy("s3fifo");
  PolicyNode x = Node(100);
  PolicyNode y = Node(200);
  policy->Insert(&x);
  policy->Remove(&x);
  policy->Insert(&x);
  policy->Insert(&y);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{100, 200}));
}

// Main is a FIFO in which objects read since they were last considered go
// around again.
TEST(S3FifoPolicyTest, MainReinsertsReadObjects) {
  for (bool read_p : {false, true}) {
    auto policy = MakePolicy("s3fifo");
    PolicyNode p = Node(1);
    PolicyNode q = Node(2);
    for (PolicyNode* n : {&p, &q}) {  // through the ghost list into main
      policy->Insert(n);
      ASSERT_EQ(policy->Victim(AllowAll), n);
      policy->Remove(n);
      policy->Insert(n);
    }
    if (read_p) policy->Access(&p);
    std::vector<uint64_t> expected =
        read_p ? std::vector<uint64_t>{2, 1} : std::vector<uint64_t>{1, 2};
    EXPECT_EQ(Drain(*policy), expected) << "read_p=" << read_p;
  }
}

TEST(S3FifoPolicyTest, FrequencySaturatesAtThree) {
  auto policy = MakePolicy("s3fifo");
  PolicyNode p = Node(1);
  policy->Access(&p);  // not linked: ignored
  EXPECT_EQ(p.freq, 0);
  policy->Insert(&p);
  for (int i = 0; i < 10; ++i) policy->Access(&p);
  EXPECT_EQ(p.freq, 3);
  policy->Insert(&p);  // a new version starts over
  EXPECT_EQ(p.freq, 0);
}

// Small gives way while it holds more than 10% of the bytes; then main does.
TEST(S3FifoPolicyTest, SmallHoldsTenPercentOfBytes) {
  auto policy = MakePolicy("s3fifo");
  PolicyNode big = Node(1000, 90);
  policy->Insert(&big);
  ASSERT_EQ(policy->Victim(AllowAll), &big);
  policy->Remove(&big);
  policy->Insert(&big);  // into main
  std::vector<PolicyNode> small = MakeNodes(20, 1);
  for (auto& n : small) policy->Insert(&n);
  // Evicting k one-shots leaves 20-k of 110-k bytes in small: over 10% until k = 10.
  std::vector<uint64_t> order = Drain(*policy);
  std::vector<uint64_t> expected = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000};
  for (uint64_t k = 11; k <= 20; ++k) expected.push_back(k);
  EXPECT_EQ(order, expected);
}

// A refused object in small counts as in use: it moves to main, stays linked,
// and the next one-shot goes instead.
TEST(S3FifoPolicyTest, RefusedSmallObjectMovesToMain) {
  auto policy = MakePolicy("s3fifo");
  std::vector<PolicyNode> nodes = MakeNodes(5);
  for (auto& n : nodes) policy->Insert(&n);
  auto not_one = [](PolicyNode* n) { return n->key_hash != 1; };
  EXPECT_EQ(policy->Victim(not_one)->key_hash, 2u);
  EXPECT_EQ(policy->size(), 5u);
  // Key 1 is in main now: the other one-shots go before it, even unpinned.
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{2, 3, 4, 5, 1}));
}

// The ghost list remembers at least 1024 evicted keys and forgets older ones.
TEST(S3FifoPolicyTest, GhostForgetsOldKeys) {
  for (int flood : {500, 5000}) {
    auto policy = MakePolicy("s3fifo");
    PolicyNode x = Node(1'000'000);
    policy->Insert(&x);
    ASSERT_EQ(policy->Victim(AllowAll), &x);
    policy->Remove(&x);
    for (int i = 0; i < flood; ++i) {  // one-shots, each evicted from small
      PolicyNode n = Node(i + 1);
      policy->Insert(&n);
      ASSERT_EQ(policy->Victim(AllowAll), &n);
      policy->Remove(&n);
    }
    // Remembered: x enters main and the fresh key in small goes first.
    // Forgotten: both are in small and x, older, goes first.
    policy->Insert(&x);
    PolicyNode fresh = Node(2'000'000);
    policy->Insert(&fresh);
    uint64_t expected = flood < 1024 ? fresh.key_hash : x.key_hash;
    EXPECT_EQ(policy->Victim(AllowAll)->key_hash, expected) << "flood=" << flood;
    policy->Remove(&x);
    policy->Remove(&fresh);
  }
}

// ---------------------------------------------------------------------------
// lru-ghost

// A key never seen goes in at the cold end: the next to go unless read.
TEST(LruGhostPolicyTest, FirstSightingIsNextToGo) {
  auto policy = MakePolicy("lru-ghost");
  std::vector<PolicyNode> nodes = MakeNodes(4);
  policy->Insert(&nodes[0]);
  policy->Insert(&nodes[1]);
  policy->Access(&nodes[1]);  // read: now the most recently used
  policy->Insert(&nodes[2]);
  policy->Insert(&nodes[3]);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{4, 3, 1, 2}));
}

// An evicted key stored again enters at the hot end.
TEST(LruGhostPolicyTest, SecondSightingIsAdmittedHot) {
  auto policy = MakePolicy("lru-ghost");
  PolicyNode x = Node(100);
  policy->Insert(&x);
  ASSERT_EQ(policy->Victim(AllowAll), &x);
  policy->Remove(&x);

  std::vector<PolicyNode> nodes = MakeNodes(2);
  for (auto& n : nodes) policy->Insert(&n);
  policy->Insert(&x);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{2, 1, 100}));
}

// Inserting cold already remembers the key, so a key overwritten or deleted
// and stored again is hot too; the ghost entry is used up by that.
TEST(LruGhostPolicyTest, ColdInsertIsRemembered) {
  auto policy = MakePolicy("lru-ghost");
  PolicyNode w = Node(1);
  PolicyNode x = Node(2);
  policy->Insert(&w);
  policy->Access(&w);
  policy->Insert(&x);  // cold
  policy->Remove(&x);
  policy->Insert(&x);  // seen: hot, ahead of w
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{1, 2}));

  policy->Insert(&w);  // w was evicted: hot
  policy->Insert(&x);  // x's entry was used up and it was evicted since: hot again
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{1, 2}));
}

// Whether x, stored again, enters at the hot end: then it is not the next
// victim even with a node read just before (cold, it would be).
bool AdmittedHot(EvictionPolicy& policy, PolicyNode& x) {
  PolicyNode w = Node(3'000'000);
  policy.Insert(&w);
  policy.Access(&w);
  policy.Insert(&x);
  bool hot = policy.Victim(AllowAll) != &x;
  policy.Remove(&w);
  policy.Remove(&x);
  return hot;
}

// The ghost list remembers at least 1024 keys and forgets older ones.
TEST(LruGhostPolicyTest, GhostForgetsOldKeys) {
  for (int flood : {500, 5000}) {
    auto policy = MakePolicy("lru-ghost");
    PolicyNode x = Node(1'000'000);
    policy->Insert(&x);
    ASSERT_EQ(policy->Victim(AllowAll), &x);
    policy->Remove(&x);
    for (int i = 0; i < flood; ++i) {  // one-shots, each evicted
      PolicyNode n = Node(i + 1);
      policy->Insert(&n);
      ASSERT_EQ(policy->Victim(AllowAll), &n);
      policy->Remove(&n);
    }
    // Two entries per one-shot (cold insert, eviction): 500 fit in 1024.
    EXPECT_EQ(AdmittedHot(*policy, x), flood == 500) << "flood=" << flood;
  }
}

// The ghost list grows with the number of linked objects (twice as many
// entries), so a large namespace remembers proportionally more.
TEST(LruGhostPolicyTest, GhostGrowsWithLinkedObjects) {
  for (int linked : {0, 4000}) {
    auto policy = MakePolicy("lru-ghost");
    std::vector<PolicyNode> resident = MakeNodes(linked, 1, 10'000'000);
    for (auto& n : resident) policy->Insert(&n);
    PolicyNode x = Node(1'000'000);
    policy->Insert(&x);
    policy->Remove(&x);
    for (int i = 0; i < 3000; ++i) {  // one-shots, stored and deleted
      PolicyNode n = Node(i + 1);
      policy->Insert(&n);
      policy->Remove(&n);
    }
    // 4000 + 1 + 3000 entries fit in 2 * 4001, not in 1024.
    EXPECT_EQ(AdmittedHot(*policy, x), linked > 0) << "linked=" << linked;
  }
}

// ---------------------------------------------------------------------------
// lru-doorkeeper

// Like lru-ghost: a key never seen goes in at the cold end.
TEST(LruDoorkeeperPolicyTest, FirstSightingIsNextToGo) {
  auto policy = MakePolicy("lru-doorkeeper");
  std::vector<PolicyNode> nodes = MakeNodes(4);
  policy->Insert(&nodes[0]);
  policy->Insert(&nodes[1]);
  policy->Access(&nodes[1]);
  policy->Insert(&nodes[2]);
  policy->Insert(&nodes[3]);
  EXPECT_EQ(Drain(*policy), (std::vector<uint64_t>{4, 3, 1, 2}));
}

// An evicted key, or one inserted cold and deleted, enters hot when stored
// again, and keeps doing so: the filter cannot forget one key.
TEST(LruDoorkeeperPolicyTest, SecondSightingIsAdmittedHot) {
  auto policy = MakePolicy("lru-doorkeeper");
  PolicyNode x = Node(100);
  policy->Insert(&x);
  ASSERT_EQ(policy->Victim(AllowAll), &x);
  policy->Remove(&x);
  EXPECT_TRUE(AdmittedHot(*policy, x));

  PolicyNode y = Node(200);
  policy->Insert(&y);  // cold
  policy->Remove(&y);  // deleted, not evicted
  EXPECT_TRUE(AdmittedHot(*policy, y));
  EXPECT_TRUE(AdmittedHot(*policy, y));
}

// Sightings are remembered for 5 to 10 times the linked objects, at least
// 1024 to 2048, then forgotten.
TEST(LruDoorkeeperPolicyTest, ForgetsAfterItsWindow) {
  for (int flood : {500, 1100}) {
    auto policy = MakePolicy("lru-doorkeeper");
    PolicyNode x = Node(1'000'000);
    policy->Insert(&x);
    ASSERT_EQ(policy->Victim(AllowAll), &x);
    policy->Remove(&x);
    for (int i = 0; i < flood; ++i) {  // one-shots, each evicted: two sightings
      PolicyNode n = Node(i + 1);
      policy->Insert(&n);
      ASSERT_EQ(policy->Victim(AllowAll), &n);
      policy->Remove(&n);
    }
    // 1001 sightings fit in the first 1024; 2201 are past two filters.
    EXPECT_EQ(AdmittedHot(*policy, x), flood == 500) << "flood=" << flood;
  }
}

// A namespace with more objects remembers proportionally more: with 4000
// linked, 10,000 sightings later a key is still known (5 x 4000 = 20,000).
TEST(LruDoorkeeperPolicyTest, WindowGrowsWithLinkedObjects) {
  for (int linked : {0, 4000}) {
    auto policy = MakePolicy("lru-doorkeeper");
    std::vector<PolicyNode> resident = MakeNodes(linked, 1, 10'000'000);
    for (auto& n : resident) policy->Insert(&n);
    PolicyNode x = Node(1'000'000);
    policy->Insert(&x);
    policy->Remove(&x);
    for (int i = 0; i < 10'000; ++i) {  // one-shots, stored and deleted
      PolicyNode n = Node(i + 1);
      policy->Insert(&n);
      policy->Remove(&n);
    }
    EXPECT_EQ(AdmittedHot(*policy, x), linked > 0) << "linked=" << linked;
  }
}

// The filter's memory depends on the window, not on the traffic: two
// filters of 10 bits per key of the window; no false negatives within the
// window and few false positives.
TEST(SightingFilterTest, BoundedMemoryNoFalseNegativesFewFalsePositives) {
  using policy_internal::SightingFilter;
  constexpr uint64_t kWindow = 10'000;
  SightingFilter filter;
  Rng rng(7);
  std::vector<uint64_t> keys;
  for (int i = 0; i < 1'000'000; ++i) {
    keys.push_back(rng.Next());
    filter.Add(keys.back(), kWindow);
  }
  const uint64_t per_filter = (kWindow * SightingFilter::kBitsPerKey + 63) / 64 * 8;
  EXPECT_LE(filter.memory_bytes(), 2 * per_filter);
  for (size_t i = keys.size() - kWindow; i < keys.size(); ++i) {
    ASSERT_TRUE(filter.Contains(keys[i])) << i;
  }
  int false_positives = 0;
  for (int i = 0; i < 100'000; ++i) false_positives += filter.Contains(rng.Next());
  EXPECT_LT(false_positives, 3'000);  // two filters at about 1% each
  EXPECT_FALSE(SightingFilter().Contains(keys[0]));
}

// ---------------------------------------------------------------------------
// A small cache simulation: a few shared prefixes (system prompts, few-shot
// headers) reused among a stream of unique one-shot keys (user suffixes).

struct SimObject {
  PolicyNode node;
};

double SimulateHitRate(std::string_view policy_name) {
  constexpr uint64_t kCapacityBytes = 64;
  constexpr uint64_t kSharedKeys = 6;
  constexpr uint64_t kSharedBytes = 4;
  constexpr int kRequests = 20000;
  auto policy = MakePolicy(policy_name);
  std::unordered_map<uint64_t, std::unique_ptr<SimObject>> cache;
  uint64_t used_bytes = 0;
  uint64_t next_unique_key = 1000;
  uint64_t hits = 0;
  Rng rng(2024);

  for (int i = 0; i < kRequests; ++i) {
    uint64_t key;
    uint64_t bytes;
    if (rng.Uniform(100) < 30) {
      key = 1 + rng.Uniform(kSharedKeys);
      bytes = kSharedBytes;
    } else {
      key = next_unique_key++;
      bytes = 1 + rng.Uniform(8);
    }
    if (auto it = cache.find(key); it != cache.end()) {
      hits++;
      policy->Access(&it->second->node);
      continue;
    }
    auto obj = std::make_unique<SimObject>();
    obj->node.key_hash = key;
    obj->node.bytes = bytes;
    policy->Insert(&obj->node);
    cache.emplace(key, std::move(obj));
    used_bytes += bytes;
    while (used_bytes > kCapacityBytes) {
      PolicyNode* victim = policy->Victim(AllowAll);
      EXPECT_NE(victim, nullptr);
      if (victim == nullptr) return 0;
      policy->Remove(victim);
      used_bytes -= victim->bytes;
      cache.erase(victim->key_hash);
    }
    EXPECT_EQ(policy->size(), cache.size());
    EXPECT_EQ(policy->bytes(), used_bytes);
  }
  return static_cast<double>(hits) / kRequests;
}

TEST(PolicySimulationTest, SharedPrefixesFavorS3FifoAndLruGhost) {
  double lru = SimulateHitRate("lru");
  double s3fifo = SimulateHitRate("s3fifo");
  double lru_ghost = SimulateHitRate("lru-ghost");
  double lru_doorkeeper = SimulateHitRate("lru-doorkeeper");
  RecordProperty("lru_hit_rate", std::to_string(lru));
  RecordProperty("s3fifo_hit_rate", std::to_string(s3fifo));
  RecordProperty("lru_ghost_hit_rate", std::to_string(lru_ghost));
  RecordProperty("lru_doorkeeper_hit_rate", std::to_string(lru_doorkeeper));
  std::printf("hit rate: lru %.3f, s3fifo %.3f, lru-ghost %.3f, lru-doorkeeper %.3f\n", lru, s3fifo,
              lru_ghost, lru_doorkeeper);
  // The trace is fixed (seeded), so the margin is too: about 0.16 against 0.30.
  EXPECT_GT(s3fifo, lru + 0.05);
  EXPECT_GT(lru_ghost, lru + 0.05);
  EXPECT_GT(lru_doorkeeper, lru + 0.05);
}

}  // namespace
}  // namespace ctxstore::engine
