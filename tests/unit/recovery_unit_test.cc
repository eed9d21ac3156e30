// Recovery through its own interface on an in-memory device, the segments
// written by a SegmentWriter and the checkpoint by WriteCheckpoint: a new
// store, a full scan (tombstones, deleted namespaces, the newest version
// winning), a checkpoint plus the scan after it, and a folder that is not a
// store.
#include "engine/flash/recovery.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/units.h"
#include "engine/flash/segment_writer.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

FlushItem Record(uint32_t ns, std::string_view key, uint64_t seq, size_t len,
                 bool tombstone = false) {
  FlushItem item;
  item.kind = tombstone ? FlushItem::Kind::kTombstone : FlushItem::Kind::kPut;
  item.key = IndexKey(ns, key).str();
  item.seq = seq;
  item.value_len = tombstone ? 0 : len;
  if (!tombstone) {
    item.carry = true;
    item.carried_value = std::make_shared<AlignedBuffer>(len);
    std::memset(item.carried_value->data, 0, item.carried_value->size);
    std::memset(item.carried_value->data, static_cast<int>(seq), len);
  }
  item.value_xxh3 = tombstone ? Xxh3(nullptr, 0) : Xxh3(item.carried_value->data, len);
  return item;
}

class RecoveryUnitTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  // Opens the store in /data (creating it), returning its id.
  uint64_t OpenStore() {
    Recovery recovery(&mem_, "/data", &env_);
    EXPECT_TRUE(recovery.OpenStore().ok());
    return recovery.store_id();
  }
  std::shared_ptr<Segment> WriteSegment(uint64_t store_id, uint64_t id,
                                        std::vector<FlushItem> records) {
    auto seg = Segment::Create(&mem_, "/data", id, store_id);
    EXPECT_TRUE(seg.ok());
    SegmentWriter writer(4 * kMiB);
    SegmentWriter::Outcome out = writer.Append(**seg, records, nullptr);
    EXPECT_TRUE(out.status.ok() && out.consumed == records.size());
    written_.insert(written_.end(), records.begin(), records.end());
    return *seg;
  }
  Result<RecoveredState> Replay(const Recovery::NamespaceExists& exists = [](uint32_t) {
    return true;
  }) {
    Recovery recovery(&mem_, "/data", &env_);
    CTX_RETURN_IF_ERROR(recovery.OpenStore());
    return recovery.Replay(exists, &interner_);
  }
  const Entry* Find(const RecoveredState& state, uint32_t ns, std::string_view key) {
    auto it = state.index.find(IndexKey(ns, key).view());
    return it == state.index.end() ? nullptr : &it->second;
  }

  MemDevice mem_;
  ManualEnv env_;
  MetaInterner interner_;
  std::vector<FlushItem> written_;
};

TEST_F(RecoveryUnitTest, AnEmptyFolderBecomesANewStore) {
  const uint64_t id = OpenStore();
  EXPECT_TRUE(mem_.FileExists("/data/SUPERBLOCK"));
  auto state = Replay();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->index.size(), 0u);
  EXPECT_EQ(state->next_seq, 1u);
  EXPECT_EQ(state->next_segment_id, 1u);
  EXPECT_FALSE(state->from_checkpoint);
  EXPECT_TRUE(state->needs_checkpoint);
  EXPECT_EQ(OpenStore(), id) << "the superblock keeps the store's id";
}

TEST_F(RecoveryUnitTest, AFullScanKeepsTheNewestVersionOfLiveNamespaces) {
  const uint64_t store = OpenStore();
  std::vector<FlushItem> one;
  one.push_back(Record(0, "a", 1, 100));
  one.push_back(Record(1, "deleted-ns", 2, 100));
  one.push_back(Record(0, "b", 3, 100));
  WriteSegment(store, 1, std::move(one));
  std::vector<FlushItem> two;
  two.push_back(Record(0, "a", 4, 0, /*tombstone=*/true));
  two.push_back(Record(0, "b", 5, 200 * 1024));
  // An older version of a deleted key, written again later (a retry), must
  // not bring it back.
  two.push_back(Record(0, "a", 1, 100));
  WriteSegment(store, 2, std::move(two));

  auto state = Replay([](uint32_t ns) { return ns == 0; });
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->index.size(), 1u);
  EXPECT_EQ(Find(*state, 0, "a"), nullptr);
  EXPECT_EQ(Find(*state, 1, "deleted-ns"), nullptr);
  const Entry* b = Find(*state, 0, "b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->seq, 5u);
  EXPECT_EQ(b->segment_id, 2u);
  EXPECT_EQ(b->value_len(), 200u * 1024);
  EXPECT_EQ(b->record_offset, written_[4].record_offset);
  EXPECT_EQ(state->next_seq, 6u);
  EXPECT_EQ(state->next_segment_id, 3u);
  EXPECT_EQ(state->segments.size(), 2u);
  EXPECT_GT(state->flash_bytes, 2 * kSegmentHeaderBytes);
  EXPECT_FALSE(state->from_checkpoint);
}

TEST_F(RecoveryUnitTest, ACheckpointCoversWhatCameBeforeItsReplayPosition) {
  const uint64_t store = OpenStore();
  std::vector<FlushItem> before;
  before.push_back(Record(0, "a", 1, 100));
  auto segment = WriteSegment(store, 1, std::move(before));
  Checkpoint cp;
  cp.store_id = store;
  cp.next_seq = 2;
  cp.replay_segment_id = 1;
  cp.replay_offset = segment->end_offset();
  const FlushItem& a = written_[0];
  cp.entries.push_back({a.key, "", a.seq, 1, a.record_offset, a.value_len, a.value_xxh3, 0, 0, 0});
  ASSERT_TRUE(WriteCheckpoint(&mem_, "/data/CHECKPOINT", cp).ok());
  // After the checkpoint: one more record in the same segment.
  SegmentWriter writer(4 * kMiB);
  std::vector<FlushItem> after;
  after.push_back(Record(0, "b", 2, 100));
  ASSERT_TRUE(writer.Append(*segment, after, nullptr).status.ok());

  auto state = Replay();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->from_checkpoint);
  EXPECT_TRUE(state->needs_checkpoint) << "b was found by the scan";
  EXPECT_NE(Find(*state, 0, "a"), nullptr);
  EXPECT_NE(Find(*state, 0, "b"), nullptr);
  EXPECT_EQ(state->next_seq, 3u);
}

TEST_F(RecoveryUnitTest, SegmentsWithoutASuperblockAreNotAStore) {
  auto seg = Segment::Create(&mem_, "/data", 1, 99);
  ASSERT_TRUE(seg.ok());
  Recovery recovery(&mem_, "/data", &env_);
  EXPECT_EQ(recovery.OpenStore().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace ctxstore::engine
