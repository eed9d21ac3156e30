// The engine through its public API: put/get/delete semantics, limits, the
// DRAM tier (LRU eviction, promotion from flash), flash reclaim, and
// thread-safety. Recovery and corruption are in recovery_test.cc; faults and
// crashes in tests/fault.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <latch>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../engine_test_util.h"
#include "common/units.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::GetNotFound;
using test_util::MakeValue;
using test_util::TempDir;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  EngineOptions Options() const {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 16 * kMiB;
    o.disk_bytes = 64 * kMiB;
    o.segment_bytes = 2 * kMiB;
    o.space_wait_ms = 5000;
    return o;
  }

  static std::unique_ptr<Engine> OpenOrNull(const EngineOptions& o) {
    return test_util::OpenOrNull(o);
  }

  TempDir dir_;
};

std::string Key(int i) {
  return "key-" + std::to_string(i);
}

TEST_F(EngineTest, OpenRejectsTooSmallSizes) {
  EngineOptions o = Options();
  o.memory_bytes = 4096;
  EXPECT_EQ(Engine::Open(o).status().code(), StatusCode::kInvalid);
  o = Options();
  o.disk_bytes = 4 * kMiB - 1;
  EXPECT_EQ(Engine::Open(o).status().code(), StatusCode::kInvalid);
}

TEST_F(EngineTest, OpenClampsMaxValueToMemoryAndHalfTheDisk) {
  struct Case {
    uint64_t memory, disk, max_value, want;
  };
  const Case cases[] = {
      {8 * kMiB, 64 * kMiB, 256 * kMiB, 8 * kMiB},    // memory bound
      {32 * kMiB, 32 * kMiB, 256 * kMiB, 16 * kMiB},  // half the disk
      {32 * kMiB, 64 * kMiB, 1 * kMiB, 1 * kMiB},     // already below both
  };
  int n = 0;
  for (const Case& c : cases) {
    EngineOptions o = Options();
    o.data_dir = dir_.path() + "/clamp" + std::to_string(n++);
    o.memory_bytes = c.memory;
    o.disk_bytes = c.disk;
    o.max_value_bytes = c.max_value;
    auto engine = OpenOrNull(o);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->options().max_value_bytes, c.want);
    // The limit is enforced at exactly that size.
    EXPECT_EQ(engine->BeginPut("k", c.want + 1, {}).status().code(), StatusCode::kTooLarge);
  }
}

TEST_F(EngineTest, DefaultSegmentSizeIsASixteenthOfTheDisk) {
  EngineOptions o = Options();
  o.segment_bytes = 0;
  o.disk_bytes = 64 * kMiB;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->options().segment_bytes, 4 * kMiB);
}

TEST_F(EngineTest, KeysAreOneTo512Bytes) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  auto v = MakeValue("x", 1, 100);
  EXPECT_EQ(engine->Put("", Bytes(v), {}).code(), StatusCode::kInvalid);
  EXPECT_EQ(engine->Put(std::string(513, 'k'), Bytes(v), {}).code(), StatusCode::kInvalid);
  const std::string longest(512, 'k');
  ASSERT_TRUE(engine->Put(longest, Bytes(v), {.sync = true}).ok());
  ASSERT_TRUE(engine->Put("a", Bytes(v), {}).ok());
  EXPECT_TRUE(GetEquals(*engine, longest, v));
  EXPECT_TRUE(GetEquals(*engine, "a", v));
  // Binary keys are fine.
  const std::string binary("\0\xff\n k", 5);
  ASSERT_TRUE(engine->Put(binary, Bytes(v), {}).ok());
  EXPECT_TRUE(GetEquals(*engine, binary, v));
  EXPECT_EQ(engine->Stats().objects, 3u);
}

