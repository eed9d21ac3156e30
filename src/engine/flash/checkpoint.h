// The index checkpoint: a snapshot of every object on flash, written at
// clean shutdown and periodically, so that restart reads one file and scans
// only the segments written after it instead of the whole flash tier.
//
// File CHECKPOINT in the data folder, replaced atomically:
//
//   +-------------------+---------------------------------+-------------+
//   | CheckpointHeader  | entry x entry_count             | u64 xxh3 of |
//   | 64 bytes          | (CheckpointEntryFixed, key)     | all before  |
//   +-------------------+---------------------------------+-------------+
//
// Every record before (replay_segment_id, replay_offset) is reflected in the
// entries; recovery loads them and scans from that position on.
//
// A checkpoint of 10M objects is about 900 MB, so recovery streams it
// (CheckpointReader) instead of holding it and a decoded copy in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "ctxstore/status.h"
#include "engine/flash/device.h"

namespace ctxstore::engine {

inline constexpr uint32_t kCheckpointMagic = 0x4b585443;  // "CTXK"
// 2: keys carry their namespace (index keys) and entries their record attrs.
// 3: entries carry their record's flags (sealed).
// A checkpoint of another version is ignored (recovery scans instead).
inline constexpr uint16_t kCheckpointVersion = 3;

struct CheckpointHeader {
  uint32_t magic;              //  0
  uint16_t version;            //  4
  uint16_t reserved;           //  6
  uint64_t store_id;           //  8
  uint64_t entry_count;        // 16
  uint64_t next_seq;           // 24
  uint64_t replay_segment_id;  // 32
  uint64_t replay_offset;      // 40
  uint64_t created_ms;         // 48
  uint64_t reserved2;          // 56
};
static_assert(sizeof(CheckpointHeader) == 64, "CheckpointHeader is part of the on-disk format");

struct CheckpointEntryFixed {
  uint64_t seq;            //  0
  uint64_t segment_id;     //  8
  uint64_t record_offset;  // 16
  uint64_t value_len;      // 24
  uint64_t value_xxh3;     // 32
  uint64_t created_ms;     // 40
  uint64_t expires_ms;     // 48
  uint16_t flags;          // 56  the record's kRecordFlagSealed, else 0
  uint16_t key_len;        // 58, the index key follows, then u16 attrs_len and the attrs
};
inline constexpr size_t kCheckpointEntryFixedBytes = 60;  // packed on disk
// The largest entry the format can express (both lengths are u16): the
// reader's buffer always holds a whole one.
inline constexpr size_t kMaxCheckpointEntryBytes =
    kCheckpointEntryFixedBytes + 2 + UINT16_MAX + 2 + UINT16_MAX;

// One entry: Str is std::string for an entry held (CheckpointEntry), and
// std::string_view for one the reader decoded (CheckpointEntryView: key and
// attrs point into the reader's buffer until its next call).
template <typename Str>
struct BasicCheckpointEntry {
  Str key;    // the index key: namespace id + key
  Str attrs;  // the record's attrs
  uint64_t seq = 0;
  uint64_t segment_id = 0;
  uint64_t record_offset = 0;
  uint64_t value_len = 0;
  uint64_t value_xxh3 = 0;
  uint64_t created_ms = 0;
  uint64_t expires_ms = 0;
  uint16_t flags = 0;  // kRecordFlagSealed or 0
};
using CheckpointEntry = BasicCheckpointEntry<std::string>;
using CheckpointEntryView = BasicCheckpointEntry<std::string_view>;

struct Checkpoint {
  uint64_t store_id = 0;
  uint64_t next_seq = 0;
  uint64_t replay_segment_id = 0;
  uint64_t replay_offset = 0;
  uint64_t created_ms = 0;  // 0: now, by the real clock (the flusher sets its Env's)
  std::vector<CheckpointEntry> entries;
};

inline constexpr const char* kCheckpointFileName = "CHECKPOINT";

Status WriteCheckpoint(Device* device, const std::string& path, const Checkpoint& cp);

// Reads a checkpoint in one pass with one bounded buffer, hashing the bytes
// it decodes: the bytes checked are the bytes used (a second pass could read
// other bytes than the first). Entries are therefore not trusted until Next
// has returned false (the checksum matched): a caller installs them as they
// come and drops them all on any error. Not thread-safe.
class CheckpointReader {
 public:
  // kNotFound when there is none; kCorrupt when it is too short for a
  // header, or the header's magic, version or entry count are impossible.
  static Result<std::unique_ptr<CheckpointReader>> Open(Device* device, const std::string& path);

  // The header's fields (entries stays empty), unverified until the end.
  const Checkpoint& header() const { return header_; }
  uint64_t entry_count() const { return entry_count_; }  // <= file size / 63

  // true with *e filled; false once all entries were read and the checksum
  // over the whole file matched; kCorrupt for a checksum mismatch or
  // entries that do not parse; or the device's error.
  Result<bool> Next(CheckpointEntryView* e);

 private:
  CheckpointReader(std::unique_ptr<File> file, uint64_t entries_end, size_t buffer_bytes);
  // Moves what is unread to the front and reads (and hashes) on until the
  // buffer is full or the entries end.
  Status Refill();
  Status VerifyChecksum();

  std::unique_ptr<File> file_;
  const uint64_t entries_end_;  // the offset of the trailing checksum
  uint64_t file_pos_ = 0;       // the next offset to read into the buffer
  std::vector<uint8_t> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes: buffer_[begin_, end_)
  Xxh3Stream hash_;             // of every byte read so far
  Checkpoint header_;
  uint64_t entry_count_ = 0;
  uint64_t entries_read_ = 0;
};

// The whole checkpoint in memory (tests and tools; recovery streams it).
// kNotFound when there is none; kCorrupt when it does not verify.
Result<Checkpoint> ReadCheckpoint(Device* device, const std::string& path);

}  // namespace ctxstore::engine
