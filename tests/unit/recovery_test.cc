// Restart of the engine over an existing data folder: from the checkpoint,
// by full scan when the checkpoint is missing or damaged, with deletes and
// overwrites, and over damaged segment files (bytes flipped in a closed
// store with plain pwrite).
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../engine_test_util.h"
#include "common/hash.h"
#include "common/units.h"
#include "engine/engine.h"
#include "engine/flash/checkpoint.h"
#include "testing/fault_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::GetNotFound;
using test_util::MakeValue;
using test_util::RawRecord;
using test_util::TempDir;

using Dataset = std::map<std::string, std::vector<uint8_t>>;

class RecoveryTest : public ::testing::Test {
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
    o.segment_bytes = 2 * kMiB;
    o.max_value_bytes = 8 * kMiB;
    return o;
  }

  std::unique_ptr<Engine> Open() const { return OpenWith(Options()); }
  static std::unique_ptr<Engine> OpenWith(const EngineOptions& o) {
    return test_util::OpenOrNull(o);
  }

  std::string CheckpointPath() const { return dir_.data_dir() + "/CHECKPOINT"; }
  void RemoveCheckpoint() const {
    ASSERT_TRUE(std::filesystem::remove(CheckpointPath())) << "no checkpoint to remove";
  }

  // Objects of assorted sizes: empty, packed, just over the packed limit,
  // several MiB (spanning segments), some sync, some not.
  static Dataset PutDataset(Engine& engine, int n = 40) {
    const size_t sizes[] = {0, 1, 2500 * 1024, 100, 200 * 1024, 3000, 4016, 20000, 65536, 65537};
    Dataset data;
    for (int i = 0; i < n; ++i) {
      std::string key = "obj-" + std::to_string(i);
      auto v = MakeValue(key, 0, sizes[i % std::size(sizes)] + static_cast<size_t>(i));
      EXPECT_TRUE(engine.Put(key, Bytes(v), {.sync = (i % 3 == 0)}).ok()) << key;
      data[key] = std::move(v);
    }
    return data;
  }

  static void ExpectAll(Engine& engine, const Dataset& data) {
    for (const auto& [key, value] : data) EXPECT_TRUE(GetEquals(engine, key, value));
    EXPECT_EQ(engine.Stats().objects, data.size());
  }

  TempDir dir_;
};

TEST_F(RecoveryTest, CleanCloseRecoversEverythingFromTheCheckpoint) {
  Dataset data;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine);
    ASSERT_TRUE(engine->Close().ok());
  }
  ASSERT_TRUE(std::filesystem::exists(CheckpointPath()));
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EngineStats s = engine->Stats();
  EXPECT_TRUE(s.recovered_from_checkpoint);
  EXPECT_EQ(s.recovered_objects, data.size());
  EXPECT_EQ(s.flash_objects, data.size());
  EXPECT_EQ(s.dram_objects, 0u);
  EXPECT_EQ(s.corrupt_records_skipped + s.torn_records_skipped, 0u);
  EXPECT_EQ(s.flash_bytes, test_util::TotalSegmentBytes(dir_.data_dir()));
  ExpectAll(*engine, data);
  EXPECT_EQ(engine->Stats().hits_flash, data.size());
}

TEST_F(RecoveryTest, FullScanWithoutCheckpointRecoversEverything) {
  Dataset data;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine);
    ASSERT_TRUE(engine->Close().ok());
  }
  RemoveCheckpoint();
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EngineStats s = engine->Stats();
  EXPECT_FALSE(s.recovered_from_checkpoint);
  EXPECT_EQ(s.recovered_objects, data.size());
  EXPECT_EQ(s.corrupt_records_skipped + s.torn_records_skipped, 0u);
  ExpectAll(*engine, data);
}

TEST_F(RecoveryTest, DamagedCheckpointFallsBackToFullScan) {
  Dataset data;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine);
    ASSERT_TRUE(engine->Close().ok());
  }
  const std::string original = test_util::ReadWholeFile(CheckpointPath());
  ASSERT_GT(original.size(), 100u);
  // A flipped byte in the header, in an entry, in the trailing checksum; a
  // truncated file; an empty one.
  const std::vector<uint64_t> flips = {9, original.size() / 2, original.size() - 1};
  for (size_t variant = 0; variant < flips.size() + 2; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    {
      std::string damaged = original;
      if (variant < flips.size()) {
        damaged[flips[variant]] ^= 0x40;
      } else if (variant == flips.size()) {
        damaged.resize(original.size() - 9);
      } else {
        damaged.clear();
      }
      ASSERT_TRUE(test_util::ReplaceWholeFile(CheckpointPath(), damaged));
    }
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    EXPECT_FALSE(engine->Stats().recovered_from_checkpoint);
    ExpectAll(*engine, data);
    engine.reset();
  }
}

