// SegmentWriter on an in-memory device, without a thread: how a batch is
// laid out (packed records sharing blocks, large ones on block boundaries),
// where it stops (a full segment, the caller's stop), what a failed write
// leaves, sealed records, and the checks before a write.
#include "engine/flash/segment_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/units.h"
#include "engine/flash/segment.h"
#include "engine/security/encryption.h"
#include "testing/fault_device.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kStoreId = 42;

// A put whose value is its own buffer (as a carried copy has), so that no
// arena is needed.
FlushItem Put(std::string_view key, uint64_t seq, size_t len, uint8_t fill = 'v') {
  FlushItem item;
  item.kind = FlushItem::Kind::kPut;
  item.key = IndexKey(0, key).str();
  item.seq = seq;
  item.value_len = len;
  item.carry = true;
  item.carried_value = std::make_shared<AlignedBuffer>(len);
  std::memset(item.carried_value->data, 0, item.carried_value->size);
  std::memset(item.carried_value->data, fill, len);
  item.value_xxh3 = Xxh3(item.carried_value->data, len);
  item.created_ms = 1000 + seq;
  return item;
}

std::string Key(uint64_t i) {
  std::string key = "k";
  key += std::to_string(i);
  return key;
}

FlushItem Tombstone(std::string_view key, uint64_t seq) {
  FlushItem item;
  item.kind = FlushItem::Kind::kTombstone;
  item.key = IndexKey(0, key).str();
  item.seq = seq;
  item.value_xxh3 = Xxh3(nullptr, 0);
  return item;
}

class SegmentWriterTest : public ::testing::Test {
 protected:
  std::shared_ptr<Segment> NewSegment(Device* device, uint64_t id = 1) {
    auto seg = Segment::Create(device, "/data", id, kStoreId);
    EXPECT_TRUE(seg.ok()) << seg.status().ToString();
    return seg.ok() ? *seg : nullptr;
  }

  // Every valid record of the segment, in order.
  std::vector<SegmentScanner::Item> Scan(Segment& segment) {
    auto size = segment.file()->Size();
    EXPECT_TRUE(size.ok());
    SegmentScanner scanner(&segment, kSegmentHeaderBytes, *size);
    std::vector<SegmentScanner::Item> items;
    SegmentScanner::Item item;
    while (true) {
      auto more = scanner.Next(&item);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      items.push_back(item);
    }
    EXPECT_EQ(scanner.corrupt_skipped(), 0u);
    return items;
  }

  MemDevice mem_;
};

TEST_F(SegmentWriterTest, LaysOutPackedAndLargeRecordsThatScanBack) {
  auto segment = NewSegment(&mem_);
  SegmentWriter writer(4 * kMiB);
  std::vector<FlushItem> batch;
  batch.push_back(Put("a", 1, 10));
  batch.push_back(Put("b", 2, 100));
  FlushItem barrier;
  barrier.kind = FlushItem::Kind::kBarrier;
  batch.push_back(std::move(barrier));
  batch.push_back(Tombstone("a", 3));
  batch.push_back(Put("large", 4, 200 * 1024));
  batch.push_back(Put("c", 5, 0));

  SegmentWriter::Outcome out = writer.Append(*segment, batch, nullptr);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.consumed, batch.size());
  // Packed records share the first block, 64-byte aligned.
  EXPECT_EQ(batch[0].record_offset, kSegmentHeaderBytes);
  EXPECT_EQ(batch[1].record_offset % kRecordAlignment, 0u);
  EXPECT_LT(batch[1].record_offset, kSegmentHeaderBytes + kBlockSize);
  EXPECT_EQ(batch[4].record_offset % kBlockSize, 0u);  // a large record starts on a block
  EXPECT_EQ(segment->end_offset() % kBlockSize, 0u);
  for (const FlushItem& item : batch) {
    if (item.kind == FlushItem::Kind::kBarrier) continue;
    EXPECT_TRUE(item.appended);
    EXPECT_EQ(item.segment_id, 1u);
  }

  std::vector<SegmentScanner::Item> records = Scan(*segment);
  ASSERT_EQ(records.size(), 5u);
  const size_t in_batch[] = {0, 1, 3, 4, 5};
  for (size_t i = 0; i < records.size(); ++i) {
    const FlushItem& item = batch[in_batch[i]];
    EXPECT_EQ(records[i].header.seq, item.seq);
    EXPECT_EQ(records[i].offset, item.record_offset);
    EXPECT_EQ(records[i].key, IndexKeyUserKey(item.key));
    EXPECT_EQ(records[i].header.value_xxh3, item.value_xxh3);
  }
  EXPECT_TRUE(records[2].header.flags & kRecordFlagTombstone);

  // The large value reads back straight into an aligned buffer.
  AlignedBuffer value(200 * 1024);
  ASSERT_TRUE(segment->ReadValue(batch[4].record_offset, records[3].header, value.data).ok());
  EXPECT_EQ(Xxh3(value.data, 200 * 1024), batch[4].value_xxh3);
}

