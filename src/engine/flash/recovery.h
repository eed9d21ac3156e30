// Startup: identifies the store (its superblock), then rebuilds the index
// from the checkpoint plus a scan of what was written after it, or from a
// scan of every segment when there is no usable checkpoint
// (docs/on-disk-format.md). It returns what it found, and the engine
// installs it; nothing else is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/env.h"
#include "ctxstore/status.h"
#include "engine/flash/checkpoint.h"
#include "engine/flash/device.h"
#include "engine/flash/segment.h"
#include "engine/index/index.h"
#include "engine/index/meta_interner.h"

namespace ctxstore::engine {

struct RecoveredState {
  // Flash-only entries, not yet linked to their namespaces (the engine
  // attaches them, oldest first).
  Index index;
  std::map<uint64_t, std::shared_ptr<Segment>> segments;
  uint64_t flash_bytes = 0;  // of every segment file
  uint64_t next_segment_id = 1;
  uint64_t next_seq = 1;
  // What was scanned is in no checkpoint yet: write one at the next
  // opportunity (at the latest on Close), so the next start need not scan.
  bool needs_checkpoint = false;
  // For EngineStats.
  bool from_checkpoint = false;
  uint64_t corrupt_records_skipped = 0;
  uint64_t torn_records_skipped = 0;
  uint64_t recovery_ms = 0;
};

class Recovery {
 public:
  Recovery(Device* device, std::string data_dir, Env* env);

  // Lists the segments and reads the superblock; an empty folder gets a
  // new store (a superblock with a random id). kCorrupt for segments
  // without a superblock, or with ids no segment may have.
  Status OpenStore();
  uint64_t store_id() const { return store_id_; }

  // The rest, once the engine has loaded its catalog: records of namespaces
  // that namespace_exists denies were deleted with them and are skipped.
  // Metadata is shared through interner.
  using NamespaceExists = std::function<bool(uint32_t namespace_id)>;
  Result<RecoveredState> Replay(const NamespaceExists& namespace_exists, MetaInterner* interner);

 private:
  Status OpenSegments(RecoveredState* state);
  // The checkpoint's entries, trusted for everything before its replay
  // position; false when there is no usable checkpoint.
  bool LoadCheckpoint(RecoveredState* state, uint64_t* replay_segment, uint64_t* replay_offset,
                      uint64_t* max_seq);
  // Every entry, or none (and the reader's error).
  Status InstallCheckpointEntries(RecoveredState* state, CheckpointReader* reader);
  void InstallCheckpointEntry(RecoveredState* state, const CheckpointEntryView& ce);
  // Scans what the checkpoint does not cover; the number of records found.
  Result<uint64_t> Scan(RecoveredState* state, uint64_t replay_segment, uint64_t replay_offset,
                        uint64_t* max_seq);
  void Apply(RecoveredState* state, const SegmentScanner::Item& item, uint64_t segment_id);
  // Makes *it a flash-only entry of the record at (segment_id, offset).
  void Install(Index::iterator it, const RecordHeader& h, ObjectMeta meta, uint64_t segment_id,
               uint64_t offset);

  Device* const device_;
  const std::string dir_;
  Env* const env_;
  uint64_t started_ms_ = 0;
  uint64_t store_id_ = 0;
  std::vector<uint64_t> segment_ids_;  // in order
  NamespaceExists namespace_exists_;
  MetaInterner* interner_ = nullptr;
  // Keys deleted by a tombstone found so far, with its seq: an older record
  // of the key found later (one written again after a device failure)
  // must not resurrect it.
  std::unordered_map<std::string, uint64_t> tombstones_;
};

}  // namespace ctxstore::engine