// A checkpoint whose checksum matches but whose entries do not parse (a
// writer bug) is found out only after entries were installed: recovery
// drops them all and scans, as for a damaged file.
TEST_F(RecoveryTest, CheckpointThatVerifiesButDoesNotParseFallsBackToFullScan) {
  Dataset data;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine);
    ASSERT_TRUE(engine->Delete(kDefaultNamespaceId, "obj-1", /*sync=*/true).ok());
    data.erase("obj-1");
    ASSERT_TRUE(engine->Close().ok());
  }
  std::string bytes = test_util::ReadWholeFile(CheckpointPath());
  ASSERT_GT(bytes.size(), sizeof(CheckpointHeader) + 8);
  uint64_t count = 0;
  std::memcpy(&count, bytes.data() + offsetof(CheckpointHeader, entry_count), 8);
  ASSERT_EQ(count, data.size());
  ++count;  // one entry more than the file holds
  std::memcpy(bytes.data() + offsetof(CheckpointHeader, entry_count), &count, 8);
  const uint64_t sum = Xxh3(bytes.data(), bytes.size() - 8);
  std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  ASSERT_TRUE(test_util::ReplaceWholeFile(CheckpointPath(), bytes));

  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_FALSE(engine->Stats().recovered_from_checkpoint);
  EXPECT_EQ(engine->Stats().recovered_objects, data.size());
  ExpectAll(*engine, data);
  EXPECT_TRUE(GetNotFound(*engine, "obj-1"));
}

// Whether recovery uses the checkpoint or scans everything.
class RecoveryPathTest : public RecoveryTest, public ::testing::WithParamInterface<bool> {
 protected:
  bool use_checkpoint() const { return GetParam(); }
  std::unique_ptr<Engine> Reopen() {
    if (!use_checkpoint()) RemoveCheckpoint();
    auto engine = Open();
    if (engine) {
      EXPECT_EQ(engine->Stats().recovered_from_checkpoint, use_checkpoint());
    }
    return engine;
  }
};

TEST_P(RecoveryPathTest, DeletedKeysNeverComeBack) {
  Dataset data;
  std::vector<std::string> deleted;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine);
    ASSERT_TRUE(engine->Flush().ok());
    int i = 0;
    for (auto it = data.begin(); it != data.end(); ++i) {
      if (i % 3 == 0) {
        ASSERT_TRUE(test_util::Delete(*engine, it->first, /*sync=*/i % 2 == 0).ok());
        deleted.push_back(it->first);
        it = data.erase(it);
      } else {
        ++it;
      }
    }
    // Deleted before it ever reached flash, too.
    auto v = MakeValue("short-lived", 0, 5000);
    ASSERT_TRUE(engine->Put("short-lived", Bytes(v), {}).ok());
    ASSERT_TRUE(test_util::Delete(*engine, "short-lived", false).ok());
    deleted.push_back("short-lived");
    ASSERT_TRUE(engine->Close().ok());
  }
  for (int generation = 0; generation < 2; ++generation) {
    SCOPED_TRACE("generation " + std::to_string(generation));
    auto engine = Reopen();
    ASSERT_NE(engine, nullptr);
    for (const std::string& key : deleted) EXPECT_TRUE(GetNotFound(*engine, key));
    ExpectAll(*engine, data);
    ASSERT_TRUE(engine->Close().ok());
  }
}

TEST_P(RecoveryPathTest, OverwrittenKeysComeBackWithTheNewestValue) {
  Dataset data;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine, 20);
    ASSERT_TRUE(engine->Flush().ok());
    // Overwrite each key 1 to 3 times, growing and shrinking across the
    // packed limit; one goes through delete and put again.
    int i = 0;
    for (auto& [key, value] : data) {
      for (int version = 1; version <= 1 + i % 3; ++version) {
        size_t len = (static_cast<size_t>(i) * 7919 + version * 50000) % (300 * 1024);
        value = MakeValue(key, version, len);
        ASSERT_TRUE(engine->Put(key, Bytes(value), {.sync = version == 2, .overwrite = true}).ok());
      }
      if (i % 5 == 4) {
        ASSERT_TRUE(test_util::Delete(*engine, key, false).ok());
        value = MakeValue(key, 99, 777);
        ASSERT_TRUE(engine->Put(key, Bytes(value), {}).ok());
      }
      ++i;
    }
    ASSERT_TRUE(engine->Close().ok());
  }
  auto engine = Reopen();
  ASSERT_NE(engine, nullptr);
  ExpectAll(*engine, data);
}

