// Record format 3: small records share 4 KiB blocks (64-byte aligned), a
// batch is zero-padded to a block, damage inside a shared block costs only
// the damaged record, and segments written with format 2 (a block per
// record) are still read.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../engine_test_util.h"
#include "common/hash.h"
#include "common/units.h"
#include "engine/engine.h"
#include "engine/flash/segment.h"
#include "testing/fault_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::GetNotFound;
using test_util::MakeValue;
using test_util::RawRecord;
using test_util::TempDir;

class RecordPackingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    spdlog::set_level(spdlog::level::warn);
  }

  EngineOptions Options() const {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 16 * kMiB;
    o.disk_bytes = 64 * kMiB;
    o.segment_bytes = 4 * kMiB;
    return o;
  }
  std::unique_ptr<Engine> Open() const { return test_util::OpenOrNull(Options()); }
  void RemoveCheckpoint() const {
    ASSERT_TRUE(std::filesystem::remove(dir_.data_dir() + "/CHECKPOINT"));
  }

  // n small objects written in one flush (so in few batches), then closed.
  // Flash writes wait while the objects are put: the flusher, otherwise
  // free to take each object as it comes, would write a batch (padded to a
  // block) per object whenever puts run slower than it (a loaded machine,
  // ThreadSanitizer). Held, it finds them queued together.
  std::map<std::string, std::vector<uint8_t>> PutSmall(int n) {
    std::map<std::string, std::vector<uint8_t>> data;
    std::unique_ptr<Device> posix = NewPosixDevice();
    FaultDevice device(posix.get(), /*seed=*/1);
    EngineOptions o = Options();
    o.device = &device;
    auto engine = test_util::OpenOrNull(o);
    EXPECT_NE(engine, nullptr);
    if (!engine) return data;
    device.HoldWrites();
    for (int i = 0; i < n; ++i) {
      std::string key = "small-" + std::to_string(i);
      auto v = MakeValue(key, 0, 1 + static_cast<size_t>(i * 37) % 300);
      EXPECT_TRUE(engine->Put(key, Bytes(v), {}).ok());
      data[key] = std::move(v);
    }
    device.ReleaseWrites();
    EXPECT_TRUE(engine->Flush().ok());
    return data;
  }

  TempDir dir_;
};

TEST_F(RecordPackingTest, SmallRecordsShareBlocksAndComeBackFromAFullScan) {
  auto data = PutSmall(500);
  std::vector<RawRecord> recs = test_util::ListAllRecords(dir_.data_dir());
  ASSERT_EQ(recs.size(), data.size());
  uint64_t unaligned = 0, bytes = 0;
  for (const RawRecord& r : recs) {
    EXPECT_EQ(r.header.version, kRecordFormatVersion);
    EXPECT_EQ(r.offset % kRecordAlignment, 0u);
    EXPECT_EQ(r.header.record_len % kRecordAlignment, 0u);
    EXPECT_LT(r.header.record_len, kBlockSize);
    unaligned += r.offset % kBlockSize != 0;
    bytes += r.header.record_len;
  }
  // Most records start inside a block; together they take far less than a
  // block each.
  EXPECT_GT(unaligned, data.size() / 2);
  EXPECT_LT(bytes, data.size() * kBlockSize / 8);
  uint64_t file_bytes = 0;
  for (const std::string& seg : test_util::SegmentFiles(dir_.data_dir()))
    file_bytes += std::filesystem::file_size(seg);
  EXPECT_LT(file_bytes, bytes + 64 * kBlockSize);

  RemoveCheckpoint();
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EngineStats s = engine->Stats();
  EXPECT_FALSE(s.recovered_from_checkpoint);
  EXPECT_EQ(s.recovered_objects, data.size());
  EXPECT_EQ(s.corrupt_records_skipped, 0u);
  EXPECT_EQ(s.torn_records_skipped, 0u);
  for (const auto& [key, value] : data) EXPECT_TRUE(GetEquals(*engine, key, value)) << key;
}

TEST_F(RecordPackingTest, DamageInsideASharedBlockCostsOnlyThatRecord) {
  auto data = PutSmall(200);
  std::vector<RawRecord> recs = test_util::ListAllRecords(dir_.data_dir());
  ASSERT_EQ(recs.size(), data.size());
  // A record that starts inside a block and is followed in the same block
  // by another record.
  size_t victim = recs.size();
  for (size_t i = 1; i + 1 < recs.size(); ++i) {
    const RawRecord& r = recs[i];
    if (r.offset % kBlockSize != 0 && recs[i + 1].segment_path == r.segment_path &&
        recs[i + 1].offset / kBlockSize == r.offset / kBlockSize) {
      victim = i;
      break;
    }
  }
  ASSERT_LT(victim, recs.size());
  const RawRecord& bad = recs[victim];
  const RawRecord& next = recs[victim + 1];
  ASSERT_TRUE(test_util::FlipByte(bad.segment_path, bad.offset + 64, 0x10));  // record_len
  RemoveCheckpoint();
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.corrupt_records_skipped, 1u);
  EXPECT_EQ(s.recovered_objects, data.size() - 1);
  EXPECT_TRUE(GetNotFound(*engine, bad.key));
  EXPECT_TRUE(GetEquals(*engine, next.key, data.at(next.key)));
  for (const auto& [key, value] : data) {
    if (key != bad.key) {
      EXPECT_TRUE(GetEquals(*engine, key, value)) << key;
    }
  }
}

