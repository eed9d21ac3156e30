// The flash tier's segments: which exist, the flash budget they take, which
// are retiring (reclaimed, but kept readable until the pinned objects
// carried out of them are durable elsewhere) and which a failed read found
// bad. A new segment reclaims the oldest ones (FIFO) until the budget has
// room; pinned objects in them are carried forward, the others lose their
// flash copy. A bad segment is never written again: its objects still in
// DRAM are written anew, the others dropped.
//
// Not thread-safe: the engine's mutex guards it. The calls that do I/O take
// that mutex (held on entry and on return) and release it meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/mutex.h"
#include "ctxstore/status.h"
#include "engine/context/catalog.h"
#include "engine/dram/arena.h"
#include "engine/flash/device.h"
#include "engine/flash/segment.h"
#include "engine/flush/flush_queue.h"
#include "engine/index/object_table.h"
#include "engine/types.h"

namespace ctxstore::engine {

class SegmentSet {
 public:
  struct Options {
    std::string data_dir;
    uint64_t disk_bytes = 0;     // the flash budget over all segments
    uint64_t segment_bytes = 0;  // a new segment's size
    std::shared_ptr<const Keyring> keyring;
  };
  SegmentSet(Device* device, const Options& options, Arena* arena, ObjectTable* objects,
             Catalog* catalog, FlushQueue* queue, EngineStats* stats);

  // What recovery found.
  void Install(std::map<uint64_t, std::shared_ptr<Segment>> segments, uint64_t flash_bytes,
               uint64_t next_id, uint64_t store_id);
  std::shared_ptr<Segment> Find(uint64_t id) const;
  size_t count() const { return segments_.size(); }
  uint64_t flash_bytes() const { return flash_bytes_; }
  uint64_t next_id() const { return next_id_; }
  uint64_t store_id() const { return store_id_; }
  void Appended(uint64_t bytes) { flash_bytes_ += bytes; }
  // Whether a failed read found the segment bad; safe without the mutex.
  bool IsBad(uint64_t id) const { return id == last_bad_id_.load(std::memory_order_acquire); }

  // A new segment with room for a record of record_len bytes.
  Result<std::shared_ptr<Segment>> Create(uint64_t record_len, Mutex* mu) REQUIRES(mu);
  // A GET of an object only on flash: read (with mu released) into a
  // fresh arena block (or a heap buffer when DRAM is full of unwritten
  // data), verified, and promoted into DRAM. A failed read is ReadFailed.
  Result<ValueRef> Read(Entry& e, Mutex* mu) REQUIRES(mu);

 private:
  // A flash read of user_key from the segment failed with st. Corrupt: the
  // object (entry, when it is still the version read) goes, with a
  // tombstone. An I/O error: the segment is bad. Else (its key is not
  // loaded) the object stays, for when it is.
  void ReadFailed(const Status& st, std::string_view user_key, Entry* entry, uint64_t segment_id,
                  Mutex* mu) REQUIRES(mu);
  // Drops the oldest segment that is not retiring; false when there is none.
  bool ReclaimOldest(Mutex* mu) REQUIRES(mu);
  // The objects of a reclaimed segment lose their flash copy, and those
  // not in DRAM go; pinned ones keep it: their keys are returned, to be
  // carried forward.
  std::vector<std::string> ReleaseObjects(uint64_t id);
  // Queues a copy of a pinned object (from DRAM, or read from its segment)
  // to be written again; false when it could not (the object is then lost
  // and counted).
  bool CarryForward(Entry& e, Mutex* mu) REQUIRES(mu);
  void MarkBad(uint64_t id, Mutex* mu) REQUIRES(mu);
  // The copies carried out of a retiring segment are durable (or failed).
  void FinishRetiring(uint64_t id, const Status& carried, Mutex* mu) EXCLUDES(mu);
  // Removes a reclaimed segment's file and syncs the folder; without mu.
  Status RemoveDurably(const std::string& path);

  Device* const device_;
  const Options options_;
  Arena* const arena_;
  ObjectTable* const objects_;
  Catalog* const catalog_;
  FlushQueue* const queue_;
  EngineStats* const stats_;
  uint64_t store_id_ = 0;
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;
  std::unordered_set<uint64_t> retiring_;
  uint64_t next_id_ = 1;
  uint64_t flash_bytes_ = 0;  // of every segment file but the retiring ones
  // The last segment marked bad: the flusher rolls to a new segment when
  // it is the active one (read without the mutex).
  std::atomic<uint64_t> last_bad_id_{0};
};

}  // namespace ctxstore::engine