TEST_F(EngineTest, ValuesUpToTheLimitAreStoredExactly) {
  EngineOptions o = Options();
  o.memory_bytes = 8 * kMiB;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  const uint64_t max = engine->options().max_value_bytes;
  ASSERT_EQ(max, 8 * kMiB);

  auto too_big = MakeValue("big", 0, max + 1);
  EXPECT_EQ(engine->Put("big", Bytes(too_big), {}).code(), StatusCode::kTooLarge);
  EXPECT_TRUE(GetNotFound(*engine, "big"));

  // A value as large as the whole DRAM tier goes through, and to flash.
  auto biggest = MakeValue("big", 1, max);
  ASSERT_TRUE(engine->Put("big", Bytes(biggest), {.sync = true}).ok());
  EXPECT_TRUE(GetEquals(*engine, "big", biggest));

  // Sizes around the packed/unpacked boundary and odd lengths.
  const size_t sizes[] = {0,
                          1,
                          7,
                          4096 - 80 - 5,
                          4096 - 80 - 4,
                          4096,
                          60 * 1024,
                          64 * 1024,
                          64 * 1024 + 1,
                          200 * 1024 + 3,
                          1024 * 1024 + 17};
  int i = 0;
  for (size_t size : sizes) {
    auto v = MakeValue(Key(i), 0, size);
    ASSERT_TRUE(engine->Put(Key(i), Bytes(v), {.sync = (i % 2 == 0)}).ok()) << size;
    EXPECT_TRUE(GetEquals(*engine, Key(i), v)) << size;
    auto len = test_util::Exists(*engine, Key(i));
    ASSERT_TRUE(len.ok());
    EXPECT_EQ(*len, size);
    ++i;
  }
}

TEST_F(EngineTest, EmptyValue) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Put("empty", {}, {.sync = true}).ok());
  auto got = test_util::Get(*engine, "empty");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size, 0u);
  auto len = test_util::Exists(*engine, "empty");
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 0u);
  EXPECT_EQ(engine->Put("empty", {}, {}).code(), StatusCode::kExists);
}

TEST_F(EngineTest, PutIsPutIfAbsent) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  auto v1 = MakeValue("k", 1, 1000);
  auto v2 = MakeValue("k", 2, 2000);
  ASSERT_TRUE(engine->Put("k", Bytes(v1), {}).ok());
  EXPECT_EQ(engine->Put("k", Bytes(v2), {}).code(), StatusCode::kExists);
  EXPECT_EQ(engine->Put("k", Bytes(v2), {.sync = true}).code(), StatusCode::kExists);
  EXPECT_TRUE(GetEquals(*engine, "k", v1));
  // Still refused once the first value is on flash.
  ASSERT_TRUE(engine->Flush().ok());
  EXPECT_EQ(engine->Put("k", Bytes(v2), {}).code(), StatusCode::kExists);
  EXPECT_EQ(engine->BeginPut("k", v2.size(), {}).status().code(), StatusCode::kExists);
  EXPECT_TRUE(GetEquals(*engine, "k", v1));
  EXPECT_EQ(engine->Stats().puts, 1u);
  EXPECT_EQ(engine->Stats().objects, 1u);
}

TEST_F(EngineTest, OverwriteReplacesTheValue) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  auto v1 = MakeValue("k", 1, 300 * 1024);
  auto v2 = MakeValue("k", 2, 10);
  auto v3 = MakeValue("k", 3, 100 * 1024);
  ASSERT_TRUE(engine->Put("k", Bytes(v1), {}).ok());
  ASSERT_TRUE(engine->Put("k", Bytes(v2), {.overwrite = true}).ok());
  EXPECT_TRUE(GetEquals(*engine, "k", v2));
  EXPECT_EQ(*test_util::Exists(*engine, "k"), v2.size());
  ASSERT_TRUE(engine->Flush().ok());
  ASSERT_TRUE(engine->Put("k", Bytes(v3), {.sync = true, .overwrite = true}).ok());
  EXPECT_TRUE(GetEquals(*engine, "k", v3));
  EXPECT_EQ(*test_util::Exists(*engine, "k"), v3.size());
  // Overwrite of an absent key is a plain put.
  ASSERT_TRUE(engine->Put("other", Bytes(v1), {.overwrite = true}).ok());
  EXPECT_TRUE(GetEquals(*engine, "other", v1));
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.objects, 2u);
  EXPECT_EQ(s.puts, 4u);
}