TEST_F(SegmentWriterTest, StopsWhereTheSegmentIsFull) {
  auto segment = NewSegment(&mem_);
  SegmentWriter writer(64 * 1024);
  std::vector<FlushItem> batch;
  for (uint64_t i = 0; i < 4; ++i) batch.push_back(Put(Key(i), i + 1, 20'000));

  SegmentWriter::Outcome out = writer.Append(*segment, batch, nullptr);
  ASSERT_TRUE(out.status.ok());
  ASSERT_GT(out.consumed, 0u);
  ASSERT_LT(out.consumed, batch.size());
  EXPECT_FALSE(writer.Fits(*segment, batch[out.consumed]));
  EXPECT_FALSE(batch[out.consumed].appended);
  EXPECT_LE(segment->end_offset(), 64u * 1024);

  // A segment without records takes any record, even one larger than it.
  auto empty = NewSegment(&mem_, 2);
  std::vector<FlushItem> big;
  big.push_back(Put("big", 9, 100 * 1024));
  EXPECT_TRUE(writer.Fits(*empty, big[0]));
  out = writer.Append(*empty, big, nullptr);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.consumed, 1u);
}

TEST_F(SegmentWriterTest, StopsBeforeARecordWhenTold) {
  auto segment = NewSegment(&mem_);
  SegmentWriter writer(4 * kMiB);
  std::vector<FlushItem> batch;
  for (uint64_t i = 0; i < 3; ++i) batch.push_back(Put(Key(i), i + 1, 10));
  int asked = 0;
  SegmentWriter::Outcome out = writer.Append(*segment, batch, [&] { return ++asked > 1; });
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.consumed, 1u);
  EXPECT_EQ(Scan(*segment).size(), 1u);
}

TEST_F(SegmentWriterTest, AFailedWriteLeavesItsRecordsUnappended) {
  FaultDevice faults(&mem_, /*seed=*/1);
  auto segment = NewSegment(&faults);
  SegmentWriter writer(4 * kMiB);
  std::vector<FlushItem> batch;
  batch.push_back(Put("a", 1, 10));
  batch.push_back(Put("b", 2, 64 * 1024));
  faults.InjectFault(FaultOp::kWrite, FaultKind::kIoError, "seg-");
  SegmentWriter::Outcome out = writer.Append(*segment, batch, nullptr);
  EXPECT_FALSE(out.status.ok());
  EXPECT_TRUE(out.write_failed);
  EXPECT_FALSE(batch[0].appended);
  EXPECT_FALSE(batch[1].appended);
  EXPECT_EQ(segment->end_offset(), kSegmentHeaderBytes);
}

TEST_F(SegmentWriterTest, SealsRecordsOfAKeyedNamespace) {
  auto key = std::make_shared<EncryptionKey>();
  key->name = "k";
  for (size_t i = 0; i < key->bytes.size(); ++i) key->bytes[i] = static_cast<uint8_t>(i);
  key->id = EncryptionKeyId(key->bytes);
  Keyring ring;
  ASSERT_TRUE(ring.Add(key).ok());

  auto segment = NewSegment(&mem_);
  SegmentWriter writer(4 * kMiB);
  std::vector<FlushItem> batch;
  batch.push_back(Put("small", 1, 300, 's'));
  batch.push_back(Put("large", 2, 256 * 1024, 'l'));
  for (FlushItem& item : batch) item.seal_key = key;
  SegmentWriter::Outcome out = writer.Append(*segment, batch, nullptr);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  std::vector<SegmentScanner::Item> records = Scan(*segment);  // verifies without the key
  ASSERT_EQ(records.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const FlushItem& item = batch[i];
    EXPECT_TRUE(records[i].header.flags & kRecordFlagSealed);
    AlignedBuffer value(item.value_len);
    const std::string aad = RecordAad(0, item.seq, IndexKeyUserKey(item.key), item.attrs);
    ASSERT_TRUE(
        segment->ReadValue(item.record_offset, records[i].header, value.data, &ring, aad).ok());
    EXPECT_EQ(Xxh3(value.data, item.value_len), item.value_xxh3);
  }
}