// The sequence numbers carry on after a restart: a write made after a
// restart must beat the records written before it when the log is replayed.
TEST_P(RecoveryPathTest, WritesAfterARestartBeatOlderRecords) {
  Dataset data;
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    for (const char* key : {"a", "b", "c"}) {
      data[key] = MakeValue(key, 1, 3000);
      ASSERT_TRUE(engine->Put(key, Bytes(data[key]), {}).ok());
    }
    ASSERT_TRUE(engine->Close().ok());
  }
  for (int generation = 2; generation <= 4; ++generation) {
    SCOPED_TRACE("generation " + std::to_string(generation));
    auto engine = Reopen();
    ASSERT_NE(engine, nullptr);
    ExpectAll(*engine, data);
    data["a"] = MakeValue("a", generation, 1000 * generation);
    ASSERT_TRUE(engine->Put("a", Bytes(data["a"]), {.overwrite = true}).ok());
    if (generation % 2 == 0) {
      ASSERT_TRUE(test_util::Delete(*engine, "b", false).ok());
      data.erase("b");
    } else {
      data["b"] = MakeValue("b", generation, 100 * 1024);
      ASSERT_TRUE(engine->Put("b", Bytes(data["b"]), {}).ok());
    }
    ASSERT_TRUE(engine->Close().ok());
  }
  auto engine = Reopen();
  ASSERT_NE(engine, nullptr);
  ExpectAll(*engine, data);
  EXPECT_TRUE(GetNotFound(*engine, "b"));
}

INSTANTIATE_TEST_SUITE_P(Paths, RecoveryPathTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Checkpoint" : "FullScan";
                         });

// After a checkpoint, synced changes are replayed from the log on top of it.
TEST_F(RecoveryTest, CheckpointPlusReplayAfterACrash) {
  std::unique_ptr<Device> posix = NewPosixDevice();
  Dataset data;
  {
    FaultDevice fault(posix.get(), 7);
    EngineOptions o = Options();
    o.device = &fault;
    o.sync_interval_ms = 3'600'000;
    auto engine = OpenWith(o);
    ASSERT_NE(engine, nullptr);
    data = PutDataset(*engine, 20);
    ASSERT_TRUE(engine->WriteCheckpointNow().ok());
    auto it = data.begin();
    const std::string overwritten = (it++)->first;
    const std::string deleted = (it++)->first;
    data[overwritten] = MakeValue(overwritten, 1, 90000);
    ASSERT_TRUE(
        engine->Put(overwritten, Bytes(data[overwritten]), {.sync = true, .overwrite = true}).ok());
    ASSERT_TRUE(test_util::Delete(*engine, deleted, true).ok());
    data.erase(deleted);
    data["new-sync"] = MakeValue("new-sync", 0, 1500 * 1024);
    ASSERT_TRUE(engine->Put("new-sync", Bytes(data["new-sync"]), {.sync = true}).ok());
    data["new-flushed"] = MakeValue("new-flushed", 0, 10);
    ASSERT_TRUE(engine->Put("new-flushed", Bytes(data["new-flushed"]), {}).ok());
    ASSERT_TRUE(engine->Flush().ok());
    fault.Crash(/*keep_torn_prefix=*/false);
    engine.reset();
  }
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->Stats().recovered_from_checkpoint);
  ExpectAll(*engine, data);
}

// Segment damage. The store is closed when bytes are flipped.
class CorruptionTest : public RecoveryTest {
 protected:
  void SetUp() override {
    RecoveryTest::SetUp();
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    data_ = PutDataset(*engine);
    ASSERT_TRUE(engine->Close().ok());
  }