TEST_F(EngineTest, HeldValueSurvivesOverwriteAndEviction) {
  EngineOptions o = Options();
  o.memory_bytes = 4 * kMiB;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  auto v1 = MakeValue("k", 1, 1 * kMiB);
  ASSERT_TRUE(engine->Put("k", Bytes(v1), {}).ok());
  auto held = test_util::Get(*engine, "k");
  ASSERT_TRUE(held.ok());
  auto v2 = MakeValue("k", 2, 1 * kMiB);
  ASSERT_TRUE(engine->Put("k", Bytes(v2), {.overwrite = true}).ok());
  // Churn the DRAM tier so that every free page is reused.
  for (int i = 0; i < 12; ++i) {
    auto v = MakeValue(Key(i), 0, 512 * 1024);
    ASSERT_TRUE(engine->Put(Key(i), Bytes(v), {}).ok());
  }
  ASSERT_TRUE(engine->Flush().ok());
  EXPECT_TRUE(test_util::SameBytes(*held, v1));
  EXPECT_TRUE(GetEquals(*engine, "k", v2));
}

TEST_F(EngineTest, DeleteRemovesTheKey) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  auto v = MakeValue("k", 1, 5000);
  EXPECT_EQ(test_util::Delete(*engine, "k", false).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine->Put("k", Bytes(v), {}).ok());
  ASSERT_TRUE(engine->Put("j", Bytes(v), {}).ok());
  EXPECT_TRUE(test_util::Delete(*engine, "k", false).ok());
  EXPECT_TRUE(GetNotFound(*engine, "k"));
  EXPECT_EQ(test_util::Exists(*engine, "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(test_util::Delete(*engine, "k", true).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine->Flush().ok());
  EXPECT_TRUE(test_util::Delete(*engine, "j", true).ok());
  EXPECT_TRUE(GetNotFound(*engine, "j"));
  // A deleted key can be put again, with put-if-absent semantics.
  auto v2 = MakeValue("k", 2, 77);
  ASSERT_TRUE(engine->Put("k", Bytes(v2), {}).ok());
  EXPECT_TRUE(GetEquals(*engine, "k", v2));
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.deletes, 2u);
  EXPECT_EQ(s.objects, 1u);
}

TEST_F(EngineTest, ExistsReturnsTheValueLength) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(test_util::Exists(*engine, "nope").status().code(), StatusCode::kNotFound);
  for (uint64_t len : {0ull, 1ull, 4095ull, 70000ull, 3000000ull}) {
    const std::string key = "len-" + std::to_string(len);
    ASSERT_TRUE(engine->Put(key, Bytes(MakeValue(key, 0, len)), {}).ok());
    auto got = test_util::Exists(*engine, key);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, len);
  }
  // Exists does not count as a lookup miss or hit.
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.hits_dram + s.hits_flash + s.misses, 0u);
}

TEST_F(EngineTest, MatchPrefixCountsLeadingPresentKeys) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  for (const char* k : {"a", "b", "d", "e"}) {
    ASSERT_TRUE(engine->Put(k, Bytes(MakeValue(k, 0, 10)), {}).ok());
  }
  auto match = [&](std::vector<std::string_view> keys) {
    return test_util::MatchPrefix(*engine, keys);
  };
  EXPECT_EQ(match({}), 0u);
  EXPECT_EQ(match({"a"}), 1u);
  EXPECT_EQ(match({"a", "b"}), 2u);
  EXPECT_EQ(match({"a", "b", "c", "d", "e"}), 2u);  // stops at the first gap
  EXPECT_EQ(match({"c", "a", "b"}), 0u);
  EXPECT_EQ(match({"e", "d", "b", "a"}), 4u);
  EXPECT_EQ(match({"a", "a", "a"}), 3u);
  ASSERT_TRUE(test_util::Delete(*engine, "b", false).ok());
  EXPECT_EQ(match({"a", "b", "d"}), 1u);
  // Keys only on flash count too.
  ASSERT_TRUE(engine->Close().ok());
  engine.reset();
  engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().dram_objects, 0u);
  EXPECT_EQ(match({"a", "d", "e", "b"}), 3u);
}

