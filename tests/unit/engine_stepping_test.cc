// An engine opened without its flusher thread (EngineOptions::flusher_thread
// = false) over an in-memory device, with clocks that move only when told:
// the caller steps the flusher, so what reaches flash, and when, depends on
// nothing but the calls made. The seam a deterministic crash simulator
// drives.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <string>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::MakeValue;

class EngineSteppingTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  EngineOptions Options() {
    EngineOptions o;
    o.data_dir = "/data";
    o.memory_bytes = 4 * kMiB;
    o.disk_bytes = 16 * kMiB;
    o.device = &mem_;
    o.env = &env_;
    o.flusher_thread = false;
    return o;
  }
  // Steps the flusher until it has nothing to do now.
  int Drain(Engine& engine) {
    int steps = 0;
    while (engine.RunFlusherOnce() && steps < 1000) ++steps;
    return steps;
  }

  MemDevice mem_;
  ManualEnv env_;
};

TEST_F(EngineSteppingTest, NothingReachesFlashUntilTheFlusherIsStepped) {
  auto engine = test_util::OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  const auto value = MakeValue("k", 1, 10'000);
  ASSERT_TRUE(engine->Put("k", Bytes(value), {}).ok());
  EXPECT_EQ(engine->Stats().dirty_objects, 1u);
  EXPECT_EQ(engine->Stats().flash_bytes, 0u) << "no thread wrote it behind our back";

  EXPECT_GT(Drain(*engine), 0);  // written, not yet synced: the interval has not passed
  EXPECT_EQ(engine->Stats().dirty_objects, 1u);
  EXPECT_GT(engine->Stats().flash_bytes, 0u);
  env_.AdvanceMs(engine->options().sync_interval_ms);
  EXPECT_GT(Drain(*engine), 0);
  EXPECT_EQ(engine->Stats().dirty_objects, 0u);

  // The waiting calls step the flusher themselves.
  const auto synced = MakeValue("s", 1, 100);
  ASSERT_TRUE(engine->Put("s", Bytes(synced), {.sync = true}).ok());
  EXPECT_EQ(engine->Stats().dirty_objects, 0u);
  ASSERT_TRUE(engine->WriteCheckpointNow().ok());
  ASSERT_TRUE(engine->Close().ok());

  auto reopened = test_util::OpenOrNull(Options());
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->Stats().recovered_from_checkpoint);
  EXPECT_TRUE(GetEquals(*reopened, "k", value));
  EXPECT_TRUE(GetEquals(*reopened, "s", synced));
}

TEST_F(EngineSteppingTest, ACallbackFlushIsAnsweredOnceItsSyncEnds) {
  auto engine = test_util::OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Put("k", Bytes(MakeValue("k", 1, 100)), {}).ok());
  std::optional<Status> flushed;
  engine->Flush([&](Status st) { flushed = st; });
  EXPECT_FALSE(flushed.has_value());
  EXPECT_TRUE(engine->RunFlusherOnce());  // k written, its sync begun
  EXPECT_FALSE(flushed.has_value()) << "answered before the sync ended";
  EXPECT_TRUE(engine->RunFlusherOnce());  // the sync ends
  ASSERT_TRUE(flushed.has_value());
  EXPECT_TRUE(flushed->ok()) << flushed->ToString();
}

}  // namespace
}  // namespace ctxstore::engine
