// Lays a batch of records out and appends it to a segment (the layout is in
// record.h): small records packed back to back in a staging buffer, a large
// record's head staged on a block boundary and its value written straight
// from the arena, all in as few writes as the iovec limit allows. Every write
// is a whole number of blocks, zero-padded (O_DIRECT, and no block is ever
// written twice). Sealed records are encrypted here.
//
// Before a record is written its staged header is parsed back and compared
// with what was meant, and its value is checked against the XXH3 committed
// with it (TigerBeetle's pairing: an assertion before every write, the
// checksum after every read). A mismatch stops the process (CTX_CHECK). The
// header check runs on every record; hashing the value again costs a pass
// over it, so Release builds check a sample (kValueCheckInterval), debug
// builds every value.
//
// Used by the flusher thread only; knows nothing of the index or the queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/env.h"
#include "ctxstore/status.h"
#include "engine/flash/segment.h"
#include "engine/index/entry.h"

namespace ctxstore::engine {

class SegmentWriter {
 public:
  // Segments hold at most segment_bytes (a record larger than that gets a
  // segment of its own). Nonces of sealed records come from env (null:
  // Env::Default()).
  explicit SegmentWriter(uint64_t segment_bytes, Env* env = nullptr)
      : segment_bytes_(segment_bytes), env_(env != nullptr ? env : Env::Default()) {}

  // The bytes item's record takes in a segment (0 for a barrier).
  static uint64_t RecordBytes(const FlushItem& item);
  // Whether item's record goes into segment after what is there: a segment
  // without records takes any record.
  bool Fits(const Segment& segment, const FlushItem& item) const;

  struct Outcome {
    Status status;
    bool write_failed = false;  // status is a failed write: never write the segment again
    size_t consumed = 0;        // items from the front that were appended or skipped
  };
  // Appends the records of items to segment, in order, until one does not
  // fit or stop() says to stop before it; barriers are skipped. Each record
  // appended gets appended = true, its segment_id and its record_offset; on
  // a failure, the records of the write that failed stay appended = false.
  Outcome Append(Segment& segment, std::span<FlushItem> items, const std::function<bool()>& stop);

 private:
  // The staged bytes and the iovecs of the write being built.
  struct Run;
  // Append's work once run has a staging buffer large enough for items.
  Outcome Fill(Run& run, Segment& segment, std::span<FlushItem> items,
               const std::function<bool()>& stop);
  Status Stage(Run& run, Segment& segment, FlushItem& item);
  // Encrypts item's value into the staged record (packed) or a buffer of
  // its own (large), writes its seal; *value_out becomes the ciphertext.
  Status Seal(Run& run, FlushItem& item, const RecordLayout& layout, std::span<uint8_t> head,
              const uint8_t** value_out);
  Status WriteRun(Run& run, Segment& segment);
  void CheckStaged(const FlushItem& item, const RecordLayout& layout, uint16_t flags,
                   std::span<const uint8_t> head);

  // Records whose value CheckStaged hashes again in Release builds: one in
  // this many (the first one included).
  static constexpr uint64_t kValueCheckInterval = 16;

  const uint64_t segment_bytes_;
  Env* const env_;
  uint64_t records_ = 0;  // records staged, for CheckStaged's sample
  // Buffers that sealed large values were written from, kept for the next
  // batch (a fresh 4 MiB buffer costs its page faults each time), at most
  // kMaxPooledSealBytes of them.
  std::vector<std::unique_ptr<AlignedBuffer>> seal_buffers_;
  // The last batch's staging buffer, for the next (kMaxPooledStagingBytes).
  std::unique_ptr<AlignedBuffer> staging_pool_;
};

}  // namespace ctxstore::engine