  RawRecord Record(const std::string& key) const {
    RawRecord r;
    EXPECT_TRUE(test_util::FindRecord(dir_.data_dir(), key, &r)) << key;
    return r;
  }
  // A key whose record is packed (or not), not the last in its segment, and
  // not next to the record of `away_from`.
  std::string PickKey(bool packed, size_t min_value_len, const std::string& away_from = {}) const {
    for (const std::string& seg : test_util::SegmentFiles(dir_.data_dir())) {
      std::vector<RawRecord> recs = test_util::ListRecords(seg);
      for (size_t i = 0; i + 1 < recs.size(); ++i) {
        const RecordHeader& h = recs[i].header;
        bool is_packed = h.value_offset == kRecordHeaderSize + h.key_len;
        bool near = recs[i].key == away_from || recs[i + 1].key == away_from ||
                    (i > 0 && recs[i - 1].key == away_from);
        if (is_packed == packed && h.value_len >= min_value_len && data_.count(recs[i].key) &&
            !near) {
          return recs[i].key;
        }
      }
    }
    ADD_FAILURE() << "no suitable record";
    return {};
  }
  // Everything but `damaged` is intact.
  void ExpectOthers(Engine& engine, const std::vector<std::string>& damaged) {
    for (const auto& [key, value] : data_) {
      if (std::find(damaged.begin(), damaged.end(), key) == damaged.end()) {
        EXPECT_TRUE(GetEquals(engine, key, value));
      }
    }
  }
  // The damaged object is never served: kCorrupt or kNotFound, never bytes.
  static void ExpectNotServed(Engine& engine, const std::string& key, StatusCode want) {
    auto got = test_util::Get(engine, key);
    ASSERT_FALSE(got.ok()) << key << " served after corruption";
    EXPECT_EQ(got.status().code(), want) << got.status().ToString();
  }

  Dataset data_;
};

TEST_F(CorruptionTest, FlippedValueByteWithCheckpointFailsTheRead) {
  const std::string big = PickKey(/*packed=*/false, 100 * 1024);
  const std::string small = PickKey(/*packed=*/true, 100);
  RawRecord rb = Record(big), rs = Record(small);
  ASSERT_TRUE(test_util::FlipByte(rb.segment_path, rb.offset + rb.header.value_offset + 12345));
  ASSERT_TRUE(test_util::FlipByte(rs.segment_path, rs.offset + rs.header.value_offset + 50, 0x01));
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Stats().recovered_from_checkpoint);
  ExpectNotServed(*engine, big, StatusCode::kCorrupt);
  ExpectNotServed(*engine, small, StatusCode::kCorrupt);
  EXPECT_EQ(engine->Stats().corrupt_reads, 2u);
  // Dropped from the index after the failed read.
  ExpectNotServed(*engine, big, StatusCode::kNotFound);
  ExpectOthers(*engine, {big, small});
}

TEST_F(CorruptionTest, FlippedValueByteIsSkippedByTheScan) {
  const std::string big = PickKey(/*packed=*/false, 100 * 1024);
  const std::string small = PickKey(/*packed=*/true, 100, /*away_from=*/big);
  RawRecord rb = Record(big), rs = Record(small);
  ASSERT_TRUE(test_util::FlipByte(rb.segment_path, rb.offset + rb.header.value_offset + 1));
  ASSERT_TRUE(test_util::FlipByte(rs.segment_path, rs.offset + rs.header.value_offset + 99));
  RemoveCheckpoint();
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EngineStats s = engine->Stats();
  EXPECT_FALSE(s.recovered_from_checkpoint);
  EXPECT_EQ(s.corrupt_records_skipped, 2u);
  EXPECT_EQ(s.recovered_objects, data_.size() - 2);
  ExpectNotServed(*engine, big, StatusCode::kNotFound);
  ExpectNotServed(*engine, small, StatusCode::kNotFound);
  ExpectOthers(*engine, {big, small});
}

TEST_F(CorruptionTest, FlippedHeaderByteIsSkippedByTheScan) {
  const std::string big = PickKey(/*packed=*/false, 150 * 1024);
  const std::string small = PickKey(/*packed=*/true, 1000, /*away_from=*/big);
  RawRecord rb = Record(big), rs = Record(small);
  ASSERT_TRUE(test_util::FlipByte(rb.segment_path, rb.offset + 8));         // seq
  ASSERT_TRUE(test_util::FlipByte(rs.segment_path, rs.offset + 32, 0x80));  // value_len
  RemoveCheckpoint();
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.corrupt_records_skipped, 2u);
  EXPECT_EQ(s.recovered_objects, data_.size() - 2);
  ExpectNotServed(*engine, big, StatusCode::kNotFound);
  ExpectNotServed(*engine, small, StatusCode::kNotFound);
  ExpectOthers(*engine, {big, small});
}