TEST_F(EngineTest, ReservationsCommitWithPutIfAbsentSemantics) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  auto v1 = MakeValue("k", 1, 100 * 1024);
  auto v2 = MakeValue("k", 2, 50 * 1024);
  // Two reservations race for one key: the first commit wins.
  auto r1 = engine->BeginPut("k", v1.size(), {.sync = true});
  auto r2 = engine->BeginPut("k", v2.size(), {});
  ASSERT_TRUE(r1.ok() && r2.ok());
  ASSERT_EQ(r1->buffer().size(), v1.size());
  std::memcpy(r1->buffer().data(), v1.data(), v1.size());
  std::memcpy(r2->buffer().data(), v2.data(), v2.size());
  std::promise<Status> durable;
  auto fut = durable.get_future();
  ASSERT_TRUE(engine->CommitPut(std::move(*r1), [&](Status st) { durable.set_value(st); }).ok());
  EXPECT_TRUE(fut.get().ok());
  EXPECT_EQ(engine->CommitPut(std::move(*r2), nullptr).code(), StatusCode::kExists);
  EXPECT_TRUE(GetEquals(*engine, "k", v1));
  // With overwrite the later commit replaces.
  auto r3 = engine->BeginPut("k", v2.size(), {.overwrite = true});
  ASSERT_TRUE(r3.ok());
  std::memcpy(r3->buffer().data(), v2.data(), v2.size());
  ASSERT_TRUE(engine->CommitPut(std::move(*r3), nullptr).ok());
  EXPECT_TRUE(GetEquals(*engine, "k", v2));
  // A dropped reservation leaves nothing behind (its block returns to the arena).
  {
    auto r4 = engine->BeginPut("never", 1 * kMiB, {});
    ASSERT_TRUE(r4.ok());
  }
  EXPECT_TRUE(GetNotFound(*engine, "never"));
  ASSERT_TRUE(engine->Flush().ok());
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.objects, 1u);
  EXPECT_LT(s.dram_bytes, 1 * kMiB);
}

TEST_F(EngineTest, ConcurrentPutsOfOneKeyHaveExactlyOneWinner) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  constexpr int kThreads = 12;
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "race-" + std::to_string(round);
    std::vector<Status> results(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto v = MakeValue(key, t, 1000 + t * 3000);
        start.arrive_and_wait();
        results[t] = engine->Put(key, Bytes(v), {.sync = (t % 3 == 0)});
      });
    }
    for (auto& th : threads) th.join();
    int winners = 0, winner = -1;
    for (int t = 0; t < kThreads; ++t) {
      if (results[t].ok()) {
        ++winners;
        winner = t;
      } else {
        EXPECT_EQ(results[t].code(), StatusCode::kExists) << results[t].ToString();
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    EXPECT_TRUE(GetEquals(*engine, key, MakeValue(key, winner, 1000 + winner * 3000)));
  }
  EXPECT_EQ(engine->Stats().puts, static_cast<uint64_t>(kRounds));
}

