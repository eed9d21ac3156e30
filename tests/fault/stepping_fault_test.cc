// An engine stepped by its caller (no flusher thread, a manual clock) when
// the device fails: the waiting calls must still return. Regression test
// for a livelock found while building the crash simulator: a FLUSH queued
// behind a full batch that failed waited on a backoff measured by a clock
// that only the caller moves, and the caller was the one waiting.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <string>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "engine/flush/flush_queue.h"
#include "testing/fault_device.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::MakeValue;

TEST(SteppingFaultTest, AFlushBehindAFailedBatchWaitsOutTheBackoffOnTheEnvClock) {
  spdlog::set_level(spdlog::level::off);
  MemDevice mem;
  FaultDevice fault(&mem, 1);
  ManualEnv env;
  EngineOptions o;
  o.data_dir = "/data";
  o.memory_bytes = 8 * kMiB;
  o.disk_bytes = 64 * kMiB;
  o.device = &fault;
  o.env = &env;
  o.flusher_thread = false;
  auto engine = test_util::OpenOrNull(o);
  ASSERT_NE(engine, nullptr);

  // More than one batch of writes, then the FLUSH: its barrier is not in
  // the first batch, whose write fails and whose records are queued again
  // behind it, after a backoff.
  const size_t puts = FlushQueue::kMaxBatchItems + 8;
  for (size_t i = 0; i < puts; ++i) {
    const std::string key = std::to_string(i) + "k";
    ASSERT_TRUE(engine->Put(key, Bytes(MakeValue(key, 1, 100)), {}).ok());
  }
  fault.InjectFault(FaultOp::kWrite, FaultKind::kIoError, ".log");
  const uint64_t before = env.MonotonicMs();
  Status flushed = engine->Flush();  // hung here before the fix
  EXPECT_EQ(flushed.code(), StatusCode::kIoError) << flushed.ToString();
  EXPECT_GE(env.MonotonicMs() - before, 50u) << "the backoff passed on the Env's clock";

  // The records written again: a second FLUSH finds them durable.
  Status again = engine->Flush();
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(engine->Stats().dirty_objects, 0u);
  ASSERT_TRUE(engine->Close().ok());
  spdlog::set_level(spdlog::level::info);
}

}  // namespace
}  // namespace ctxstore::engine
