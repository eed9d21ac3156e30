// The checkpoint file's reader (engine/flash/checkpoint.h): it streams the
// file through a bounded buffer, so entries cross buffer refills; a damaged
// file must end in kCorrupt, never in a clean end, and a file that verifies
// but does not parse is refused too.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/hash.h"
#include "engine/flash/checkpoint.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr const char* kPath = "/data/CHECKPOINT";

CheckpointEntry MakeEntry(uint64_t i, size_t key_bytes, size_t attrs_bytes) {
  CheckpointEntry e;
  e.key =
      std::string("\x01\x00\x00\x00", 4) + std::string(key_bytes, static_cast<char>('a' + i % 26));
  e.attrs = std::string(attrs_bytes, static_cast<char>('A' + i % 26));
  e.seq = 1000 + i;
  e.segment_id = 1 + i % 7;
  e.record_offset = 4096 * (i + 1);
  e.value_len = 64 + i;
  e.value_xxh3 = i * 0x9e3779b97f4a7c15ull;
  e.created_ms = 1'700'000'000'000ull + i;
  e.expires_ms = i % 3 == 0 ? 0 : 1'800'000'000'000ull + i;
  e.flags = i % 5 == 0 ? 1 : 0;
  return e;
}

Checkpoint MakeCheckpoint(size_t n) {
  Checkpoint cp;
  cp.store_id = 0x1234;
  cp.next_seq = 1000 + n;
  cp.replay_segment_id = 3;
  cp.replay_offset = 8192;
  cp.created_ms = 1'700'000'000'000ull;
  for (size_t i = 0; i < n; ++i) cp.entries.push_back(MakeEntry(i, 8 + i % 40, (i * 37) % 3000));
  return cp;
}

void ExpectSameEntry(const CheckpointEntry& a, const CheckpointEntry& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.attrs, b.attrs);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.segment_id, b.segment_id);
  EXPECT_EQ(a.record_offset, b.record_offset);
  EXPECT_EQ(a.value_len, b.value_len);
  EXPECT_EQ(a.value_xxh3, b.value_xxh3);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.expires_ms, b.expires_ms);
  EXPECT_EQ(a.flags, b.flags);
}

