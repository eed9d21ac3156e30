// Segment ids after failed segment creation: a checkpoint may name a replay
// segment that was never created, and new segments must still come after it.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "testing/fault_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::MakeValue;
using test_util::TempDir;

EngineOptions Options(const TempDir& dir, Device* device) {
  EngineOptions o;
  o.data_dir = dir.data_dir();
  o.memory_bytes = 16 * kMiB;
  o.disk_bytes = 64 * kMiB;
  o.segment_bytes = 2 * kMiB;
  o.max_value_bytes = 8 * kMiB;
  o.sync_interval_ms = 3'600'000;
  o.device = device;
  return o;
}

TEST(SegmentIds, SyncedWritesAfterFailedSegmentCreationSurviveACrash) {
  TempDir dir;
  auto posix = NewPosixDevice();
  {
    FaultDevice fault(posix.get(), 1);
    auto engine = Engine::Open(Options(dir, &fault));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    ASSERT_TRUE((*engine)->Put("a", Bytes(MakeValue("a", 1, 1000)), {.sync = true}).ok());
    // Every new segment fails to be created from now on; a value that does
    // not fit in the first segment forces a few failed rolls.
    fault.InjectFault(FaultOp::kOpenCreate, FaultKind::kNoSpace, "seg-", 1000);
    ASSERT_TRUE((*engine)->Put("big", Bytes(MakeValue("big", 1, 2060 * 1024)), {}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE((*engine)->Close().ok());  // "big" could not be written
  }
  {
    FaultDevice fault(posix.get(), 2);
    auto engine = Engine::Open(Options(dir, &fault));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    ASSERT_TRUE((*engine)->Put("b", Bytes(MakeValue("b", 1, 1000)), {.sync = true}).ok());
    fault.Crash(/*keep_torn_prefix=*/false);
  }
  auto engine = Engine::Open(Options(dir, posix.get()));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_TRUE(GetEquals(**engine, "a", MakeValue("a", 1, 1000)));
  EXPECT_TRUE(GetEquals(**engine, "b", MakeValue("b", 1, 1000)));  // acknowledged as synced
}

}  // namespace
}  // namespace ctxstore::engine