// Writers overwrite keys with values whose bytes all equal a per-version
// byte; readers check every value they get is uniform and of the length
// that byte implies. Small DRAM so that reads also come from flash.
TEST_F(EngineTest, ReadersNeverSeePartialValues) {
  EngineOptions o = Options();
  o.memory_bytes = 2 * kMiB;  // the live values need about twice that
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  auto len_for = [](uint8_t b) -> size_t { return 1 + static_cast<size_t>(b) * 1531; };
  constexpr int kKeys = 12;
  constexpr int kWriters = 3;
  constexpr int kReaders = 4;
  constexpr int kWritesPerWriter = 250;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0}, bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      for (int i = 0; i < kWritesPerWriter; ++i) {
        uint8_t b = static_cast<uint8_t>(1 + rng() % 255);
        std::vector<uint8_t> v(len_for(b), b);
        Status st = engine->Put(Key(static_cast<int>(rng() % kKeys)), Bytes(v),
                                {.sync = (i % 10 == 0), .overwrite = true});
        if (!st.ok()) {
          ADD_FAILURE() << "put failed: " << st.ToString();
          break;
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(100 + r);
      while (!done.load()) {
        auto got = test_util::Get(*engine, Key(static_cast<int>(rng() % kKeys)));
        if (!got.ok()) {
          if (got.status().code() != StatusCode::kNotFound) {
            ADD_FAILURE() << "get failed: " << got.status().ToString();
            bad.fetch_add(1);
          }
          continue;
        }
        reads.fetch_add(1);
        const uint8_t* p = got->data;
        bool good = got->size > 0 && got->size == len_for(p[0]);
        for (uint64_t i = 0; good && i < got->size; ++i) good = p[i] == p[0];
        if (!good) bad.fetch_add(1);
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(engine->Stats().evictions_dram, 0u);
}

// DRAM: 8 MiB = exactly 16 values of 512 KiB.
class DramTierTest : public EngineTest {
 protected:
  static constexpr size_t kValueBytes = 512 * 1024;

  EngineOptions DramOptions() const {
    EngineOptions o = Options();
    o.memory_bytes = 8 * kMiB;
    o.disk_bytes = 128 * kMiB;
    o.segment_bytes = 4 * kMiB;
    return o;
  }
  static std::vector<uint8_t> Value(int i) { return MakeValue(Key(i), 0, kValueBytes); }
  static void PutRange(Engine& engine, int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(engine.Put(Key(i), Bytes(Value(i)), {}).ok());
  }
};

TEST_F(DramTierTest, LruEvictionKeepsRecentlyUsedObjectsResident) {
  auto engine = OpenOrNull(DramOptions());
  ASSERT_NE(engine, nullptr);
  PutRange(*engine, 0, 12);
  ASSERT_TRUE(engine->Flush().ok());  // clean, hence evictable, in put order
  EXPECT_EQ(engine->Stats().dram_objects, 12u);
  EXPECT_EQ(engine->Stats().evictions_dram, 0u);
  // Touch the least recently used object: it must not be the next victim.
  EXPECT_TRUE(GetEquals(*engine, Key(0), Value(0)));
  PutRange(*engine, 12, 20);  // 4 free slots, then 4 evictions
  ASSERT_TRUE(engine->Flush().ok());
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.evictions_dram, 4u);
  EXPECT_EQ(s.dram_objects, 16u);
  EXPECT_EQ(s.objects, 20u);
  EXPECT_EQ(s.hits_flash, 0u);
  // Everything except the 4 least recently used (1..4) is still in DRAM.
  for (int i : {0, 5, 6, 11, 12, 19}) EXPECT_TRUE(GetEquals(*engine, Key(i), Value(i))) << i;
  s = engine->Stats();
  EXPECT_EQ(s.hits_flash, 0u);
  EXPECT_EQ(s.hits_dram, 7u);
}

TEST_F(DramTierTest, EvictedObjectIsReadFromFlashAndPromoted) {
  auto engine = OpenOrNull(DramOptions());
  ASSERT_NE(engine, nullptr);
  PutRange(*engine, 0, 24);
  ASSERT_TRUE(engine->Flush().ok());
  EngineStats s = engine->Stats();
  EXPECT_GE(s.evictions_dram, 8u);
  EXPECT_EQ(s.objects, 24u);
  EXPECT_EQ(s.flash_objects, 24u);
  EXPECT_EQ(s.dirty_objects, 0u);
  // Key 0 was the first put, so the first evicted.
  EXPECT_TRUE(GetEquals(*engine, Key(0), Value(0)));
  s = engine->Stats();
  EXPECT_EQ(s.hits_flash, 1u);
  EXPECT_EQ(s.hits_dram, 0u);
  // Promoted: the next read is a DRAM hit.
  EXPECT_TRUE(GetEquals(*engine, Key(0), Value(0)));
  s = engine->Stats();
  EXPECT_EQ(s.hits_flash, 1u);
  EXPECT_EQ(s.hits_dram, 1u);
  // Every object stays readable, byte-exact, whichever tier it is in.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 24; ++i) EXPECT_TRUE(GetEquals(*engine, Key(i), Value(i))) << i;
  }
  s = engine->Stats();
  EXPECT_EQ(s.hits_flash + s.hits_dram, 50u);
  EXPECT_GT(s.hits_flash, 8u);
  EXPECT_LE(s.dram_bytes, s.dram_capacity_bytes);
  EXPECT_EQ(s.corrupt_reads, 0u);
}