TEST_F(RecordPackingTest, ValueDamageInsideASharedBlockIsCaughtOnRead) {
  auto data = PutSmall(100);
  std::vector<RawRecord> recs = test_util::ListAllRecords(dir_.data_dir());
  const RawRecord* bad = nullptr;
  for (const RawRecord& r : recs) {
    if (r.offset % kBlockSize != 0 && r.header.value_len > 10) {
      bad = &r;
      break;
    }
  }
  ASSERT_NE(bad, nullptr);
  ASSERT_TRUE(test_util::FlipByte(bad->segment_path, bad->offset + bad->header.value_offset + 3));
  auto engine = Open();  // from the checkpoint: the damage is found by the read
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Stats().recovered_from_checkpoint);
  auto got = test_util::Get(*engine, bad->key);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorrupt);
  for (const auto& [key, value] : data) {
    if (key != bad->key) {
      EXPECT_TRUE(GetEquals(*engine, key, value)) << key;
    }
  }
}

// A store written before format 3: every record takes whole blocks.
TEST_F(RecordPackingTest, Format2SegmentsAreStillRead) {
  { ASSERT_NE(Open(), nullptr); }  // creates the store (superblock)
  auto device = NewPosixDevice();
  auto sb = device->ReadFile(dir_.data_dir() + "/SUPERBLOCK");
  ASSERT_TRUE(sb.ok());
  auto parsed = ParseSuperblock(*sb);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(test_util::SegmentFiles(dir_.data_dir()).empty());
  auto seg = Segment::Create(device.get(), dir_.data_dir(), 1, parsed->store_id);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();

  std::map<std::string, std::vector<uint8_t>> data;
  for (int i = 0; i < 5; ++i) {
    std::string key = "old-" + std::to_string(i);
    auto v = MakeValue(key, 2, 10 + static_cast<size_t>(i) * 500);
    RecordHeader h = MakeRecordHeader(0, 100 + static_cast<uint64_t>(i), 1, 0, /*namespace_id=*/0,
                                      key, "", v.size(), Xxh3(v.data(), v.size()), /*version=*/2);
    ASSERT_EQ(h.record_len, kBlockSize);
    AlignedBuffer buf(h.record_len);
    EncodeRecordHead(h, key, "", {v.data(), v.size()}, {buf.data, h.record_len});
    iovec iov{buf.data, h.record_len};
    ASSERT_TRUE((*seg)->Append({&iov, 1}, h.record_len).ok());
    data[key] = std::move(v);
  }
  ASSERT_TRUE((*seg)->Sync().ok());
  seg->reset();
  if (std::filesystem::exists(dir_.data_dir() + "/CHECKPOINT")) RemoveCheckpoint();

  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().recovered_objects, data.size());
  EXPECT_EQ(engine->Stats().corrupt_records_skipped, 0u);
  for (const auto& [key, value] : data) EXPECT_TRUE(GetEquals(*engine, key, value)) << key;
  // New writes after them are format 3 and both kinds survive a full scan.
  auto fresh = MakeValue("new", 3, 77);
  ASSERT_TRUE(engine->Put("new", Bytes(fresh), {.sync = true}).ok());
  engine.reset();
  RemoveCheckpoint();
  engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().recovered_objects, data.size() + 1);
  for (const auto& [key, value] : data) EXPECT_TRUE(GetEquals(*engine, key, value)) << key;
  EXPECT_TRUE(GetEquals(*engine, "new", fresh));
}

// Header and attrs parsing (found by fuzz/record_fuzzer).
TEST(RecordFormatTest, ExtOfEmptyFieldsIsCorrupt) {
  ObjectMeta meta;
  EXPECT_EQ(EncodeRecordAttrs(&meta), "");  // writers leave an empty attrs out
  EXPECT_EQ(DecodeRecordAttrs(std::string(8, '\0'), &meta).code(), StatusCode::kCorrupt);
  ObjectMeta writer_only;
  writer_only.writer = "w";
  std::string attrs = EncodeRecordAttrs(&writer_only);
  ASSERT_TRUE(DecodeRecordAttrs(attrs, &meta).ok());
  EXPECT_EQ(meta.writer, "w");
  EXPECT_EQ(RecordAttrsLen(&meta), attrs.size());
}

TEST(RecordFormatTest, ValueLengthOver4GiBIsCorruptEvenWithAValidChecksum) {
  // UINT64_MAX wraps the layout arithmetic into a small packed record whose
  // value would run far past it.
  for (uint64_t value_len : {kMaxRecordValueBytes + 1, uint64_t{UINT64_MAX}}) {
    RecordHeader h = MakeRecordHeader(0, 1, 1, 0, 0, "k", "", value_len, 0);
    std::vector<uint8_t> bytes(kBlockSize, 0);
    std::memcpy(bytes.data(), &h, sizeof(h));
    bytes[kRecordHeaderSize] = 'k';
    RecordHeader parsed;
    std::string_view key, attrs;
    Status st = ParseRecordHeader(bytes, &parsed, &key, &attrs);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << value_len << ": " << st.ToString();
  }
}

}  // namespace
}  // namespace ctxstore::engine