class CheckpointTest : public ::testing::Test {
 protected:
  std::string Bytes() {
    auto data = device_.ReadFile(kPath);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : std::string();
  }
  // Stores bytes with a checksum that matches them: a file that verifies
  // whatever its entries say (a writer bug, not damage).
  void StoreResealed(std::string bytes) {
    const uint64_t sum = Xxh3(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
    device_.SetFile(kPath, bytes);
  }
  // Opens and reads every entry: Ok only for a clean end.
  Status ReadToEnd() {
    auto reader = CheckpointReader::Open(&device_, kPath);
    if (!reader.ok()) return reader.status();
    CheckpointEntryView v;
    for (uint64_t i = 0;; ++i) {
      // Never more entries than the header names.
      if (i > (*reader)->entry_count()) return Status::Internal("read past the entry count");
      auto more = (*reader)->Next(&v);
      if (!more.ok()) return more.status();
      if (!*more) return Status::Ok();
    }
  }
  void SetEntryCount(std::string* bytes, uint64_t count) {
    std::memcpy(bytes->data() + offsetof(CheckpointHeader, entry_count), &count, 8);
  }

  MemDevice device_;
};

TEST_F(CheckpointTest, EntriesAcrossManyBufferRefillsComeBackExactly) {
  // About 30 MB of entries, the largest the format allows among them: the
  // 1 MiB buffer is refilled dozens of times, and entries straddle refills.
  Checkpoint cp = MakeCheckpoint(20'000);
  cp.entries.push_back(MakeEntry(20'000, UINT16_MAX - 4, UINT16_MAX));
  cp.entries.push_back(MakeEntry(20'001, 1, 0));
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, cp).ok());
  ASSERT_GT(Bytes().size(), 20u << 20);

  auto read = ReadCheckpoint(&device_, kPath);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->store_id, cp.store_id);
  EXPECT_EQ(read->next_seq, cp.next_seq);
  EXPECT_EQ(read->replay_segment_id, cp.replay_segment_id);
  EXPECT_EQ(read->replay_offset, cp.replay_offset);
  EXPECT_EQ(read->created_ms, cp.created_ms);
  ASSERT_EQ(read->entries.size(), cp.entries.size());
  for (size_t i = 0; i < cp.entries.size(); ++i) ExpectSameEntry(read->entries[i], cp.entries[i]);
}

TEST_F(CheckpointTest, AnEmptyCheckpointHasNoEntries) {
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, MakeCheckpoint(0)).ok());
  auto reader = CheckpointReader::Open(&device_, kPath);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->entry_count(), 0u);
  CheckpointEntryView v;
  auto more = (*reader)->Next(&v);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST_F(CheckpointTest, AMissingFileIsNotFound) {
  EXPECT_EQ(CheckpointReader::Open(&device_, kPath).status().code(), StatusCode::kNotFound);
}

// Reading to the end of a damaged file ends in kCorrupt, never in "no more
// entries": a caller that installed entries as they came drops them.
TEST_F(CheckpointTest, AFlippedByteAnywhereEndsTheReadInCorrupt) {
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, MakeCheckpoint(3'000)).ok());
  const std::string good = Bytes();
  ASSERT_GT(good.size(), 2u << 20);
  // The header's entry count and replay position, a length and a value of
  // the first entry, an entry past the first 1 MiB buffer, the checksum.
  for (size_t at :
       {size_t{16}, size_t{40}, size_t{64 + 58}, size_t{70}, good.size() / 2, good.size() - 3}) {
    std::string bad = good;
    bad[at] ^= 0x10;
    device_.SetFile(kPath, bad);
    EXPECT_EQ(ReadToEnd().code(), StatusCode::kCorrupt) << "byte " << at;
  }
}

TEST_F(CheckpointTest, ShortFilesAreCorrupt) {
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, MakeCheckpoint(10)).ok());
  const std::string good = Bytes();
  for (size_t size : {size_t{0}, size_t{71}, good.size() - 1}) {
    device_.SetFile(kPath, good.substr(0, size));
    EXPECT_EQ(ReadToEnd().code(), StatusCode::kCorrupt) << size << " bytes";
  }
}

TEST_F(CheckpointTest, AnEntryCountTheFileCannotHoldIsRefusedAtOpen) {
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, MakeCheckpoint(10)).ok());
  std::string bytes = Bytes();
  SetEntryCount(&bytes, uint64_t{1} << 40);
  StoreResealed(bytes);
  // Refused before the count is used to size anything.
  auto reader = CheckpointReader::Open(&device_, kPath);
  ASSERT_EQ(reader.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(reader.status().message().find("entry count"), std::string::npos);
}

TEST_F(CheckpointTest, AVerifiedFileWhoseLastEntryIsCutShortFailsAtThatEntry) {
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, MakeCheckpoint(5'000)).ok());
  std::string bytes = Bytes();
  // The last entry's attrs lose a byte; the checksum is made to match.
  bytes.erase(bytes.size() - 9, 1);
  StoreResealed(bytes);
  auto reader = CheckpointReader::Open(&device_, kPath);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  CheckpointEntryView v;
  for (int i = 0; i < 4'999; ++i) ASSERT_TRUE(*(*reader)->Next(&v)) << i;
  EXPECT_EQ((*reader)->Next(&v).status().code(), StatusCode::kCorrupt);
}

TEST_F(CheckpointTest, BytesAfterTheLastEntryAreCorrupt) {
  ASSERT_TRUE(WriteCheckpoint(&device_, kPath, MakeCheckpoint(4)).ok());
  std::string bytes = Bytes();
  SetEntryCount(&bytes, 3);
  StoreResealed(bytes);
  auto reader = CheckpointReader::Open(&device_, kPath);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  CheckpointEntryView v;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(*(*reader)->Next(&v)) << i;
  auto more = (*reader)->Next(&v);
  ASSERT_EQ(more.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(more.status().message().find("after its entries"), std::string::npos);
}

}  // namespace
}  // namespace ctxstore::engine
