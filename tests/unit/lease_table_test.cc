// LeaseTable through its own interface, over entries of a real Index: what
// a lease holds and until when, the limits (store-wide and per namespace),
// RELEASE, the end of a lease's time, and objects that go while leased.
#include "engine/context/lease_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/index/index.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kNow = 1'000'000;

class LeaseTableTest : public ::testing::Test {
 protected:
  Entry* Add(uint32_t ns, std::string_view key, uint64_t seq) {
    auto [it, inserted] = index_.try_emplace(IndexKey(ns, key).view());
    it->second.namespace_id = ns;
    it->second.seq = seq;
    return &it->second;
  }
  LeaseTable::FindEntry Find() {
    return [this](std::string_view key, uint64_t seq) -> Entry* {
      auto it = index_.find(key);
      return it == index_.end() || it->second.seq != seq ? nullptr : &it->second;
    };
  }
  LeaseTable::Released Record() {
    return [this](Entry& e) { released_.push_back(std::string(e.user_key())); };
  }

  Index index_;
  std::vector<std::string> released_;
};

TEST_F(LeaseTableTest, ALeaseHoldsItsObjectsUntilItIsReleased) {
  LeaseTable leases({});
  Entry* a = Add(0, "a", 1);
  Entry* b = Add(0, "b", 2);
  std::vector<Entry*> both{a, b};
  auto id = leases.Take(0, "default", 0, both, 1000, kNow);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_NE(*id, 0u);
  EXPECT_TRUE(leases.Holds(*a, kNow + 999));
  EXPECT_FALSE(leases.Holds(*a, kNow + 1000));
  EXPECT_EQ(leases.HoldOn(*b).leases, 1u);
  EXPECT_EQ(leases.HoldOn(*b).until_ms, kNow + 1000);
  EXPECT_EQ(leases.leases(), 1u);
  EXPECT_EQ(leases.leased_objects(), 2u);

  // A second, longer lease on one of them: held until the later end.
  std::vector<Entry*> only_a{a};
  ASSERT_TRUE(leases.Take(0, "default", 0, only_a, 5000, kNow).ok());
  EXPECT_EQ(leases.HoldOn(*a).leases, 2u);
  EXPECT_EQ(leases.HoldOn(*a).until_ms, kNow + 5000);

  // Only its own namespace may release it.
  EXPECT_EQ(leases.Release(1, *id, kNow, Find(), Record()).code(), StatusCode::kNotFound);
  EXPECT_TRUE(leases.Release(0, *id, kNow, Find(), Record()).ok());
  EXPECT_EQ(released_, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(b->leased);
  EXPECT_TRUE(a->leased);  // the second lease
  EXPECT_EQ(leases.HoldOn(*a).leases, 1u);
  EXPECT_EQ(leases.Release(0, *id, kNow, Find(), Record()).code(), StatusCode::kNotFound);
}

// ObjectTable::SetExpiry gives an object a new seq without a new value:
// every lease that held it (twice, for a lease that matched it twice)
// holds the new seq, and ends on it; leases of other objects are untouched.
TEST_F(LeaseTableTest, ARenumberedObjectStaysHeldAndItsLeasesEnd) {
  LeaseTable leases({});
  Entry* a = Add(0, "a", 1);
  Entry* b = Add(0, "b", 2);
  std::vector<Entry*> a_twice{a, a}, a_and_b{a, b};
  auto first = leases.Take(0, "default", 0, a_twice, 1000, kNow);
  auto second = leases.Take(0, "default", 0, a_and_b, 5000, kNow);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(leases.HoldOn(*a).leases, 3u);
  a->seq = 7;
  leases.Renumber(*a, /*old_seq=*/1);
  EXPECT_TRUE(leases.Holds(*a, kNow + 4999));
  EXPECT_TRUE(leases.Release(0, *first, kNow, Find(), Record()).ok());
  EXPECT_EQ(released_, (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ(leases.HoldOn(*a).leases, 1u);
  EXPECT_TRUE(leases.Release(0, *second, kNow, Find(), Record()).ok());
  EXPECT_FALSE(a->leased);
  EXPECT_FALSE(b->leased);
  EXPECT_EQ(leases.leased_objects(), 0u);
  // Not leased: nothing to do.
  a->seq = 8;
  leases.Renumber(*a, /*old_seq=*/7);
  EXPECT_FALSE(a->leased);
}

TEST_F(LeaseTableTest, LeasesEndWhenTheirTimeIsUp) {
  LeaseTable leases({});
  Entry* a = Add(0, "a", 1);
  std::vector<Entry*> only_a{a};
  auto id = leases.Take(0, "default", 0, only_a, 100, kNow);
  ASSERT_TRUE(id.ok());
  leases.EndExpired(kNow + 99, Find(), Record());
  EXPECT_EQ(leases.leases(), 1u);
  leases.EndExpired(kNow + 100, Find(), Record());
  EXPECT_EQ(leases.leases(), 0u);
  EXPECT_FALSE(a->leased);
  EXPECT_EQ(released_, std::vector<std::string>{"a"});
  // A lease that ended is not released (it is gone all the same).
  EXPECT_EQ(leases.Release(0, *id, kNow + 100, Find(), Record()).code(), StatusCode::kNotFound);
}

TEST_F(LeaseTableTest, AnObjectThatGoesIsNoLongerHeld) {
  LeaseTable leases({});
  Entry* a = Add(0, "a", 1);
  std::vector<Entry*> only_a{a};
  auto id = leases.Take(0, "default", 0, only_a, 1000, kNow);
  ASSERT_TRUE(id.ok());
  leases.Forget(*a);  // deleted, or replaced by a new version
  EXPECT_FALSE(a->leased);
  a->seq = 2;
  EXPECT_TRUE(leases.Release(0, *id, kNow, Find(), Record()).ok());
  EXPECT_TRUE(released_.empty());
  EXPECT_EQ(leases.leased_objects(), 0u);
}

TEST_F(LeaseTableTest, LimitsAreStoreWideAndPerNamespace) {
  LeaseTable leases({.max_leases = 2, .max_leased_objects = 3});
  Entry* a = Add(1, "a", 1);
  Entry* b = Add(1, "b", 2);
  Entry* c = Add(2, "c", 3);
  std::vector<Entry*> ab{a, b};
  std::vector<Entry*> only_c{c};
  // Namespace 1 may hold one object.
  EXPECT_EQ(leases.Take(1, "one", 1, ab, 10, kNow).status().code(), StatusCode::kBusy);
  ASSERT_TRUE(leases.Take(1, "one", 2, ab, 10, kNow).ok());
  // Store-wide: at most 3 objects.
  EXPECT_EQ(leases.Take(2, "two", 0, ab, 10, kNow).status().code(), StatusCode::kBusy);
  ASSERT_TRUE(leases.Take(2, "two", 0, only_c, 10, kNow).ok());
  // Store-wide: at most 2 leases.
  EXPECT_EQ(leases.Take(2, "two", 0, {}, 10, kNow).status().code(), StatusCode::kBusy);
  leases.EndExpired(kNow + 10, Find(), Record());
  EXPECT_EQ(leases.leases(), 0u);
  EXPECT_TRUE(leases.Take(1, "one", 2, ab, 10, kNow).ok());
}

}  // namespace
}  // namespace ctxstore::engine