TEST_F(CorruptionTest, FlippedHeaderByteWithCheckpointNeverServesWrongBytes) {
  const std::string small = PickKey(/*packed=*/true, 1000);
  RawRecord rs = Record(small);
  ASSERT_TRUE(test_util::FlipByte(rs.segment_path, rs.offset + 8));
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  // The checkpoint still points at the record; its value is intact, so
  // serving it is acceptable, but only byte-exact.
  auto got = test_util::Get(*engine, small);
  if (got.ok()) {
    EXPECT_TRUE(test_util::SameBytes(*got, data_.at(small)));
  } else {
    EXPECT_TRUE(got.status().code() == StatusCode::kCorrupt ||
                got.status().code() == StatusCode::kNotFound)
        << got.status().ToString();
  }
  ExpectOthers(*engine, {small});
}

TEST_F(CorruptionTest, TruncatedTailIsTornNotCorrupt) {
  // Cut the newest segment in the middle of its last record.
  std::vector<std::string> segs = test_util::SegmentFiles(dir_.data_dir());
  ASSERT_FALSE(segs.empty());
  std::vector<RawRecord> recs = test_util::ListRecords(segs.back());
  ASSERT_GE(recs.size(), 2u);
  const RawRecord& last = recs.back();
  ASSERT_EQ(::truncate(segs.back().c_str(), static_cast<off_t>(last.offset + 2048)), 0);
  for (bool with_checkpoint : {true, false}) {
    SCOPED_TRACE(with_checkpoint ? "checkpoint" : "full scan");
    if (!with_checkpoint) RemoveCheckpoint();
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->Stats().recovered_from_checkpoint, with_checkpoint);
    if (!with_checkpoint) {
      EXPECT_EQ(engine->Stats().torn_records_skipped, 1u);
      EXPECT_EQ(engine->Stats().corrupt_records_skipped, 0u);
    }
    ExpectNotServed(*engine, last.key, StatusCode::kNotFound);
    ExpectOthers(*engine, {last.key});
    engine.reset();  // nothing changed: no new checkpoint is written at close
  }
}

TEST_F(CorruptionTest, DamagedSegmentHeaderStillYieldsItsRecords) {
  std::vector<std::string> segs = test_util::SegmentFiles(dir_.data_dir());
  ASSERT_GE(segs.size(), 2u);
  ASSERT_TRUE(test_util::FlipByte(segs[0], 17));  // created_ms, under the header checksum
  RemoveCheckpoint();
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  ExpectAll(*engine, data_);
}

TEST_F(RecoveryTest, SegmentsWithoutSuperblockAreRefused) {
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    PutDataset(*engine, 3);
    ASSERT_TRUE(engine->Close().ok());
  }
  ASSERT_TRUE(std::filesystem::remove(dir_.data_dir() + "/SUPERBLOCK"));
  EXPECT_EQ(Engine::Open(Options()).status().code(), StatusCode::kCorrupt);
}

// Reclaimed objects stay gone after a restart, and nothing else changes.
TEST_P(RecoveryPathTest, ReclaimedObjectsStayGoneAfterRestart) {
  EngineOptions o = Options();
  o.memory_bytes = 8 * kMiB;
  o.disk_bytes = 16 * kMiB;
  o.segment_bytes = 1 * kMiB;
  Dataset present;
  {
    auto engine = OpenWith(o);
    ASSERT_NE(engine, nullptr);
    for (int i = 0; i < 150; ++i) {
      std::string key = "obj-" + std::to_string(i);
      ASSERT_TRUE(engine->Put(key, Bytes(MakeValue(key, 0, 150 * 1024)), {}).ok());
    }
    ASSERT_TRUE(engine->Flush().ok());
    ASSERT_GT(engine->Stats().reclaimed_segments, 0u);
    for (int i = 0; i < 150; ++i) {
      std::string key = "obj-" + std::to_string(i);
      auto got = test_util::Get(*engine, key);
      if (got.ok()) present[key].assign(got->data, got->data + got->size);
    }
    ASSERT_TRUE(engine->Close().ok());
  }
  if (!use_checkpoint()) RemoveCheckpoint();
  auto engine = OpenWith(o);
  ASSERT_NE(engine, nullptr);
  EXPECT_LE(engine->Stats().flash_bytes, o.disk_bytes);
  uint64_t back = 0;
  for (int i = 0; i < 150; ++i) {
    std::string key = "obj-" + std::to_string(i);
    auto it = present.find(key);
    if (it == present.end()) {
      EXPECT_TRUE(GetNotFound(*engine, key));
      continue;
    }
    auto got = test_util::Get(*engine, key);
    if (got.ok()) {
      ++back;
      EXPECT_TRUE(test_util::SameBytes(*got, it->second)) << key;
    }
  }
  // Everything readable before the restart was on flash (DRAM holds only
  // the newest objects), so all of it is back.
  EXPECT_EQ(back, present.size());
  EXPECT_EQ(engine->Stats().objects, back);
  EXPECT_GT(back, 50u);  // what fits in 16 MiB of flash
  EXPECT_LT(back, 150u);
}

}  // namespace
}  // namespace ctxstore::engine

