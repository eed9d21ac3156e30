// The segment set through its own interface on an in-memory (or
// fault-injecting) device: the flash budget and FIFO reclaim, pinned
// objects carried out of a reclaimed segment, and flash reads: verified and
// promoted, a corrupt value dropped, an I/O error condemning the segment.
#include "engine/flash/segment_set.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/units.h"
#include "engine/flash/segment_writer.h"
#include "testing/fault_device.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kPage = Arena::kPageSize;
constexpr uint64_t kSegmentBytes = 16 * 1024;  // a record of a page each

class SegmentSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    auto arena = Arena::Create(8 * kPage);
    ASSERT_TRUE(arena.ok());
    arena_ = std::move(*arena);
    catalog_ = std::make_unique<Catalog>(&mem_, "/data", "lru", nullptr);
    ASSERT_TRUE(catalog_->Load(env_.WallClockMs()).ok());
    objects_ = std::make_unique<ObjectTable>(arena_.get(), catalog_.get(), &leases_, &queue_, &env_,
                                             &stats_);
    segments_ = std::make_unique<SegmentSet>(
        &faults_,
        // Room for three segments of a record each, and a little more.
        SegmentSet::Options{
            .data_dir = "/data", .disk_bytes = 40 * 1024, .segment_bytes = kSegmentBytes},
        arena_.get(), objects_.get(), catalog_.get(), &queue_, &stats_);
    segments_->Install({}, 0, 1, /*store_id=*/9);
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  std::shared_ptr<Segment> Create() {
    MutexLock lock(&mu_);
    auto segment = segments_->Create(0, &mu_);
    EXPECT_TRUE(segment.ok()) << segment.status().ToString();
    return segment.ok() ? *segment : nullptr;
  }

  // key's one-page value, written as a record to segment and synced there;
  // in DRAM only when resident.
  Entry* Store(std::string_view key, Segment& segment, bool resident) {
    MutexLock lock(&mu_);
    auto block = objects_->Allocate(kPage, 0, &mu_);
    std::memset(block->data(), key.front(), kPage);
    Entry& e = objects_->Put(IndexKey(0, key).view(), *catalog_->Find(0), *block, kPage,
                             Xxh3(block->data(), kPage), 0, /*keep_ttl=*/false, nullptr);
    std::vector<FlushItem> items(1);
    FlushItem& item = items[0];
    item.key = IndexKey(0, key).str();
    item.seq = e.seq;
    item.value_len = kPage;
    item.value_xxh3 = e.value_xxh3;
    item.created_ms = e.created_ms;
    item.block = block;
    SegmentWriter writer(1 << 20);  // records fit: the test decides which segment
    const uint64_t end = segment.end_offset();
    EXPECT_TRUE(writer.Append(segment, items, nullptr).status.ok());
    segments_->Appended(segment.end_offset() - end);
    objects_->MarkDurable(item);
    if (!resident) objects_->SetDram(e, nullptr);
    return &e;
  }

  MemDevice mem_;
  FaultDevice faults_{&mem_, /*seed=*/1};
  ManualEnv env_;
  Mutex mu_;
  EngineStats stats_;
  FlushQueue queue_;
  LeaseTable leases_{{}};
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<ObjectTable> objects_;
  std::unique_ptr<SegmentSet> segments_;
};

TEST_F(SegmentSetTest, ANewSegmentReclaimsTheOldestWhenTheBudgetIsFull) {
  auto first = Create();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(Store("old", *first, /*resident=*/false), nullptr);
  Store("b", *Create(), /*resident=*/true);
  Store("c", *Create(), /*resident=*/true);
  EXPECT_EQ(segments_->count(), 3u);
  ASSERT_NE(Create(), nullptr);  // the budget holds three: the first goes
  EXPECT_EQ(segments_->count(), 3u);
  EXPECT_EQ(segments_->Find(1), nullptr);
  EXPECT_FALSE(mem_.FileExists(first->path()));
  EXPECT_EQ(stats_.reclaimed_segments, 1u);
  EXPECT_EQ(stats_.reclaimed_objects, 1u);
  EXPECT_EQ(objects_->Find(IndexKey(0, "old").view()), nullptr);
}

