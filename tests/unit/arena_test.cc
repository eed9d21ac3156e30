#include "engine/dram/arena.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <vector>

namespace ctxstore::engine {
namespace {

constexpr uint64_t kPage = Arena::kPageSize;

std::unique_ptr<Arena> MakeArena(uint64_t capacity_bytes) {
  auto arena = Arena::Create(capacity_bytes);
  EXPECT_TRUE(arena.ok()) << arena.status().ToString();
  return std::move(arena).value();
}

TEST(ArenaTest, CapacityRoundsUpToPages) {
  auto arena = MakeArena(10 * kPage + 1);
  EXPECT_EQ(arena->capacity_bytes(), 11 * kPage);
  EXPECT_EQ(arena->used_bytes(), 0u);
  EXPECT_EQ(arena->largest_free_bytes(), 11 * kPage);
  EXPECT_EQ(Arena::Create(0).status().code(), StatusCode::kInvalid);
}

TEST(ArenaTest, BackgroundPopulationReachesTheWholeCapacity) {
  auto arena = MakeArena(200 * kPage * 256 + kPage);  // ~200 MiB, not a multiple of the chunk
  uint64_t last = 0;
  for (int i = 0; i < 1000 && arena->populated_bytes() < arena->capacity_bytes(); ++i) {
    const uint64_t now = arena->populated_bytes();
    EXPECT_GE(now, last);  // only grows
    last = now;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(arena->populated_bytes(), arena->capacity_bytes());
  // Blocks are usable whatever the population has reached.
  auto b = arena->Allocate(3 * kPage);
  ASSERT_TRUE(b);
  std::memset(b->data(), 0x5a, b->size());
}

// The populate thread touches every page while values may already be
// landing in them: it must read them, never write. Every page is filled at
// once, before the thread (a few ms per MiB) reaches most of them.
TEST(ArenaTest, PopulationChangesNoByteWrittenBeforeOrDuringIt) {
  auto arena = MakeArena(128 << 20);
  auto block = arena->Allocate(arena->capacity_bytes());
  ASSERT_TRUE(block);
  for (uint64_t off = 0; off < block->size(); off += kPage) {
    std::memset(block->data() + off, static_cast<int>(0x11 + off / kPage % 200), kPage);
  }
  for (int i = 0; i < 2000 && arena->populated_bytes() < arena->capacity_bytes(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(arena->populated_bytes(), arena->capacity_bytes());
  uint64_t changed_pages = 0;
  for (uint64_t off = 0; off < block->size(); off += kPage) {
    const uint8_t want = static_cast<uint8_t>(0x11 + off / kPage % 200);
    const uint8_t* page = block->data() + off;
    if (page[0] != want || page[kPage - 1] != want) ++changed_pages;
  }
  EXPECT_EQ(changed_pages, 0u);
}

TEST(ArenaTest, BlocksArePageAlignedAndRounded) {
  auto arena = MakeArena(16 * kPage);
  auto a = arena->Allocate(1);
  auto b = arena->Allocate(0);
  auto c = arena->Allocate(kPage + 1);
  auto d = arena->Allocate(kPage);
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->size(), kPage);
  EXPECT_EQ(b->size(), kPage);
  EXPECT_EQ(c->size(), 2 * kPage);
  EXPECT_EQ(d->size(), kPage);
  for (const auto& blk : {a, b, c, d}) {
    EXPECT_EQ(blk->offset() % kPage, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(blk->data()) % kPage, 0u);
    EXPECT_EQ(blk->data(), arena->base() + blk->offset());
  }
  EXPECT_EQ(arena->used_bytes(), 5 * kPage);
  a.reset();
  EXPECT_EQ(arena->used_bytes(), 4 * kPage);
}

TEST(ArenaTest, ExhaustionReturnsNull) {
  auto arena = MakeArena(4 * kPage);
  std::vector<std::shared_ptr<ArenaBlock>> blocks;
  for (int i = 0; i < 4; ++i) {
    blocks.push_back(arena->Allocate(kPage));
    ASSERT_TRUE(blocks.back());
  }
  EXPECT_EQ(arena->Allocate(1), nullptr);
  EXPECT_EQ(arena->largest_free_bytes(), 0u);
  blocks.pop_back();
  EXPECT_EQ(arena->Allocate(kPage + 1), nullptr);
  EXPECT_NE(arena->Allocate(kPage), nullptr);
  blocks.clear();
  EXPECT_EQ(arena->Allocate(4 * kPage + 1), nullptr);
  EXPECT_EQ(arena->Allocate(UINT64_MAX), nullptr);
  EXPECT_NE(arena->Allocate(4 * kPage), nullptr);
}

TEST(ArenaTest, CoalescingRestoresFullRun) {
  auto arena = MakeArena(8 * kPage);
  std::vector<std::shared_ptr<ArenaBlock>> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(arena->Allocate(kPage));
  // Free every other page: plenty of free space, none of it contiguous.
  for (int i = 0; i < 8; i += 2) blocks[i].reset();
  EXPECT_EQ(arena->used_bytes(), 4 * kPage);
  EXPECT_EQ(arena->largest_free_bytes(), kPage);
  EXPECT_EQ(arena->Allocate(2 * kPage), nullptr);
  // Freeing the rest merges each page with both free neighbours.
  for (int i : {5, 1, 7, 3}) blocks[i].reset();
  EXPECT_EQ(arena->used_bytes(), 0u);
  EXPECT_EQ(arena->largest_free_bytes(), 8 * kPage);
  auto all = arena->Allocate(8 * kPage);
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->offset(), 0u);
}

TEST(ArenaTest, BestFitPicksSmallestRun) {
  auto arena = MakeArena(8 * kPage);
  auto a = arena->Allocate(3 * kPage);  // [0,3)
  auto b = arena->Allocate(kPage);      // [3,4)
  auto c = arena->Allocate(kPage);      // [4,5)
  auto d = arena->Allocate(3 * kPage);  // [5,8)
  ASSERT_TRUE(a && b && c && d);
  a.reset();  // free run of 3 pages at 0
  c.reset();  // free run of 1 page at 4
  auto e = arena->Allocate(kPage);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->offset(), 4 * kPage);
  auto f = arena->Allocate(2 * kPage);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->offset(), 0u);
  EXPECT_EQ(arena->largest_free_bytes(), kPage);
}

TEST(ArenaTest, RandomizedAgainstModel) {
  constexpr uint64_t kPages = 256;
  auto arena = MakeArena(kPages * kPage);
  std::mt19937_64 rng(12345);
  std::map<uint64_t, std::shared_ptr<ArenaBlock>> live;  // offset -> block
  uint64_t model_used = 0;
  int failures = 0;
  for (int step = 0; step < 20000; ++step) {
    bool allocate = live.empty() || rng() % 100 < 55;
    if (allocate) {
      uint64_t bytes = (rng() % 16) * kPage + rng() % kPage;
      uint64_t rounded = bytes == 0 ? kPage : (bytes + kPage - 1) / kPage * kPage;
      uint64_t largest = arena->largest_free_bytes();
      auto blk = arena->Allocate(bytes);
      if (!blk) {
        // Only refused when no run was large enough.
        EXPECT_LT(largest, rounded);
        ++failures;
        continue;
      }
      ASSERT_GE(largest, rounded);
      ASSERT_EQ(blk->size(), rounded);
      ASSERT_EQ(blk->offset() % kPage, 0u);
      ASSERT_LE(blk->offset() + blk->size(), arena->capacity_bytes());
      // No overlap with the neighbouring live blocks.
      auto next = live.lower_bound(blk->offset());
      if (next != live.end()) {
        ASSERT_LE(blk->offset() + blk->size(), next->first);
      }
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second->size(), blk->offset());
      }
      // Tag the first byte so that a double hand-out would show as a clobber.
      blk->data()[0] = static_cast<uint8_t>(blk->offset() / kPage);
      model_used += blk->size();
      live.emplace(blk->offset(), std::move(blk));
    } else {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      ASSERT_EQ(it->second->data()[0], static_cast<uint8_t>(it->first / kPage));
      model_used -= it->second->size();
      live.erase(it);
    }
    ASSERT_EQ(arena->used_bytes(), model_used);
  }
  EXPECT_GT(failures, 0);  // the test reached exhaustion at least sometimes
  live.clear();
  EXPECT_EQ(arena->used_bytes(), 0u);
  EXPECT_EQ(arena->largest_free_bytes(), arena->capacity_bytes());
}