// The checks before a write: a value that no longer matches the checksum
// committed with it (memory corrupted after the commit) stops the process
// before it reaches flash.
TEST_F(SegmentWriterTest, ValueThatChangedAfterItsCommitIsNeverWritten) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto segment = NewSegment(&mem_);
  SegmentWriter writer(4 * kMiB);
  for (size_t len : {size_t{100}, size_t{128 * 1024}}) {
    std::vector<FlushItem> batch;
    batch.push_back(Put("k", 1, len));
    batch[0].carried_value->data[len / 2] ^= 1;
    EXPECT_DEATH(writer.Append(*segment, batch, nullptr), "Xxh3");
  }
  EXPECT_EQ(segment->end_offset(), kSegmentHeaderBytes);
}

}  // namespace
}  // namespace ctxstore::engine

namespace ctxstore::engine {
namespace {

// What the checks before a write cost next to the write itself, on a real
// file with O_DIRECT and fdatasync (the flusher's data path): run with
//   build/tests/unit_tests --gtest_also_run_disabled_tests
//       --gtest_filter='*CostOfTheChecksBeforeAWrite*'
// (CTXSTORE_CHECK_COST_DIR picks the disk; default /tmp). Best of 5 runs
// each, so that a noisy machine shows the cost rather than the noise.
TEST(SegmentWriterCost, DISABLED_CostOfTheChecksBeforeAWrite) {
  const char* dir_env = std::getenv("CTXSTORE_CHECK_COST_DIR");
  const std::string dir = std::string(dir_env ? dir_env : "/tmp") + "/ctxstore-check-cost";
  std::unique_ptr<Device> posix = NewPosixDevice();
  ASSERT_TRUE(posix->CreateDir(dir).ok());
  auto seconds = [](auto since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  };
  struct Case {
    size_t len;
    int count;
  };
  for (Case c : {Case{4 << 10, 1024}, Case{64 << 10, 256}, Case{4 << 20, 16}}) {
    std::vector<FlushItem> batch;
    for (int i = 0; i < c.count; ++i) batch.push_back(Put(Key(i), i + 1, c.len, 'a' + i % 26));
    double best_write = 1e9, best_hash = 1e9, best_header = 1e9;
    for (int run = 0; run < 5; ++run) {
      auto segment = Segment::Create(posix.get(), dir, run + 1, 1);
      ASSERT_TRUE(segment.ok());
      for (FlushItem& item : batch) item.appended = false;
      SegmentWriter writer(1ull << 30);
      auto start = std::chrono::steady_clock::now();
      ASSERT_TRUE(writer.Append(**segment, batch, nullptr).status.ok());
      ASSERT_TRUE((*segment)->Sync().ok());
      best_write = std::min(best_write, seconds(start));
      // The checks alone: the values' XXH3, and the headers parsed back.
      start = std::chrono::steady_clock::now();
      uint64_t sum = 0;
      for (const FlushItem& item : batch) sum += Xxh3(item.value_data(), item.value_len);
      best_hash = std::min(best_hash, seconds(start));
      EXPECT_NE(sum, 0u);
      // Records as staged (an empty value: the header check does not read it).
      std::vector<std::vector<uint8_t>> heads;
      for (const FlushItem& item : batch) {
        std::string_view key = IndexKeyUserKey(item.key);
        RecordHeader h = MakeRecordHeader(0, item.seq, 0, 0, 0, key, "", 0, item.value_xxh3);
        heads.emplace_back(ComputeLayout(RecordHeadBytes(key.size(), 0, 0), 0).head_len());
        EncodeRecordHead(h, key, "", {}, heads.back());
      }
      start = std::chrono::steady_clock::now();
      for (const auto& head : heads) {
        RecordHeader parsed{};
        std::string_view k, e;
        EXPECT_TRUE(ParseRecordHeader(head, &parsed, &k, &e).ok());
      }
      best_header = std::min(best_header, seconds(start));
      ASSERT_TRUE(posix->Remove((*segment)->path()).ok());
    }
    const double mib = static_cast<double>(c.len) * c.count / (1 << 20);
    std::printf(
        "%8zu-byte values x%4d (%.0f MiB): write+sync %.2f ms (%.0f MiB/s); value XXH3 %.3f ms "
        "(%.1f%%); headers parsed back %.3f ms (%.2f%%)\n",
        c.len, c.count, mib, best_write * 1e3, mib / best_write, best_hash * 1e3,
        100 * best_hash / best_write, best_header * 1e3, 100 * best_header / best_write);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ctxstore::engine
