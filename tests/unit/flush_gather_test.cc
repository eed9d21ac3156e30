// The flusher thread gathers small records that nobody waits on into one
// write (FlusherOptions::gather_us), and never holds back one that someone
// does wait on: a sync PUT, a FLUSH, a close, or a megabyte queued. The
// gather windows here are a minute long, so a test that waited on one would
// time out instead of passing slowly.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::MakeValue;
using test_util::TempDir;

constexpr auto kPromptly = std::chrono::seconds(20);  // far below a gather window

class FlushGatherTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  std::unique_ptr<Engine> Open(uint64_t gather_us) {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 32 * kMiB;
    o.disk_bytes = 64 * kMiB;
    o.segment_bytes = 4 * kMiB;
    o.flush_gather_us = gather_us;
    return test_util::OpenOrNull(o);
  }

  // Runs f on another thread: whether it finished within kPromptly (the
  // thread is joined either way, at the latest when f returns).
  template <typename F>
  static bool FinishesPromptly(F f) {
    auto done = std::async(std::launch::async, f);
    return done.wait_for(kPromptly) == std::future_status::ready;
  }

  TempDir dir_;
};

TEST_F(FlushGatherTest, SmallRecordsQueuedTogetherGoOutInFewWrites) {
  auto engine = Open(/*gather_us=*/1'000'000);
  ASSERT_NE(engine, nullptr);
  // A millisecond apart, each long enough for a flusher that does not
  // gather to write it alone (it then wrote 59 of 64 alone).
  constexpr int kPuts = 64;
  for (int i = 0; i < kPuts; ++i) {
    const std::string key = "small-" + std::to_string(i);
    ASSERT_TRUE(engine->Put(key, Bytes(MakeValue(key, 1, 1000)), {}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(engine->Flush().ok());
  const EngineStats s = engine->Stats();
  EXPECT_EQ(s.dirty_objects, 0u);
  // One write for what the window gathered, one more at most for what the
  // FLUSH's barrier found queued after it; never one per record.
  EXPECT_GE(s.flush_batches, 1u);
  EXPECT_LE(s.flush_batches, 3u) << "records were not gathered";
}

TEST_F(FlushGatherTest, ASyncPutIsWrittenAtOnceWhileTheFlusherGathers) {
  auto engine = Open(/*gather_us=*/60'000'000);
  ASSERT_NE(engine, nullptr);
  // A record nobody waits on: the flusher starts a minute's gathering.
  ASSERT_TRUE(engine->Put("background", Bytes(MakeValue("background", 1, 4096)), {}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Status sync_put;
  EXPECT_TRUE(FinishesPromptly([&] {
    sync_put = engine->Put("waited", Bytes(MakeValue("waited", 1, 4096)), {.sync = true});
  }));
  EXPECT_TRUE(sync_put.ok()) << sync_put.ToString();
  EXPECT_EQ(engine->Stats().dirty_objects, 0u);  // the one before it went with it
}

TEST_F(FlushGatherTest, FlushAndCloseEndTheGathering) {
  auto engine = Open(/*gather_us=*/60'000'000);
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Put("a", Bytes(MakeValue("a", 1, 4096)), {}).ok());
  Status flushed;
  EXPECT_TRUE(FinishesPromptly([&] { flushed = engine->Flush(); }));
  EXPECT_TRUE(flushed.ok()) << flushed.ToString();
  ASSERT_TRUE(engine->Put("b", Bytes(MakeValue("b", 1, 4096)), {}).ok());
  Status closed;
  EXPECT_TRUE(FinishesPromptly([&] { closed = engine->Close(); }));
  EXPECT_TRUE(closed.ok()) << closed.ToString();
}

TEST_F(FlushGatherTest, AMegabyteQueuedIsWrittenWithoutWaitingForTheWindow) {
  auto engine = Open(/*gather_us=*/60'000'000);
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Put("small", Bytes(MakeValue("small", 1, 4096)), {}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(engine->Put("large", Bytes(MakeValue("large", 1, 1 * kMiB)), {}).ok());
  const auto deadline = std::chrono::steady_clock::now() + kPromptly;
  while (engine->Stats().dirty_objects > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(engine->Stats().dirty_objects, 0u) << "the flusher waited with a megabyte queued";
}

}  // namespace
}  // namespace ctxstore::engine
