// CompletionPool: every submitted id comes back exactly once, the eventfd
// is readable while completions wait, Close refuses new jobs but runs the
// queued ones. Run in the TSan pass like every unit test.
#include "common/completion_pool.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace ctxstore {
namespace {

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

// Drains until `want` ids came back, waiting on the eventfd as an event
// loop does.
std::vector<uint64_t> DrainUntil(CompletionPool& pool, size_t want) {
  std::vector<uint64_t> got;
  while (got.size() < want) {
    if (!Readable(pool.event_fd(), 10000)) break;
    for (uint64_t id : pool.TakeCompleted()) got.push_back(id);
  }
  return got;
}

TEST(CompletionPoolTest, RejectsThreadCountsOutOfRange) {
  EXPECT_EQ(CompletionPool::Create(0, "t").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(CompletionPool::Create(CompletionPool::kMaxThreads + 1, "t").status().code(),
            StatusCode::kInvalid);
}

TEST(CompletionPoolTest, EveryIdFromManySubmittersComesBackOnce) {
  auto pool = CompletionPool::Create(4, "cp-test").value();
  std::atomic<uint64_t> ran{0};
  constexpr int kSubmitters = 4;
  constexpr int kPerSubmitter = 2000;
  std::vector<std::thread> submitters;
  for (int s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      for (int i = 0; i < kPerSubmitter; ++i) {
        ASSERT_TRUE(pool->Submit(uint64_t(s) * kPerSubmitter + i, [&ran] { ++ran; }));
      }
    });
  }
  for (auto& t : submitters) t.join();
  const std::vector<uint64_t> got = DrainUntil(*pool, kSubmitters * kPerSubmitter);
  ASSERT_EQ(got.size(), size_t{kSubmitters * kPerSubmitter});
  EXPECT_EQ(std::set<uint64_t>(got.begin(), got.end()).size(), got.size());
  EXPECT_EQ(ran.load(), got.size());
  EXPECT_EQ(pool->outstanding(), 0u);
}

TEST(CompletionPoolTest, EventFdReadableExactlyWhileCompletionsWait) {
  auto pool = CompletionPool::Create(2, "cp-test").value();
  EXPECT_FALSE(Readable(pool->event_fd(), 0));
  std::atomic<bool> release{false};
  ASSERT_TRUE(pool->Submit(7, [&release] {
    while (!release) std::this_thread::yield();
  }));
  EXPECT_FALSE(Readable(pool->event_fd(), 50)) << "readable before the job returned";
  EXPECT_EQ(pool->outstanding(), 1u);
  release = true;
  ASSERT_TRUE(Readable(pool->event_fd(), 10000));
  EXPECT_EQ(pool->TakeCompleted(), std::vector<uint64_t>{7});
  EXPECT_FALSE(Readable(pool->event_fd(), 0));
  EXPECT_TRUE(pool->TakeCompleted().empty());
}

TEST(CompletionPoolTest, CloseRefusesNewJobsAndRunsQueuedOnes) {
  auto pool = CompletionPool::Create(1, "cp-test").value();
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool->Submit(1, [&] {
    while (!release) std::this_thread::yield();
    ++ran;
  }));
  for (uint64_t id = 2; id <= 5; ++id) ASSERT_TRUE(pool->Submit(id, [&ran] { ++ran; }));
  pool->Close();
  EXPECT_FALSE(pool->Submit(6, [&ran] { ++ran; }));
  release = true;
  pool->Join();
  EXPECT_EQ(ran.load(), 5);
  EXPECT_EQ(pool->TakeCompleted(), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(CompletionPoolTest, JobCapturesAreDestroyedBeforeTheIdIsReported) {
  auto pool = CompletionPool::Create(1, "cp-test").value();
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  ASSERT_TRUE(pool->Submit(9, [held = std::move(token)] { (void)held; }));
  ASSERT_EQ(DrainUntil(*pool, 1), std::vector<uint64_t>{9});
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace ctxstore