TEST_F(EngineTest, FullFlashReclaimsTheOldestSegments) {
  EngineOptions o = Options();
  o.memory_bytes = 8 * kMiB;
  o.disk_bytes = 32 * kMiB;
  o.segment_bytes = 2 * kMiB;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  constexpr int kObjects = 200;  // 200 x 256 KiB = 50 MiB through 32 MiB of flash
  auto value = [](int i) { return MakeValue(Key(i), 0, 256 * 1024); };
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_TRUE(engine->Put(Key(i), Bytes(value(i)), {.sync = (i % 25 == 0)}).ok()) << i;
    if (i % 20 == 19) {
      ASSERT_TRUE(engine->Flush().ok());
    }
    ASSERT_LE(engine->Stats().flash_bytes, o.disk_bytes);
  }
  ASSERT_TRUE(engine->Flush().ok());
  EngineStats s = engine->Stats();
  EXPECT_GT(s.reclaimed_segments, 0u);
  EXPECT_GT(s.reclaimed_objects, 0u);
  EXPECT_LE(s.flash_bytes, o.disk_bytes);
  EXPECT_LE(test_util::TotalSegmentBytes(o.data_dir), o.disk_bytes);
  EXPECT_LT(s.objects, static_cast<uint64_t>(kObjects));
  EXPECT_EQ(s.objects, static_cast<uint64_t>(kObjects) - s.reclaimed_objects);
  // The oldest are gone, the newest remain, and what remains is a suffix of
  // the put order (reclaim is FIFO) with exact bytes.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(GetNotFound(*engine, Key(i))) << i;
  int first_present = -1;
  for (int i = 0; i < kObjects; ++i) {
    auto got = test_util::Get(*engine, Key(i));
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
      EXPECT_EQ(first_present, -1) << "key " << i << " missing after present key " << first_present;
      continue;
    }
    if (first_present < 0) first_present = i;
    EXPECT_TRUE(test_util::SameBytes(*got, value(i))) << i;
  }
  EXPECT_GT(first_present, 0);
  EXPECT_LT(first_present, kObjects - 60);  // well over 16 MiB is kept
  EXPECT_EQ(test_util::Exists(*engine, Key(0)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine->Stats().objects, static_cast<uint64_t>(kObjects - first_present));
}

TEST_F(EngineTest, FlashStaysWithinBudgetForRecordsLargerThanASegment) {
  EngineOptions o = Options();
  o.memory_bytes = 8 * kMiB;
  o.disk_bytes = 24 * kMiB;
  o.segment_bytes = 1 * kMiB;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  for (int i = 0; i < 20; ++i) {
    auto v = MakeValue(Key(i), 0, (i % 3 + 1) * 1536 * 1024);  // 1.5 to 4.5 MiB
    ASSERT_TRUE(engine->Put(Key(i), Bytes(v), {.sync = true}).ok()) << i;
    EXPECT_TRUE(GetEquals(*engine, Key(i), v));
    EXPECT_LE(engine->Stats().flash_bytes, o.disk_bytes);
    EXPECT_LE(test_util::TotalSegmentBytes(o.data_dir), o.disk_bytes);
  }
  EXPECT_GT(engine->Stats().reclaimed_segments, 0u);
}

// Values carry their version in the first 8 bytes and are otherwise
// MakeValue(key, version), so any read can be checked on its own.
std::vector<uint8_t> SelfCheckingValue(const std::string& key, uint64_t version) {
  size_t len = 8 + static_cast<size_t>((version * 2654435761u) % (80 * 1024));
  std::vector<uint8_t> v = MakeValue(key, version, len);
  std::memcpy(v.data(), &version, 8);
  return v;
}

bool CheckSelfCheckingValue(const std::string& key, const ValueRef& ref) {
  if (ref.size < 8) return false;
  uint64_t version = 0;
  std::memcpy(&version, ref.data, 8);
  return test_util::SameBytes(ref, SelfCheckingValue(key, version));
}

