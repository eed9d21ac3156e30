// The engine over a FaultDevice: durability of sync puts, sync deletes and
// flushes across a simulated power loss, and behaviour under torn writes,
// failed syncs, a full device and failing file creation.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "testing/fault_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::GetNotFound;
using test_util::MakeValue;
using test_util::TempDir;

// prefix + number (spelled out: g++ 12 warns falsely on "literal" + std::string).
std::string Name(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

class EngineFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    spdlog::set_level(spdlog::level::critical);  // injected failures log errors by design
    posix_ = NewPosixDevice();
    fault_ = std::make_unique<FaultDevice>(posix_.get(), 1234);
  }
  void TearDown() override {
    if (fault_) fault_->ReleaseWrites();  // a test that failed while writes were held
    engine_.reset();
    fault_.reset();
    spdlog::set_level(spdlog::level::info);
  }

  EngineOptions Options(Device* device) const {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 16 * kMiB;
    o.disk_bytes = 64 * kMiB;
    o.segment_bytes = 2 * kMiB;
    o.max_value_bytes = 8 * kMiB;
    o.sync_interval_ms = 3'600'000;  // nothing is synced unless asked
    o.device = device;
    return o;
  }

  // Little DRAM, so that a few puts of 200 KiB or more evict the oldest.
  void OpenWithOneMiBOfDram() {
    EngineOptions o = Options(fault_.get());
    o.memory_bytes = 1 * kMiB;
    o.space_wait_ms = 200;
    auto r = Engine::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r).value();
  }

  void OpenOverFaultDevice() {
    auto r = Engine::Open(Options(fault_.get()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r).value();
  }

  // Power loss, then a restart over the bare POSIX device.
  void CrashAndReopen(bool keep_torn_prefix) {
    fault_->Crash(keep_torn_prefix);
    engine_.reset();  // its flusher now fails on every operation
    fault_.reset();
    auto r = Engine::Open(Options(posix_.get()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r).value();
  }

  Status Put(const std::string& key, const std::vector<uint8_t>& v, WriteOptions opts = {}) {
    return engine_->Put(key, Bytes(v), opts);
  }

  // Waits until the flusher has written something since writes_before
  // (without syncing: dirty objects stay dirty until a sync).
  void WaitWritten(uint64_t writes_before) {
    for (int i = 0; i < 2000 && fault_->writes() == writes_before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GT(fault_->writes(), writes_before);
  }

  TempDir dir_;
  std::unique_ptr<Device> posix_;
  std::unique_ptr<FaultDevice> fault_;
  std::unique_ptr<Engine> engine_;
};

class CrashTest : public EngineFaultTest, public ::testing::WithParamInterface<bool> {
 protected:
  bool keep_torn_prefix() const { return GetParam(); }
};

TEST_P(CrashTest, SyncPutsSurvivePowerLoss) {
  OpenOverFaultDevice();
  std::map<std::string, std::vector<uint8_t>> synced, unsynced;
  const size_t sizes[] = {0, 10, 3000, 64 * 1024, 200 * 1024, 1536 * 1024 + 5};
  for (int i = 0; i < 24; ++i) {
    std::string key = Name("k", i);
    auto v = MakeValue(key, 0, sizes[i % std::size(sizes)]);
    if (i < 12) {  // no unsynced write of another kind before them to piggyback on
      ASSERT_TRUE(Put(key, v, {.sync = true}).ok());
      synced[key] = std::move(v);
    } else {
      ASSERT_TRUE(Put(key, v).ok());
      unsynced[key] = std::move(v);
    }
  }
  EXPECT_GT(fault_->syncs(), 0u);
  CrashAndReopen(keep_torn_prefix());
  for (const auto& [key, v] : synced) EXPECT_TRUE(GetEquals(*engine_, key, v));
  // Not acknowledged as durable: may be lost, but never served damaged.
  for (const auto& [key, v] : unsynced) {
    auto got = test_util::Get(*engine_, key);
    if (got.ok()) {
      EXPECT_TRUE(test_util::SameBytes(*got, v)) << key;
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
    }
  }
}

TEST_P(CrashTest, FlushMakesEverythingBeforeItDurable) {
  OpenOverFaultDevice();
  std::map<std::string, std::vector<uint8_t>> want;
  auto v0 = MakeValue("doomed", 0, 5000);
  ASSERT_TRUE(Put("doomed", v0, {.sync = true}).ok());
  auto o0 = MakeValue("over", 0, 100 * 1024);
  ASSERT_TRUE(Put("over", o0, {.sync = true}).ok());
  for (int i = 0; i < 30; ++i) {
    std::string key = Name("f", i);
    want[key] = MakeValue(key, 0, static_cast<size_t>(i) * 9000);
    ASSERT_TRUE(Put(key, want[key]).ok());
  }
  ASSERT_TRUE(test_util::Delete(*engine_, "doomed", false).ok());
  want["over"] = MakeValue("over", 1, 10);
  ASSERT_TRUE(Put("over", want["over"], {.overwrite = true}).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  // After the flush: not durable, may go either way.
  auto later = MakeValue("later", 0, 70000);
  ASSERT_TRUE(Put("later", later).ok());
  CrashAndReopen(keep_torn_prefix());
  for (const auto& [key, v] : want) EXPECT_TRUE(GetEquals(*engine_, key, v));
  EXPECT_TRUE(GetNotFound(*engine_, "doomed"));
  auto got = test_util::Get(*engine_, "later");
  if (got.ok()) {
    EXPECT_TRUE(test_util::SameBytes(*got, later));
  }
}

TEST_P(CrashTest, SyncDeletesSurvivePowerLoss) {
  OpenOverFaultDevice();
  auto v = MakeValue("a", 0, 80000);
  ASSERT_TRUE(Put("a", v, {.sync = true}).ok());
  ASSERT_TRUE(Put("b", v, {.sync = true}).ok());
  ASSERT_TRUE(engine_->WriteCheckpointNow().ok());  // the checkpoint still has "a"
  ASSERT_TRUE(test_util::Delete(*engine_, "a", true).ok());
  CrashAndReopen(keep_torn_prefix());
  EXPECT_TRUE(GetNotFound(*engine_, "a"));
  EXPECT_TRUE(GetEquals(*engine_, "b", v));
}

TEST_P(CrashTest, TornSegmentWriteFailsTheSyncPutAndIsNeverServed) {
  OpenOverFaultDevice();
  auto a = MakeValue("a", 0, 40000);
  ASSERT_TRUE(Put("a", a, {.sync = true}).ok());
  ASSERT_EQ(engine_->Stats().flash_segments, 1u);
  fault_->InjectFault(FaultOp::kWrite, FaultKind::kTornWrite, "seg-");
  auto torn = MakeValue("torn", 0, 300 * 1024);
  Status st = Put("torn", torn, {.sync = true});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(fault_->injected_faults(), 1u);
  EXPECT_GE(engine_->Stats().io_errors, 1u);
  // Still usable: reads work and later writes go to a new segment.
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  {
    auto got = test_util::Get(*engine_, "torn");  // released before the engine goes
    if (got.ok()) {
      EXPECT_TRUE(test_util::SameBytes(*got, torn));  // the DRAM copy, if kept
    }
  }
  auto b = MakeValue("b", 0, 250 * 1024);
  ASSERT_TRUE(Put("b", b, {.sync = true}).ok());
  EXPECT_EQ(engine_->Stats().flash_segments, 2u);
  EXPECT_EQ(test_util::SegmentFiles(dir_.data_dir()).size(), 2u);
  CrashAndReopen(keep_torn_prefix());
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  EXPECT_TRUE(GetEquals(*engine_, "b", b));
  // The failed put stayed visible and was written again, ahead of b: b's
  // sync made it durable, whole (the torn record is never served).
  EXPECT_TRUE(GetEquals(*engine_, "torn", torn));
}

TEST_P(CrashTest, FailedSyncFailsTheSyncPut) {
  OpenOverFaultDevice();
  auto a = MakeValue("a", 0, 4000);
  ASSERT_TRUE(Put("a", a, {.sync = true}).ok());
  fault_->InjectFault(FaultOp::kSync, FaultKind::kIoError, "seg-");
  auto b = MakeValue("b", 0, 90000);
  EXPECT_EQ(Put("b", b, {.sync = true}).code(), StatusCode::kIoError);
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  auto c = MakeValue("c", 0, 9000);
  ASSERT_TRUE(Put("c", c, {.sync = true}).ok());
  CrashAndReopen(keep_torn_prefix());
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  EXPECT_TRUE(GetEquals(*engine_, "c", c));
  // b's sync failed, but b stayed visible and was written again ahead of c.
  EXPECT_TRUE(GetEquals(*engine_, "b", b));
}

INSTANTIATE_TEST_SUITE_P(TornPrefix, CrashTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "KeepTornPrefix" : "DropUnsynced";
                         });

TEST_F(EngineFaultTest, FullDeviceFailsWritesUntilSpaceReturns) {
  OpenOverFaultDevice();
  auto a = MakeValue("a", 0, 100 * 1024);
  ASSERT_TRUE(Put("a", a, {.sync = true}).ok());
  fault_->InjectFault(FaultOp::kWrite, FaultKind::kNoSpace, "seg-", 1000);
  for (int i = 0; i < 3; ++i) {
    std::string key = Name("full", i);
    Status st = Put(key, MakeValue(key, 0, 20000), {.sync = true});
    EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
  }
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  fault_->ClearFaults();
  // Space is back.
  auto b = MakeValue("b", 0, 300 * 1024);
  ASSERT_TRUE(Put("b", b, {.sync = true}).ok());
  EXPECT_TRUE(GetEquals(*engine_, "b", b));
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  CrashAndReopen(/*keep_torn_prefix=*/false);
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  EXPECT_TRUE(GetEquals(*engine_, "b", b));
}

TEST_F(EngineFaultTest, FailingSegmentCreationFailsSyncPutsButDramServes) {
  fault_->InjectFault(FaultOp::kOpenCreate, FaultKind::kIoError, "seg-", 1000);
  OpenOverFaultDevice();
  auto a = MakeValue("a", 0, 30000);
  ASSERT_TRUE(Put("a", a).ok());  // acknowledged at once, in DRAM
  auto b = MakeValue("b", 0, 30000);
  EXPECT_FALSE(Put("b", b, {.sync = true}).ok());
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  EXPECT_EQ(engine_->Stats().flash_segments, 0u);
  EXPECT_TRUE(test_util::SegmentFiles(dir_.data_dir()).empty());
  fault_->ClearFaults();
  auto c = MakeValue("c", 0, 30000);
  ASSERT_TRUE(Put("c", c, {.sync = true}).ok());
  EXPECT_TRUE(GetEquals(*engine_, "c", c));
  EXPECT_TRUE(GetEquals(*engine_, "a", a));
  CrashAndReopen(/*keep_torn_prefix=*/false);
  EXPECT_TRUE(GetEquals(*engine_, "c", c));
}

TEST_F(EngineFaultTest, FailedFlashReadMarksTheSegmentBad) {
  OpenWithOneMiBOfDram();
  std::vector<std::vector<uint8_t>> values;
  for (int i = 0; i < 8; ++i) {
    values.push_back(MakeValue(Name("r", i), 0, 256 * 1024));
    ASSERT_TRUE(Put(Name("r", i), values.back()).ok());
  }
  ASSERT_TRUE(engine_->Flush().ok());
  auto r0 = engine_->Stat(kDefaultNamespaceId, "r0");
  ASSERT_TRUE(r0.ok());
  ASSERT_FALSE(r0->in_dram) << "r0 is evicted by now (1 MiB of DRAM)";
  // Its read goes to flash and fails: the segment is bad from now on.
  // Writes are held, so the copies carried out of it stay unwritten for a
  // while: DRAM pressure meanwhile must not evict the only readable copy.
  fault_->HoldWrites();
  // One failed read is retried (and served): the segment stays.
  int evicted = 0;
  for (int i = 1; i < 8 && evicted == 0; ++i) {
    auto info = engine_->Stat(kDefaultNamespaceId, Name("r", i));
    if (info.ok() && !info->in_dram) evicted = i;
  }
  ASSERT_NE(evicted, 0) << "2 MiB of values in 1 MiB of DRAM";
  fault_->InjectFault(FaultOp::kRead, FaultKind::kIoError, "seg-", 1);
  EXPECT_TRUE(GetEquals(*engine_, Name("r", evicted), values[evicted]));
  EXPECT_EQ(engine_->Stats().flash_read_retries, 1u);
  EXPECT_EQ(engine_->Stats().bad_segments, 0u);
  // Two in a row: the retry fails too, and the segment is given up on.
  fault_->InjectFault(FaultOp::kRead, FaultKind::kIoError, "seg-", 2);
  auto got = test_util::Get(*engine_, "r0");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kIoError) << got.status().ToString();
  EXPECT_GE(engine_->Stats().io_errors, 1u);
  EXPECT_EQ(fault_->injected_faults(), 3u);
  EXPECT_EQ(engine_->Stats().flash_read_retries, 2u);
  EXPECT_EQ(engine_->Stats().bad_segments, 1u);
  for (int i = 0; i < 4; ++i) {
    std::string key = Name("pressure", i);
    (void)Put(key, MakeValue(key, 0, 256 * 1024));  // may find no room: fine
  }
  fault_->ReleaseWrites();
  // Objects only on the bad segment are gone; those that were in DRAM are
  // served and written again, to a new segment. Nothing else.
  std::vector<bool> kept(8);
  uint64_t dropped = 0;
  for (int i = 0; i < 8; ++i) {
    auto v = test_util::Get(*engine_, Name("r", i));
    if (v.ok()) {
      EXPECT_TRUE(test_util::SameBytes(*v, values[i])) << i;
      kept[i] = true;
    } else {
      EXPECT_EQ(v.status().code(), StatusCode::kNotFound) << i << ": " << v.status().ToString();
      ++dropped;
    }
  }
  EXPECT_FALSE(kept[0]);
  EXPECT_GE(dropped, 2u);
  EXPECT_LE(dropped, 6u) << "the objects in DRAM were kept";
  EXPECT_EQ(engine_->Stats().bad_segment_objects, dropped);
  EXPECT_EQ(fault_->injected_faults(), 3u) << "nothing read the bad segment again";
  // New writes go to a new segment; after a crash the dropped objects stay
  // dropped (tombstones) and the carried ones come back.
  auto fresh = MakeValue("fresh", 0, 100000);
  ASSERT_TRUE(Put("fresh", fresh, {.sync = true}).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  CrashAndReopen(/*keep_torn_prefix=*/false);
  EXPECT_TRUE(GetEquals(*engine_, "fresh", fresh));
  for (int i = 0; i < 8; ++i) {
    if (kept[i]) {
      EXPECT_TRUE(GetEquals(*engine_, Name("r", i), values[i])) << i;
    } else {
      EXPECT_TRUE(GetNotFound(*engine_, Name("r", i))) << i;
    }
  }
}

// Records written to the active segment but not yet synced when a failed
// read marks it bad are not acknowledged on it: they are written again to a
// new segment, so once evicted from DRAM they are read from there.
TEST_F(EngineFaultTest, UnsyncedRecordsOfASegmentMarkedBadAreWrittenElsewhere) {
  OpenWithOneMiBOfDram();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Put(Name("r", i), MakeValue(Name("r", i), 0, 200 * 1024)).ok());
  }
  ASSERT_TRUE(engine_->Flush().ok());
  auto r0 = engine_->Stat(kDefaultNamespaceId, "r0");
  ASSERT_TRUE(r0.ok());
  ASSERT_FALSE(r0->in_dram) << "r0 is evicted by now (1 MiB of DRAM)";
  ASSERT_EQ(engine_->Stats().flash_segments, 1u);
  const std::string first_segment = SegmentFileName(1);

  const auto late = MakeValue("late", 0, 4096);
  const uint64_t writes_before = fault_->writes();
  ASSERT_TRUE(Put("late", late).ok());
  WaitWritten(writes_before);  // in the first segment, not synced
  fault_->InjectFault(FaultOp::kRead, FaultKind::kIoError, first_segment, 2);
  EXPECT_EQ(test_util::Get(*engine_, "r0").status().code(), StatusCode::kIoError);
  ASSERT_EQ(engine_->Stats().bad_segments, 1u);
  // The flush that would have acknowledged "late" on the bad segment fails
  // (it is being written again); a later one succeeds.
  Status flushed;
  for (int i = 0; i < 20 && !(flushed = engine_->Flush()).ok(); ++i) {
  }
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();

  // DRAM pressure evicts "late"; from now on the first segment fails every read.
  for (int i = 0; i < 16; ++i) {
    auto info = engine_->Stat(kDefaultNamespaceId, "late");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    if (!info->in_dram) break;
    std::string key = Name("pressure", i);
    ASSERT_TRUE(Put(key, MakeValue(key, 0, 200 * 1024)).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  auto info = engine_->Stat(kDefaultNamespaceId, "late");
  ASSERT_TRUE(info.ok());
  ASSERT_FALSE(info->in_dram);
  const uint64_t faults_before = fault_->injected_faults();
  fault_->InjectFault(FaultOp::kRead, FaultKind::kIoError, first_segment, 1000);
  EXPECT_TRUE(GetEquals(*engine_, "late", late));
  EXPECT_EQ(fault_->injected_faults(), faults_before) << "read from the bad segment";
  EXPECT_EQ(engine_->Stats().bad_segments, 1u);
}

// A Flush acknowledges that everything committed before it is durable. An
// earlier write failure must not be papered over by a later successful
// flush: either the flush fails, or the data really is on flash.
TEST_F(EngineFaultTest, FlushAfterAFailedSyncDoesNotClaimLostPutsAreDurable) {
  OpenOverFaultDevice();
  auto p = MakeValue("p", 0, 50000);
  // The segment exists first, so that the next write is p's record alone.
  ASSERT_TRUE(Put("a", MakeValue("a", 0, 100), {.sync = true}).ok());
  const uint64_t writes_before = fault_->writes();
  ASSERT_TRUE(Put("p", p).ok());
  WaitWritten(writes_before);  // p is in the segment, not yet synced
  fault_->InjectFault(FaultOp::kSync, FaultKind::kIoError, "seg-");
  EXPECT_EQ(Put("q", MakeValue("q", 0, 1000), {.sync = true}).code(), StatusCode::kIoError);
  fault_->ClearFaults();
  // p and q are written again to a new segment; the flush waits for that.
  Status flush = engine_->Flush();
  EXPECT_TRUE(flush.ok()) << flush.ToString();
  EXPECT_GE(engine_->Stats().write_retries, 2u);
  CrashAndReopen(/*keep_torn_prefix=*/false);
  if (flush.ok()) {
    EXPECT_TRUE(GetEquals(*engine_, "p", p))
        << "Flush() returned ok after p was lost with its segment";
    EXPECT_TRUE(GetEquals(*engine_, "q", MakeValue("q", 0, 1000)));
  }
}

TEST_F(EngineFaultTest, FlushAfterAFailedSyncDoesNotClaimLostDeletesAreDurable) {
  OpenOverFaultDevice();
  auto d = MakeValue("d", 0, 50000);
  ASSERT_TRUE(Put("d", d, {.sync = true}).ok());
  const uint64_t writes_before = fault_->writes();
  ASSERT_TRUE(test_util::Delete(*engine_, "d", false).ok());
  for (int i = 0; i < 2000 && fault_->writes() == writes_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the tombstone is written
  }
  ASSERT_GT(fault_->writes(), writes_before);
  fault_->InjectFault(FaultOp::kSync, FaultKind::kIoError, "seg-");
  EXPECT_EQ(Put("q", MakeValue("q", 0, 1000), {.sync = true}).code(), StatusCode::kIoError);
  fault_->ClearFaults();
  Status flush = engine_->Flush();
  EXPECT_TRUE(flush.ok()) << flush.ToString();
  CrashAndReopen(/*keep_torn_prefix=*/false);
  if (flush.ok()) {
    EXPECT_TRUE(GetNotFound(*engine_, "d"))
        << "Flush() returned ok after the delete of d was lost with its segment";
  }
}

// A Close that gives up on records (every write fails) writes no
// checkpoint: one without the keys whose newest version was given up would
// hide their older, durable versions from recovery.
TEST_F(EngineFaultTest, CloseThatGivesUpKeepsOlderDurableVersions) {
  OpenOverFaultDevice();
  auto v0 = MakeValue("k", 0, 30000);
  ASSERT_TRUE(Put("k", v0, {.sync = true}).ok());
  ASSERT_TRUE(engine_->WriteCheckpointNow().ok());  // v0 is in the checkpoint
  fault_->InjectFault(FaultOp::kWrite, FaultKind::kIoError, "seg-", 1'000'000);
  auto v1 = MakeValue("k", 1, 30000);
  ASSERT_TRUE(Put("k", v1, {.overwrite = true}).ok());  // acknowledged in DRAM, never written
  Status closed = engine_->Close();
  EXPECT_EQ(closed.code(), StatusCode::kIoError) << closed.ToString();
  EXPECT_GE(fault_->injected_faults(), 1u);
  engine_.reset();
  fault_.reset();
  // No power loss: a plain restart over what the device holds.
  auto r = Engine::Open(Options(posix_.get()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  engine_ = std::move(r).value();
  EXPECT_TRUE(GetEquals(*engine_, "k", v0))
      << "v1 was given up at close; v0, durable, must still be there";
}

// Versions of a key replaced while they waited for a slow device are never
// written: the flusher drops them (and their DRAM) and writes the newest.
TEST_F(EngineFaultTest, ReplacedQueuedVersionsAreNeverWritten) {
  OpenOverFaultDevice();
  fault_->HoldWrites();
  constexpr int kVersions = 50;
  std::vector<std::vector<uint8_t>> versions;
  for (int i = 0; i <= kVersions; ++i) {
    versions.push_back(MakeValue("k", static_cast<uint64_t>(i), 20000));
    ASSERT_TRUE(Put("k", versions.back(), {.overwrite = true}).ok());
    ASSERT_TRUE(Put(Name("other-", i), MakeValue(Name("other-", i), 0, 3000)).ok());
  }
  fault_->ReleaseWrites();
  ASSERT_TRUE(engine_->Flush().ok());
  const uint64_t coalesced = engine_->Stats().writes_coalesced;
  uint64_t records_of_k = 0, others = 0;
  for (const test_util::RawRecord& r : test_util::ListAllRecords(dir_.data_dir())) {
    records_of_k += r.key == "k";
    others += r.key.starts_with("other-");
  }
  // Only what the flusher took before the first write blocked is written
  // besides the newest version; every other key is written once.
  EXPECT_GE(coalesced, kVersions - 5u);
  EXPECT_EQ(records_of_k + coalesced, kVersions + 1u);
  EXPECT_EQ(others, kVersions + 1u);
  EXPECT_TRUE(GetEquals(*engine_, "k", versions.back()));
  CrashAndReopen(false);  // everything was flushed
  EXPECT_TRUE(GetEquals(*engine_, "k", versions.back()));
  for (int i = 0; i <= kVersions; ++i) {
    EXPECT_TRUE(GetEquals(*engine_, Name("other-", i), MakeValue(Name("other-", i), 0, 3000)));
  }
}

// A FLUSH covers the version written before it even when a newer version,
// written after the FLUSH, replaces it while both wait in the queue.
TEST_F(EngineFaultTest, FlushKeepsAReplacedVersionThatItCovers) {
  OpenOverFaultDevice();
  auto v0 = MakeValue("k", 0, 5000), v1 = MakeValue("k", 1, 5000), v2 = MakeValue("k", 2, 5000);
  fault_->HoldWrites();
  ASSERT_TRUE(Put("k", v0, {.overwrite = true}).ok());  // the flusher takes it and blocks
  for (int i = 0; i < 2000 && fault_->writes_waiting() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(fault_->writes_waiting(), 1);
  ASSERT_TRUE(Put("k", v1, {.overwrite = true}).ok());
  Status flushed = Status::Internal("not run");
  std::thread flusher_waiter([&] { flushed = engine_->Flush(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the barrier is queued
  // More than a batch of other writes, so that v2 is not written (and
  // synced) in the barrier's batch.
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(Put(Name("filler-", i), MakeValue("f", 0, 100)).ok());
  ASSERT_TRUE(
      Put("k", v2, {.overwrite = true}).ok());  // after the barrier: replaces v1, is not covered
  fault_->ReleaseWrites();
  flusher_waiter.join();
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  CrashAndReopen(false);  // v2 was never synced (no sync interval, nobody asked)
  auto got = test_util::Get(*engine_, "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(test_util::SameBytes(*got, v1) || test_util::SameBytes(*got, v2))
      << "the FLUSH acknowledged v1 durable, yet recovery found an older version";
}

}  // namespace
}  // namespace ctxstore::engine