TEST_F(SegmentSetTest, PinnedObjectsAreCarriedOutBeforeTheirSegmentGoes) {
  auto first = Create();
  Store("pinned", *first, /*resident=*/false);
  {
    MutexLock lock(&mu_);
    ASSERT_TRUE(catalog_->AddPin(IndexKey(0, "pinned").str(), false, {}, &mu_).ok());
  }
  Store("b", *Create(), /*resident=*/true);
  Store("c", *Create(), /*resident=*/true);
  ASSERT_NE(Create(), nullptr);
  EXPECT_TRUE(mem_.FileExists(first->path())) << "retiring: kept until the copy is durable";
  std::vector<FlushItem> batch;
  {
    MutexLock lock(&mu_);
    batch = queue_.TakeBatch([](std::string_view) { return std::nullopt; });
  }
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_TRUE(batch[0].carry);
  EXPECT_EQ(Xxh3(batch[0].carried_value->data, kPage), batch[0].value_xxh3);
  EXPECT_EQ(batch[1].kind, FlushItem::Kind::kBarrier);
  batch[1].on_durable(Status::Ok());  // the carried copy is synced elsewhere
  EXPECT_FALSE(mem_.FileExists(first->path()));
}

TEST_F(SegmentSetTest, AFlashReadIsVerifiedAndPromotedIntoDram) {
  auto segment = Create();
  Entry* e = Store("k", *segment, /*resident=*/false);
  MutexLock lock(&mu_);
  auto value = segments_->Read(*e, &mu_);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->size, kPage);
  EXPECT_EQ(value->data[0], 'k');
  EXPECT_TRUE(e->dram());
  EXPECT_EQ(stats_.hits_flash, 1u);
}

TEST_F(SegmentSetTest, ACorruptValueIsDroppedAndNeverServed) {
  auto segment = Create();
  Entry* e = Store("k", *segment, /*resident=*/false);
  auto file = mem_.Open(segment->path(), {});
  ASSERT_TRUE(file.ok());
  uint8_t byte = 0;
  const uint64_t at = e->record_offset + kRecordHeaderSize + 200;  // inside the value
  ASSERT_TRUE((*file)->ReadAt(at, {&byte, 1}).ok());
  byte ^= 1;
  iovec v{&byte, 1};
  ASSERT_TRUE((*file)->WriteV(at, {&v, 1}).ok());
  MutexLock lock(&mu_);
  EXPECT_EQ(segments_->Read(*e, &mu_).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(objects_->Find(IndexKey(0, "k").view()), nullptr);
  EXPECT_EQ(stats_.corrupt_reads, 1u);
  EXPECT_FALSE(queue_.empty()) << "a tombstone keeps an older version from coming back";
}

TEST_F(SegmentSetTest, AnIoErrorOnReadCondemnsTheSegment) {
  auto segment = Create();
  Entry* e = Store("k", *segment, /*resident=*/false);
  Store("r", *segment, /*resident=*/true);
  faults_.InjectFault(FaultOp::kRead, FaultKind::kIoError, "seg-", /*count=*/2);
  MutexLock lock(&mu_);
  EXPECT_EQ(segments_->Read(*e, &mu_).status().code(), StatusCode::kIoError);
  EXPECT_EQ(stats_.flash_read_retries, 1u);
  EXPECT_TRUE(segments_->IsBad(segment->id()));
  EXPECT_EQ(stats_.bad_segments, 1u);
  EXPECT_EQ(objects_->Find(IndexKey(0, "k").view()), nullptr) << "only on the bad segment";
  Entry* r = objects_->Find(IndexKey(0, "r").view());
  ASSERT_NE(r, nullptr) << "in DRAM: written again";
  EXPECT_TRUE(r->dirty);
}

}  // namespace
}  // namespace ctxstore::engine
