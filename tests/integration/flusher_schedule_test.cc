// The flusher's schedules through the server binary: --sync-interval bounds
// how long an acknowledged asynchronous PUT stays unsynced (STAT's durable
// flag), and --checkpoint-interval writes CHECKPOINT while the server runs,
// so that a kill -9 restarts from it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using testing::Connect;
using testing::PollUntil;
using testing::ServerProcess;
using testing::StopAndReport;
using testing::Stopwatch;

// A 4 s interval, far from the 1 s default: an asynchronous PUT made just
// after a sync is not durable before about 4 s, and is by 4 s plus a margin.
// A server that ignores the flag syncs after 1 s (too early); one that
// forgets the timer never does.
TEST(SyncInterval, BoundsHowLongAnAsyncPutStaysUnsynced) {
  constexpr int64_t kIntervalMs = 4000;
  constexpr int64_t kEarliestMs = 2000;  // well past the default's 1 s, well short of 4 s
  constexpr int64_t kMarginMs = 3000;
  testing::ServerOptions so;
  so.extra_args = {"--sync-interval", std::to_string(kIntervalMs) + "ms", "--checkpoint-interval",
                   "1h"};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());
  auto c = Connect(server);
  ASSERT_NE(c, nullptr);
  // A sync PUT syncs now: the interval counts from here.
  ASSERT_TRUE(c->Put("anchor", "synced", {.sync = true}).ok());
  Stopwatch since_put;
  ASSERT_TRUE(c->Put("async", std::string(10000, 'a')).ok());
  auto durable = [&] {
    auto info = c->Stat("async");
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() && info->durable;
  };
  std::optional<int64_t> durable_after_ms;
  PollUntil(
      [&] {
        if (durable()) durable_after_ms = since_put.ElapsedMs();
        return durable_after_ms.has_value();
      },
      static_cast<int>(kIntervalMs + kMarginMs), 25);
  ASSERT_TRUE(durable_after_ms.has_value())
      << "not durable " << kIntervalMs + kMarginMs << " ms after the PUT";
  EXPECT_GE(*durable_after_ms, kEarliestMs) << "synced long before the interval";
  EXPECT_LE(*durable_after_ms, kIntervalMs + kMarginMs);
  StopAndReport(server);
}

// CHECKPOINT's entry count (u64 at offset 16, after the "CTXK" magic and
// the version); nullopt when there is no valid header.
std::optional<uint64_t> CheckpointEntries(const std::string& data_dir) {
  std::ifstream in(data_dir + "/CHECKPOINT", std::ios::binary);
  char header[64];
  if (!in.read(header, sizeof(header))) return std::nullopt;
  uint32_t magic = 0;
  uint64_t entries = 0;
  std::memcpy(&magic, header, sizeof(magic));
  std::memcpy(&entries, header + 16, sizeof(entries));
  if (magic != 0x4b585443) return std::nullopt;
  return entries;
}

// Every 300 ms a checkpoint of the objects committed so far; a kill -9
// then restarts from it. The default (a minute) would write none within the
// test's bound.
TEST(CheckpointInterval, CheckpointsWhileRunningAndRestartsFromThem) {
  constexpr int kBoundMs = 300 + 5000;
  testing::ServerOptions so;
  so.extra_args = {"--checkpoint-interval", "300ms"};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());
  auto c = Connect(server);
  ASSERT_NE(c, nullptr);
  auto value = [](int i) { return testing::RandomBytes(1000 + 100 * i, static_cast<uint64_t>(i)); };
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(c->Put("cp/" + std::to_string(i), value(i)).ok());
  EXPECT_TRUE(PollUntil([&] { return CheckpointEntries(server.data_dir()) == 40u; }, kBoundMs))
      << "no checkpoint of 40 objects within " << kBoundMs
      << " ms (entries now: " << CheckpointEntries(server.data_dir()).value_or(0) << ")";
  // It advances: 10 deleted, 5 added.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c->Delete("cp/" + std::to_string(i)).ok());
  for (int i = 40; i < 45; ++i) ASSERT_TRUE(c->Put("cp/" + std::to_string(i), value(i)).ok());
  EXPECT_TRUE(PollUntil([&] { return CheckpointEntries(server.data_dir()) == 35u; }, kBoundMs))
      << "the checkpoint did not advance to 35 objects within " << kBoundMs << " ms";

  c.reset();
  server.Kill9();
  ASSERT_TRUE(server.Start()) << server.log();
  c = Connect(server);
  ASSERT_NE(c, nullptr);
  auto stats = testing::StatsOf(*c);
  EXPECT_TRUE(stats["recovered_from_checkpoint"].get<bool>()) << stats.dump();
  EXPECT_EQ(stats["objects"].get<uint64_t>(), 35u) << stats.dump();
  for (int i = 0; i < 45; ++i) {
    auto got = c->Get("cp/" + std::to_string(i));
    if (i < 10) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << i;
      continue;
    }
    ASSERT_TRUE(got.ok()) << i << ": " << got.status().ToString();
    EXPECT_TRUE(*got == value(i)) << i;
  }
  StopAndReport(server);
}

}  // namespace
}  // namespace ctxstore