namespace ctxstore::engine {
namespace {

// A corrupt newest version dropped on read must not let an older version of
// the same key come back at the next recovery: the drop writes a tombstone.
TEST_F(RecoveryTest, CorruptNewestVersionDoesNotResurrectAnOlderOne) {
  auto old_value = MakeValue("k", 1, 200 * 1024);
  auto new_value = MakeValue("k", 2, 200 * 1024);
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Put("k", Bytes(old_value), {.sync = true}).ok());
    ASSERT_TRUE(engine->Put("k", Bytes(new_value), {.sync = true, .overwrite = true}).ok());
    ASSERT_TRUE(engine->Close().ok());
  }
  RawRecord newest;
  ASSERT_TRUE(test_util::FindRecord(dir_.data_dir(), "k", &newest));
  ASSERT_EQ(newest.header.value_len, new_value.size());
  ASSERT_TRUE(
      test_util::FlipByte(newest.segment_path, newest.offset + newest.header.value_offset + 7));
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Stats().recovered_from_checkpoint);
    EXPECT_EQ(test_util::Get(*engine, "k").status().code(), StatusCode::kCorrupt);
    ASSERT_TRUE(engine->Close().ok());
  }
  // Without the checkpoint, the scan sees the old record, the corrupt one and
  // the tombstone: the key stays gone.
  std::filesystem::remove(dir_.data_dir() + "/CHECKPOINT");
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(GetNotFound(*engine, "k"));
}

// Data folders this engine could not have written (found by
// fuzz/recovery_fuzzer): refused with an error or their odd records skipped,
// never a crash and never a value read from elsewhere than it was verified.

TEST_F(RecoveryTest, SegmentIdsOutOfRangeAreRefused) {
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Put("k", Bytes(MakeValue("k", 1, 100)), {.sync = true}).ok());
    ASSERT_TRUE(engine->Close().ok());
  }
  std::vector<std::string> segs = test_util::SegmentFiles(dir_.data_dir());
  ASSERT_EQ(segs.size(), 1u);
  // A header that does not verify is tolerated (its records verify
  // themselves), so only the name tells the segment id.
  ASSERT_TRUE(test_util::FlipByte(segs[0], 17));
  RemoveCheckpoint();
  std::string path = segs[0];
  for (uint64_t id : {uint64_t{0}, kMaxSegmentId + 1}) {
    std::string renamed = dir_.data_dir() + "/" + SegmentFileName(id);
    std::filesystem::rename(path, renamed);
    path = renamed;
    auto engine = Engine::Open(Options());
    EXPECT_EQ(engine.status().code(), StatusCode::kCorrupt) << id;
  }
}

