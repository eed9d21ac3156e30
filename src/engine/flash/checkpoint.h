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
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

struct CheckpointEntry {
  std::string key;    // the index key: namespace id + key
  std::string attrs;  // the record's attrs
  uint64_t seq = 0;
  uint64_t segment_id = 0;
  uint64_t record_offset = 0;
  uint64_t value_len = 0;
  uint64_t value_xxh3 = 0;
  uint64_t created_ms = 0;
  uint64_t expires_ms = 0;
  uint16_t flags = 0;  // kRecordFlagSealed or 0
};

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
// kNotFound when there is none; kCorrupt when it does not verify.
Result<Checkpoint> ReadCheckpoint(Device* device, const std::string& path);

}  // namespace ctxstore::engine
