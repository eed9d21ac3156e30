// The object table through its own interface, over a real arena and catalog
// and a clock that moves when told: versions and their counters, expiry,
// DRAM eviction, quota eviction with tombstones, groups, pins and listing,
// a reclaimed segment, and what a checkpoint takes.
#include "engine/index/object_table.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kPage = Arena::kPageSize;

class ObjectTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    auto arena = Arena::Create(4 * kPage);
    ASSERT_TRUE(arena.ok());
    arena_ = std::move(*arena);
    catalog_ = std::make_unique<Catalog>(&mem_, "/data", "lru", nullptr);
    ASSERT_TRUE(catalog_->Load(env_.WallClockMs()).ok());
    objects_ = std::make_unique<ObjectTable>(arena_.get(), catalog_.get(), &leases_, &queue_, &env_,
                                             &stats_);
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  // Commits a one-page value of key in ns; durable: its record is synced
  // on segment 1 (as MarkDurable after the flusher's sync).
  Entry* Put(std::string_view key, bool durable = true, uint64_t ttl_ms = 0, std::string group = "",
             uint32_t ns = kDefaultNamespaceId) {
    MutexLock lock(&mu_);
    auto block = objects_->Allocate(kPage, /*wait_ms=*/0, &mu_);
    if (block == nullptr) return nullptr;
    std::memset(block->data(), 'v', kPage);
    MetaRef meta = interner_.Make(ObjectMeta{std::move(group), "", "", ""});
    Entry& e =
        objects_->Put(IndexKey(ns, key).view(), *catalog_->Find(ns), *block, kPage,
                      Xxh3(block->data(), kPage), ttl_ms, /*keep_ttl=*/false, std::move(meta));
    if (durable) {
      FlushItem item;
      item.key = IndexKey(ns, key).str();
      item.seq = e.seq;
      item.segment_id = 1;
      item.record_offset = kSegmentHeaderBytes + e.seq * kPage;
      objects_->MarkDurable(item);
    }
    return &e;
  }
  Entry* Find(std::string_view key, uint32_t ns = kDefaultNamespaceId) {
    return objects_->FindVisible(IndexKey(ns, key).view());
  }

  MemDevice mem_;
  ManualEnv env_;
  Mutex mu_;
  MetaInterner interner_;
  EngineStats stats_;
  FlushQueue queue_;
  LeaseTable leases_{{}};
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<ObjectTable> objects_;
};

TEST_F(ObjectTableTest, VersionsKeepTheirCountersInStep) {
  Entry* a = Put("a", /*durable=*/false);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->dirty);
  EXPECT_EQ(stats_.puts, 1u);
  EXPECT_EQ(stats_.dirty_objects, 1u);
  EXPECT_EQ(stats_.dram_objects, 1u);
  EXPECT_EQ(catalog_->Find(kDefaultNamespaceId)->bytes, kPage);
  Entry* again = Put("a");  // replaced in place, durable
  EXPECT_EQ(again, a);
  EXPECT_EQ(stats_.dirty_objects, 0u);
  EXPECT_EQ(stats_.flash_objects, 1u);
  EXPECT_EQ(objects_->size(), 1u);
  objects_->Erase(*a);
  EXPECT_EQ(Find("a"), nullptr);
  EXPECT_EQ(stats_.dram_objects, 0u);
  EXPECT_EQ(stats_.flash_objects, 0u);
  EXPECT_EQ(catalog_->Find(kDefaultNamespaceId)->objects, 0u);
  EXPECT_EQ(arena_->used_bytes(), 0u);
}

TEST_F(ObjectTableTest, ExpiredObjectsAreInvisibleThenSwept) {
  ASSERT_NE(Put("t", /*durable=*/true, /*ttl_ms=*/1000), nullptr);
  ASSERT_NE(Put("dirty", /*durable=*/false, /*ttl_ms=*/1000), nullptr);
  EXPECT_NE(Find("t"), nullptr);
  env_.AdvanceMs(1000);
  EXPECT_EQ(Find("t"), nullptr);
  objects_->SweepExpired(env_.WallClockMs());
  EXPECT_EQ(objects_->Find(IndexKey(0, "t").view()), nullptr);
  EXPECT_NE(objects_->Find(IndexKey(0, "dirty").view()), nullptr) << "not written yet: later";
  EXPECT_EQ(stats_.expired_objects, 1u);
}

