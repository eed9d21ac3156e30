// A segment: one append-only file of the flash tier (layout in record.h).
// The flusher appends batches of records to the newest segment; readers read
// values of any segment; recovery scans segments with a SegmentScanner.
// Segments are shared_ptr-owned so a reader keeps a reclaimed segment's file
// open until its read completes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/clock.h"
#include "ctxstore/status.h"
#include "engine/flash/device.h"
#include "engine/flash/record.h"
#include "engine/security/encryption.h"

namespace ctxstore::engine {

// Segment ids start at 1 (0 means "not on flash" in an index entry), and
// index entries hold them in 32 bits.
inline constexpr uint64_t kMaxSegmentId = UINT32_MAX;

std::string SegmentFileName(uint64_t id);  // "seg-000000000042.log"
bool ParseSegmentFileName(const std::string& name, uint64_t* id);

// An aligned heap buffer for O_DIRECT I/O outside the arena.
struct AlignedBuffer {
  explicit AlignedBuffer(uint64_t size_bytes);
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  uint8_t* data = nullptr;
  uint64_t size = 0;
};

class Segment {
 public:
  // Creates a new segment file and durably writes its header, stamped
  // created_ms (the engine's Env clock).
  static Result<std::shared_ptr<Segment>> Create(Device* device, const std::string& dir,
                                                 uint64_t id, uint64_t store_id,
                                                 uint64_t created_ms = WallClockMs());
  // Opens an existing segment for reading. A header that does not verify is
  // tolerated (records verify themselves); a header of another store is not.
  static Result<std::shared_ptr<Segment>> Open(Device* device, const std::string& dir, uint64_t id,
                                               uint64_t store_id);

  uint64_t id() const { return id_; }
  const std::string& path() const { return file_->path(); }
  // Bytes used: the header plus every record appended (the write position).
  uint64_t end_offset() const { return end_offset_; }

  // Appends buffers (kDirectIoAlignment-aligned) at end_offset(). On error
  // the segment must not be written again: the caller marks it bad.
  Status Append(std::span<const iovec> buffers, uint64_t total_bytes);
  Status Sync() { return file_->Sync(); }

  // Reads the value of the record at record_offset into dst; h needs
  // key_len, attrs_len, value_len and flags. For a packed record the blocks
  // holding the value are read into a bounce buffer and the value copied;
  // otherwise dst must be aligned and hold RoundUpToBlock(value_len) bytes
  // and the value is read straight into it.
  // A sealed record is read with its seal into a bounce buffer and opened
  // into dst with the key the seal names: kKeyUnavailable when keyring
  // lacks it, kCorrupt when the seal or the value fails to verify. aad is
  // RecordAad() of the record.
  Status ReadValue(uint64_t record_offset, const RecordHeader& h, uint8_t* dst,
                   const Keyring* keyring = nullptr, std::string_view aad = {});

  File* file() { return file_.get(); }

 private:
  Segment(uint64_t id, std::unique_ptr<File> file, uint64_t end_offset)
      : id_(id), file_(std::move(file)), end_offset_(end_offset) {}
  uint64_t id_;
  std::unique_ptr<File> file_;
  uint64_t end_offset_;
};

// Sequential reader of a segment's valid records, for recovery. Zeros from
// a record's end to the next 4 KiB boundary are a batch's padding. Other
// invalid bytes are skipped 64 bytes at a time (where records may start)
// until a valid record header turns up: a run of invalid bytes that reaches
// the end of the file is a torn tail, one followed by a valid record is
// corruption. Values are verified.
class SegmentScanner {
 public:
  SegmentScanner(Segment* segment, uint64_t start_offset, uint64_t file_size);

  struct Item {
    RecordHeader header;
    std::string key;
    std::string attrs;  // the record's attrs (DecodeRecordAttrs)
    uint64_t offset = 0;
  };
  // Fills *item with the next valid record and returns true; false at the end.
  Result<bool> Next(Item* item);

  uint64_t corrupt_skipped() const { return corrupt_skipped_; }
  uint64_t torn_skipped() const { return torn_skipped_; }

 private:
  // Makes [offset, offset + len) available in the buffer; returns how many
  // of those bytes exist in the file (less than len near its end).
  Result<uint64_t> Ensure(uint64_t offset, uint64_t len);

  static constexpr uint64_t kChunkBytes = 8ull << 20;
  Segment* segment_;
  uint64_t pos_;
  uint64_t file_size_;  // whole blocks only
  bool torn_tail_;      // the file ends in a partial block
  std::unique_ptr<AlignedBuffer> buf_;
  uint64_t buf_offset_ = 0;  // file offset of buf_->data[0]
  uint64_t buf_len_ = 0;     // valid bytes in buf_
  uint64_t corrupt_skipped_ = 0;
  uint64_t torn_skipped_ = 0;
};

}  // namespace ctxstore::engine