TEST_F(EngineTest, MixedConcurrentOperationsStayConsistent) {
  EngineOptions o = Options();
  o.memory_bytes = 4 * kMiB;  // evictions and flash reads
  o.disk_bytes = 48 * kMiB;   // and some reclaim
  o.segment_bytes = 2 * kMiB;
  o.sync_interval_ms = 20;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 1500;
  constexpr int kKeys = 48;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(Key(i));
  std::atomic<uint64_t> failures{0};
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) < 10) ADD_FAILURE() << what;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + t);
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string& key = keys[rng() % kKeys];
        const uint64_t version = (static_cast<uint64_t>(t) << 32) | static_cast<uint64_t>(i);
        const int op = static_cast<int>(rng() % 100);
        if (op < 30) {
          auto got = test_util::Get(*engine, key);
          if (got.ok()) {
            if (!CheckSelfCheckingValue(key, *got)) fail("bad value for " + key);
          } else if (got.status().code() != StatusCode::kNotFound) {
            fail("get: " + got.status().ToString());
          }
        } else if (op < 55) {
          Status st = engine->Put(key, Bytes(SelfCheckingValue(key, version)),
                                  {.sync = op < 33, .overwrite = true});
          if (!st.ok()) fail("overwrite: " + st.ToString());
        } else if (op < 67) {
          Status st = engine->Put(key, Bytes(SelfCheckingValue(key, version)), {});
          if (!st.ok() && st.code() != StatusCode::kExists) fail("put: " + st.ToString());
        } else if (op < 77) {
          Status st = test_util::Delete(*engine, key, op < 70);
          if (!st.ok() && st.code() != StatusCode::kNotFound) fail("delete: " + st.ToString());
        } else if (op < 87) {
          auto len = test_util::Exists(*engine, key);
          if (!len.ok() && len.status().code() != StatusCode::kNotFound) {
            fail("exists: " + len.status().ToString());
          }
          if (len.ok() && (*len < 8 || *len > 8 + 80 * 1024)) fail("exists: bad length");
        } else if (op < 97) {
          size_t start = rng() % kKeys;
          size_t n = rng() % 8;
          std::vector<std::string_view> run;
          for (size_t j = 0; j < n; ++j) run.push_back(keys[(start + j) % kKeys]);
          if (test_util::MatchPrefix(*engine, run) > n) fail("match_prefix over the key count");
        } else if (op < 99) {
          Status st = engine->Flush();
          if (!st.ok()) fail("flush: " + st.ToString());
        } else {
          (void)engine->Stats();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0u);
  ASSERT_TRUE(engine->Flush().ok());

  // Quiescent: every view of the index agrees.
  std::map<std::string, std::vector<uint8_t>> present;
  for (const std::string& key : keys) {
    auto got = test_util::Get(*engine, key);
    auto len = test_util::Exists(*engine, key);
    ASSERT_EQ(got.ok(), len.ok()) << key;
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
      continue;
    }
    EXPECT_TRUE(CheckSelfCheckingValue(key, *got)) << key;
    EXPECT_EQ(*len, got->size);
    present[key].assign(got->data, got->data + got->size);
  }
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.objects, present.size());
  EXPECT_EQ(s.dirty_objects, 0u);
  EXPECT_LE(s.flash_bytes, o.disk_bytes);
  std::vector<std::string_view> all(keys.begin(), keys.end());
  uint32_t leading = 0;
  while (leading < keys.size() && present.count(keys[leading])) ++leading;
  EXPECT_EQ(test_util::MatchPrefix(*engine, all), leading);

  // After a clean restart nothing comes back that was not there, and what
  // comes back is the newest value.
  ASSERT_TRUE(engine->Close().ok());
  engine.reset();
  engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  for (const std::string& key : keys) {
    auto got = test_util::Get(*engine, key);
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
      continue;
    }
    auto it = present.find(key);
    ASSERT_NE(it, present.end()) << key << " came back after restart";
    EXPECT_TRUE(test_util::SameBytes(*got, it->second)) << key;
  }
}

TEST_F(EngineTest, StatsTrackOperations) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(engine->Put(Key(i), Bytes(MakeValue(Key(i), 0, 10000)), {}).ok());
  }
  EXPECT_TRUE(GetNotFound(*engine, "missing"));
  EXPECT_TRUE(GetEquals(*engine, Key(1), MakeValue(Key(1), 0, 10000)));
  ASSERT_TRUE(test_util::Delete(*engine, Key(2), false).ok());
  ASSERT_TRUE(engine->Flush().ok());
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.objects, 4u);
  EXPECT_EQ(s.puts, 5u);
  EXPECT_EQ(s.deletes, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits_dram, 1u);
  EXPECT_EQ(s.dirty_objects, 0u);
  EXPECT_EQ(s.dram_objects, 4u);
  EXPECT_EQ(s.flash_objects, 4u);
  EXPECT_EQ(s.flash_segments, 1u);
  EXPECT_EQ(s.dram_capacity_bytes, Options().memory_bytes);
  EXPECT_EQ(s.flash_capacity_bytes, Options().disk_bytes);
  EXPECT_EQ(s.dram_bytes, 4 * 12288u);  // 10000 bytes round up to 3 pages
  EXPECT_EQ(s.flash_bytes, test_util::TotalSegmentBytes(Options().data_dir));
  EXPECT_EQ(s.io_errors, 0u);
}