TEST_F(ObjectTableTest, DramEvictionTakesTheLeastRecentlyUsedCleanObject) {
  for (const char* key : {"k0", "k1", "k2", "k3"}) ASSERT_NE(Put(key), nullptr);
  objects_->Touch(*Find("k0"));  // k1 is now the least recently used
  ASSERT_NE(Put("k4"), nullptr);
  EXPECT_EQ(stats_.evictions_dram, 1u);
  Entry* k1 = Find("k1");
  ASSERT_NE(k1, nullptr) << "its flash copy stays readable";
  EXPECT_FALSE(k1->dram());
  EXPECT_TRUE(Find("k0")->dram());
}

TEST_F(ObjectTableTest, UnwrittenObjectsAreNeverEvicted) {
  for (const char* key : {"k0", "k1", "k2", "k3"}) ASSERT_NE(Put(key, /*durable=*/false), nullptr);
  EXPECT_EQ(Put("k4"), nullptr);
  EXPECT_EQ(stats_.evictions_dram, 0u);
}

TEST_F(ObjectTableTest, QuotaEvictionLeavesTombstones) {
  NamespaceConfig config;
  config.quota_bytes = 2 * kPage;
  uint32_t ns = 0;
  {
    MutexLock lock(&mu_);
    auto id = catalog_->CreateNamespace("q", config, &mu_);
    ASSERT_TRUE(id.ok());
    ns = *id;
  }
  ASSERT_NE(Put("a", true, 0, "", ns), nullptr);
  ASSERT_NE(Put("b", true, 0, "", ns), nullptr);
  EXPECT_TRUE(queue_.empty());
  ASSERT_TRUE(objects_->MakeRoom(*catalog_->Find(ns), kPage, nullptr).ok());
  EXPECT_EQ(Find("a", ns), nullptr) << "the least recently used goes first";
  EXPECT_NE(Find("b", ns), nullptr);
  EXPECT_FALSE(queue_.empty()) << "a tombstone, so that it stays gone after a restart";
  EXPECT_EQ(catalog_->Find(ns)->evictions, 1u);
  EXPECT_EQ(stats_.evictions_quota, 1u);
}

TEST_F(ObjectTableTest, GroupsListPinMembersAndDeleteGroup) {
  ASSERT_NE(Put("s-2", true, 0, "s"), nullptr);
  ASSERT_NE(Put("s-1", true, 0, "s"), nullptr);
  ASSERT_NE(Put("other"), nullptr);
  auto members = objects_->PinMembers(0, "s", /*group=*/true);
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->size(), 2u);
  EXPECT_EQ(objects_->PinMembers(0, "absent", false).status().code(), StatusCode::kNotFound);
  ListPage page = objects_->List(0, {.group = "s", .limit = 1});
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].key, "s-1");
  EXPECT_EQ(page.items[0].group, "s");
  EXPECT_EQ(page.next_cursor, "s-1");
  EXPECT_EQ(objects_->DeleteGroup(0, "s"), 2u);
  EXPECT_EQ(objects_->size(), 1u);
  EXPECT_EQ(stats_.deletes, 2u);
}

TEST_F(ObjectTableTest, EntriesOnASegmentAndTheirFlashCopy) {
  ASSERT_NE(Put("a"), nullptr);
  ASSERT_NE(Put("b"), nullptr);
  ASSERT_NE(Put("dirty", /*durable=*/false), nullptr);
  std::vector<Entry*> on = objects_->EntriesOnSegment(1);
  EXPECT_EQ(on.size(), 2u);
  EXPECT_EQ(stats_.flash_objects, 2u);
  objects_->ClearFlash(*on[0]);
  EXPECT_EQ(objects_->EntriesOnSegment(1).size(), 1u);
  EXPECT_EQ(stats_.flash_objects, 1u);
  objects_->MarkDirty(*on[1]);  // its flash copy is being replaced: not evictable meanwhile
  EXPECT_TRUE(on[1]->dirty);
  EXPECT_FALSE(on[1]->on_lru);
}

TEST_F(ObjectTableTest, ACheckpointTakesDurableObjectsOnly) {
  ASSERT_NE(Put("durable"), nullptr);
  ASSERT_NE(Put("dirty", /*durable=*/false), nullptr);
  Checkpoint cp;
  objects_->AddToCheckpoint(&cp);
  ASSERT_EQ(cp.entries.size(), 1u);
  EXPECT_EQ(cp.entries[0].key, IndexKey(0, "durable").str());
  EXPECT_EQ(cp.entries[0].segment_id, 1u);
}

}  // namespace
}  // namespace ctxstore::engine
