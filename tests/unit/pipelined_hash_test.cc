// PipelinedHasher: the hash is XXH3-64 of the destination as copied, for
// every size around the thresholds, from many threads at once (the helper
// taken by one copy, the others inline); run in the TSan pass like every
// unit test.
#include "common/pipelined_hash.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

#include "common/hash.h"

namespace ctxstore {
namespace {

std::vector<uint8_t> Random(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(PipelinedHashTest, HashIsOfTheCopyAtEverySize) {
  PipelinedHasher hasher;
  const uint64_t piece = PipelinedHasher::kPieceBytes;
  const uint64_t min = PipelinedHasher::kMinPipelinedBytes;
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, piece - 1, piece, min - 1, min, min + 1, min + piece,
                     3 * min + 12345}) {
    const std::vector<uint8_t> src = Random(n, static_cast<uint32_t>(n));
    std::vector<uint8_t> dst(n, 0xee);
    const uint64_t h = hasher.CopyAndHash(dst, src);
    EXPECT_EQ(dst, src) << n;
    EXPECT_EQ(h, Xxh3(src.data(), n)) << n;
    EXPECT_EQ(CopyAndHash(dst, src), h) << n;
  }
  EXPECT_GE(hasher.pipelined_copies(), 4u) << "the large copies went to the helper";
}

TEST(PipelinedHashTest, ManyThreadsShareOneHelper) {
  PipelinedHasher hasher;
  constexpr int kThreads = 4;
  constexpr int kCopies = 20;
  std::vector<std::thread> threads;
  std::vector<int> wrong(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::vector<uint8_t> src = Random((2 << 20) + t * 4099, t + 1);
      const uint64_t want = Xxh3(src.data(), src.size());
      std::vector<uint8_t> dst(src.size());
      for (int i = 0; i < kCopies; ++i) {
        if (hasher.CopyAndHash(dst, src) != want || dst != src) ++wrong[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, std::vector<int>(kThreads, 0));
  EXPECT_GE(hasher.pipelined_copies(), 1u);
  EXPECT_LE(hasher.pipelined_copies(), uint64_t{kThreads * kCopies});
}

}  // namespace
}  // namespace ctxstore