TEST_F(EngineTest, ClosedEngineRefusesOperations) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  auto v = MakeValue("k", 0, 100);
  ASSERT_TRUE(engine->Put("k", Bytes(v), {}).ok());
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_TRUE(engine->Close().ok());  // idempotent
  EXPECT_EQ(engine->Put("j", Bytes(v), {}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine->BeginPut("j", 10, {}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(test_util::Get(*engine, "k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(test_util::Exists(*engine, "k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(test_util::Delete(*engine, "k", true).code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine->Flush().code(), StatusCode::kUnavailable);
}

// When every DRAM byte is held by readers, a put waits space_wait_ms and
// gives up with kNoSpace, and a flash read is still served (from a heap
// buffer instead of the arena, so without promotion).
TEST_F(EngineTest, DramFullOfHeldValuesRefusesPutsButServesReads) {
  EngineOptions o = Options();
  o.memory_bytes = 1 * kMiB;  // 4 values
  o.space_wait_ms = 200;
  auto engine = OpenOrNull(o);
  ASSERT_NE(engine, nullptr);
  auto value = [](int i) { return MakeValue(Key(i), 0, 256 * 1024); };
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine->Put(Key(i), Bytes(value(i)), {}).ok());
  ASSERT_TRUE(engine->Flush().ok());
  std::vector<ValueRef> held;
  for (int i = 0; i < 5; ++i) {
    auto got = test_util::Get(*engine, Key(i));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(test_util::SameBytes(*got, value(i)));
    held.push_back(*got);
  }
  EXPECT_EQ(engine->Stats().dram_bytes, 1 * kMiB);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(engine->Put("more", Bytes(value(9)), {}).code(), StatusCode::kNoSpace);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
  EngineStats before = engine->Stats();
  EXPECT_EQ(before.dram_objects, 0u);  // all evicted while looking for room
  EXPECT_TRUE(GetEquals(*engine, Key(0), value(0)));
  EXPECT_TRUE(GetEquals(*engine, Key(3), value(3)));
  EngineStats after = engine->Stats();
  EXPECT_EQ(after.hits_flash, before.hits_flash + 2);
  EXPECT_EQ(after.dram_objects, 0u);  // not promoted: no room
  held.clear();
  ASSERT_TRUE(engine->Put("more", Bytes(value(9)), {}).ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(GetEquals(*engine, Key(i), value(i)));
}

// WriteCheckpointNow while another thread keeps writing: it must complete
// (and succeed) without the writers having to stop first.
TEST_F(EngineTest, WriteCheckpointNowWorksUnderConcurrentWrites) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      Status st = engine->Put(Key(i % 500), Bytes(MakeValue(Key(i), 0, 3000)), {.overwrite = true});
      if (!st.ok()) ADD_FAILURE() << st.ToString();
    }
  });
  std::string last_error;
  auto checkpoints = std::async(std::launch::async, [&] {
    int ok = 0;
    for (int i = 0; i < 5; ++i) {
      Status st = engine->WriteCheckpointNow();
      if (st.ok()) {
        ++ok;
      } else {
        last_error = st.ToString();
      }
    }
    return ok;
  });
  const bool finished = checkpoints.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  stop = true;  // lets a starved checkpoint through, so that the test ends either way
  writer.join();
  const int ok = checkpoints.get();
  EXPECT_TRUE(finished) << "WriteCheckpointNow blocked for 5 s behind concurrent writes";
  EXPECT_EQ(ok, 5) << last_error;
}

TEST_F(EngineTest, WriteCheckpointNowWritesACheckpoint) {
  auto engine = OpenOrNull(Options());
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Put("k", Bytes(MakeValue("k", 0, 100)), {}).ok());
  ASSERT_TRUE(engine->WriteCheckpointNow().ok());
  EXPECT_TRUE(std::filesystem::exists(Options().data_dir + "/CHECKPOINT"));
}

}  // namespace
}  // namespace ctxstore::engine
