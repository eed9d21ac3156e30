// DramTier over a real arena: blocks held by entries and counted, LRU lists
// per level, and the victim search (lowest level first, least recently used
// first, refused entries passed over once).
#include "engine/dram/dram_tier.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/index/index.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kPage = Arena::kPageSize;

class DramTierUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto arena = Arena::Create(8 * kPage);
    ASSERT_TRUE(arena.ok());
    arena_ = std::move(*arena);
    dram_ = std::make_unique<DramTier>(arena_.get(), &stats_);
  }
  void TearDown() override {
    for (auto&& [key, e] : index_) dram_->Set(e, nullptr);
  }

  // A clean entry of one page, resident, on list level.
  Entry& Resident(std::string_view key, uint8_t level) {
    Entry& e = index_.try_emplace(IndexKey(0, key).view()).first->second;
    e.set_value_len(kPage);
    dram_->Set(e, arena_->Allocate(kPage).get());
    dram_->AddToLru(e, level);
    return e;
  }

  EngineStats stats_;
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<DramTier> dram_;
  Index index_;
};

TEST_F(DramTierUnitTest, EntriesHoldTheirBlocksUntilDropped) {
  Entry& e = Resident("a", 4);
  EXPECT_TRUE(e.dram());
  EXPECT_TRUE(e.on_lru);
  EXPECT_EQ(stats_.dram_objects, 1u);
  EXPECT_EQ(arena_->used_bytes(), kPage) << "the entry's reference keeps the block";
  dram_->Set(e, nullptr);
  EXPECT_FALSE(e.dram());
  EXPECT_FALSE(e.on_lru);
  EXPECT_EQ(stats_.dram_objects, 0u);
  EXPECT_EQ(arena_->used_bytes(), 0u);
}

TEST_F(DramTierUnitTest, VictimsComeFromTheLowestLevelLeastRecentlyUsedFirst) {
  Entry& hot = Resident("hot", 7);
  Entry& older = Resident("older", 2);
  Entry& newer = Resident("newer", 2);
  EXPECT_EQ(dram_->Victim([](const Entry&) { return true; }), &older);
  // Refused (leased, pinned) entries are passed over: the next in line.
  EXPECT_EQ(dram_->Victim([&](const Entry& e) { return &e != &older; }), &newer);
  dram_->RemoveFromLru(older);
  dram_->RemoveFromLru(newer);
  EXPECT_EQ(dram_->Victim([](const Entry&) { return true; }), &hot);
  EXPECT_EQ(dram_->Victim([](const Entry&) { return false; }), nullptr);
}

TEST_F(DramTierUnitTest, UnwrittenEntriesStayOffTheLists) {
  Entry& e = index_.try_emplace(IndexKey(0, "dirty").view()).first->second;
  e.set_value_len(kPage);
  e.dirty = true;
  dram_->Set(e, arena_->Allocate(kPage).get());
  dram_->AddToLru(e, 0);
  EXPECT_FALSE(e.on_lru);
  EXPECT_EQ(dram_->Victim([](const Entry&) { return true; }), nullptr);
}

}  // namespace
}  // namespace ctxstore::engine