TEST(ArenaTest, ConcurrentAllocateAndFree) {
  auto arena = MakeArena(64 * kPage);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&arena, t] {
      std::mt19937_64 rng(t);
      std::vector<std::shared_ptr<ArenaBlock>> mine;
      for (int i = 0; i < 5000; ++i) {
        if (mine.size() < 4 && rng() % 2 == 0) {
          auto blk = arena->Allocate((rng() % 4 + 1) * kPage);
          if (blk) {
            std::memset(blk->data(), t, blk->size());
            mine.push_back(std::move(blk));
          }
        } else if (!mine.empty()) {
          auto& blk = mine.back();
          for (uint64_t j = 0; j < blk->size(); j += 512) ASSERT_EQ(blk->data()[j], t);
          mine.pop_back();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(arena->used_bytes(), 0u);
  EXPECT_EQ(arena->largest_free_bytes(), arena->capacity_bytes());
}

TEST(ArenaTest, MemfdSharesTheMapping) {
  auto arena = MakeArena(4 * kPage);
  ASSERT_GE(arena->memfd(), 0);
  auto a = arena->Allocate(kPage);
  auto b = arena->Allocate(2 * kPage);
  ASSERT_TRUE(a && b);
  for (uint64_t i = 0; i < b->size(); ++i) b->data()[i] = static_cast<uint8_t>(i * 7 + 3);

  std::vector<uint8_t> back(b->size());
  ASSERT_EQ(::pread(arena->memfd(), back.data(), back.size(), static_cast<off_t>(b->offset())),
            static_cast<ssize_t>(back.size()));
  EXPECT_EQ(std::memcmp(back.data(), b->data(), back.size()), 0);

  // And the other way: writes through the fd show up in the mapping.
  const char msg[] = "through the memfd";
  ASSERT_EQ(::pwrite(arena->memfd(), msg, sizeof(msg), static_cast<off_t>(a->offset())),
            static_cast<ssize_t>(sizeof(msg)));
  EXPECT_EQ(std::memcmp(a->data(), msg, sizeof(msg)), 0);
}

TEST(ArenaTest, EntryReferencesKeepBlocksUntilTheLastOneGoes) {
  auto arena = MakeArena(8 * kPage);
  auto blk = arena->Allocate(2 * kPage);
  ASSERT_NE(blk, nullptr);
  std::memset(blk->data(), 0x5a, 2 * kPage);
  DramRef ref = arena->Adopt(*blk);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref.pages, 2u);
  EXPECT_EQ(arena->data(ref), blk->data());
  blk.reset();  // the entry's reference alone keeps it
  EXPECT_EQ(arena->used_bytes(), 2 * kPage);

  auto reader = arena->Share(ref);  // a reply in flight
  EXPECT_EQ(reader->data()[kPage], 0x5a);
  arena->Release(ref);  // the entry is evicted meanwhile
  EXPECT_FALSE(ref);
  EXPECT_EQ(arena->used_bytes(), 2 * kPage);  // the reader still sends from it
  reader.reset();
  EXPECT_EQ(arena->used_bytes(), 0u);
  EXPECT_EQ(arena->largest_free_bytes(), 8 * kPage);
}

TEST(ArenaDeathTest, ReleasingAnEntryReferenceTwiceAborts) {
  EXPECT_DEATH(
      {
        auto arena = MakeArena(4 * kPage);
        DramRef ref = arena->Adopt(*arena->Allocate(kPage));
        DramRef copy = ref;
        arena->Release(ref);
        arena->Release(copy);
      },
      "arena invariant");
}

TEST(ArenaDeathTest, DoubleFreeAborts) {
  EXPECT_DEATH(
      {
        auto arena = MakeArena(4 * kPage);
        auto blk = arena->Allocate(kPage);
        // A second owner of the same range frees it early; blk then frees it again.
        { ArenaBlock alias(arena.get(), blk->offset(), blk->size()); }
        blk.reset();
      },
      "arena invariant");
}

TEST(ArenaDeathTest, FreeOfUnallocatedRangeAborts) {
  EXPECT_DEATH(
      {
        auto arena = MakeArena(4 * kPage);
        auto blk = arena->Allocate(kPage);
        // Overlaps the free run after blk: never handed out.
        ArenaBlock bogus(arena.get(), blk->offset(), 2 * kPage);
      },
      "arena invariant");
}

}  // namespace
}  // namespace ctxstore::engine