TEST_F(RecoveryTest, RecordsThisEngineNeverWritesAreSkippedByTheScan) {
  { ASSERT_NE(Open(), nullptr); }  // creates the store (superblock)
  if (std::filesystem::exists(CheckpointPath())) RemoveCheckpoint();
  auto device = NewPosixDevice();
  auto sb = device->ReadFile(dir_.data_dir() + "/SUPERBLOCK");
  ASSERT_TRUE(sb.ok());
  auto parsed = ParseSuperblock(*sb);
  ASSERT_TRUE(parsed.ok());
  auto seg = Segment::Create(device.get(), dir_.data_dir(), 1, parsed->store_id);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();

  // One block run, valid checksums throughout: a good packed record; a
  // packed record whose attrs holds only empty fields (the read path would
  // look for its value 8 bytes early); and a large record that does not
  // start on a block (its value cannot be read with O_DIRECT).
  auto good = MakeValue("good", 1, 100);
  auto odd = MakeValue("empty-attrs", 1, 100);
  auto large = MakeValue("large", 1, 100 * 1024);
  const std::string empty_ext(8, '\0');
  RecordHeader hg =
      MakeRecordHeader(0, 1, 1, 0, 0, "good", "", good.size(), Xxh3(good.data(), good.size()));
  RecordHeader he = MakeRecordHeader(0, 2, 1, 0, 0, "empty-attrs", empty_ext, odd.size(),
                                     Xxh3(odd.data(), odd.size()));
  RecordHeader hl =
      MakeRecordHeader(0, 3, 1, 0, 0, "large", "", large.size(), Xxh3(large.data(), large.size()));
  ASSERT_FALSE(ComputeLayout(5, large.size()).packed);
  const uint64_t large_at = hg.record_len + he.record_len;
  ASSERT_NE(large_at % kBlockSize, 0u);
  const uint64_t total = RoundUpToBlock(large_at + hl.record_len);
  AlignedBuffer buf(total);
  std::memset(buf.data, 0, total);
  EncodeRecordHead(hg, "good", "", {good.data(), good.size()}, {buf.data, hg.record_len});
  EncodeRecordHead(he, "empty-attrs", empty_ext, {odd.data(), odd.size()},
                   {buf.data + hg.record_len, he.record_len});
  EncodeRecordHead(hl, "large", "", {}, {buf.data + large_at, hl.value_offset});
  std::memcpy(buf.data + large_at + hl.value_offset, large.data(), large.size());
  iovec iov{buf.data, total};
  ASSERT_TRUE((*seg)->Append({&iov, 1}, total).ok());
  ASSERT_TRUE((*seg)->Sync().ok());
  seg->reset();

  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().recovered_objects, 1u);
  EXPECT_TRUE(GetEquals(*engine, "good", good));
  EXPECT_TRUE(GetNotFound(*engine, "empty-attrs"));
  EXPECT_TRUE(GetNotFound(*engine, "large"));
  EXPECT_EQ(engine->Stats().corrupt_reads, 0u);
}

// A checkpoint verifies as a whole; what it says must still be a state this
// engine could have written, or it is ignored (replay position) or the
// entry skipped.
TEST_F(RecoveryTest, CheckpointWithAReplaySegmentIdOutOfRangeIsIgnored) {
  auto value = MakeValue("k", 1, 100);
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Put("k", Bytes(value), {.sync = true}).ok());
    ASSERT_TRUE(engine->Close().ok());
  }
  auto device = NewPosixDevice();
  auto cp = ReadCheckpoint(device.get(), CheckpointPath());
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  cp->replay_segment_id = uint64_t{1} << 40;
  ASSERT_TRUE(WriteCheckpoint(device.get(), CheckpointPath(), *cp).ok());
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_FALSE(engine->Stats().recovered_from_checkpoint);
  EXPECT_TRUE(GetEquals(*engine, "k", value));
  // Segment ids are left for new writes.
  EXPECT_TRUE(engine->Put("new", Bytes(value), {.sync = true}).ok());
}

TEST_F(RecoveryTest, CheckpointEntriesOfRecordsThisEngineNeverWritesAreSkipped) {
  auto small = MakeValue("small", 1, 100);
  auto large = MakeValue("large", 1, 100 * 1024);
  {
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    // The large record first, so that it still lies inside the segment
    // once moved.
    ASSERT_TRUE(engine->Put("large", Bytes(large), {.sync = true}).ok());
    ASSERT_TRUE(engine->Put("small", Bytes(small), {.sync = true}).ok());
    ASSERT_TRUE(engine->Close().ok());
  }
  auto device = NewPosixDevice();
  auto cp = ReadCheckpoint(device.get(), CheckpointPath());
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  ASSERT_EQ(cp->entries.size(), 2u);
  for (CheckpointEntry& e : cp->entries) {
    if (e.key.ends_with("large")) e.record_offset += 64;  // off its block
  }
  ASSERT_TRUE(WriteCheckpoint(device.get(), CheckpointPath(), *cp).ok());
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->Stats().recovered_from_checkpoint);
  EXPECT_TRUE(GetEquals(*engine, "small", small));
  EXPECT_TRUE(GetNotFound(*engine, "large"));
}

}  // namespace
}  // namespace ctxstore::engine
