#include "engine/flash/segment.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/check.h"
#include "common/clock.h"
#include "common/hash.h"

namespace ctxstore::engine {

std::string SegmentFileName(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%012" PRIu64 ".log", id);
  return buf;
}

bool ParseSegmentFileName(const std::string& name, uint64_t* id) {
  if (name.size() != 20 || name.compare(0, 4, "seg-") != 0 || name.compare(16, 4, ".log") != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 4; i < 16; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *id = v;
  return true;
}

AlignedBuffer::AlignedBuffer(uint64_t size_bytes) : size(RoundUpToBlock(size_bytes)) {
  data =
      static_cast<uint8_t*>(std::aligned_alloc(kDirectIoAlignment, size == 0 ? kBlockSize : size));
  if (data == nullptr) std::abort();  // out of memory: nothing sensible to do
}
AlignedBuffer::~AlignedBuffer() {
  std::free(data);
}

Result<std::shared_ptr<Segment>> Segment::Create(Device* device, const std::string& dir,
                                                 uint64_t id, uint64_t store_id,
                                                 uint64_t created_ms) {
  OpenOptions opts;
  opts.create = true;
  opts.truncate = true;
  opts.direct = true;
  auto file = device->Open(dir + "/" + SegmentFileName(id), opts);
  if (!file.ok()) return file.status();
  AlignedBuffer head(kSegmentHeaderBytes);
  std::memset(head.data, 0, head.size);
  SegmentHeader h = MakeSegmentHeader(id, created_ms, store_id);
  std::memcpy(head.data, &h, sizeof(h));
  iovec iov{head.data, kSegmentHeaderBytes};
  CTX_RETURN_IF_ERROR((*file)->WriteV(0, {&iov, 1}));
  CTX_RETURN_IF_ERROR((*file)->Sync());
  CTX_RETURN_IF_ERROR(device->SyncDir(dir));  // the new file's name must survive a crash
  return std::shared_ptr<Segment>(new Segment(id, std::move(*file), kSegmentHeaderBytes));
}

Result<std::shared_ptr<Segment>> Segment::Open(Device* device, const std::string& dir, uint64_t id,
                                               uint64_t store_id) {
  OpenOptions opts;
  opts.direct = true;
  auto file = device->Open(dir + "/" + SegmentFileName(id), opts);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  AlignedBuffer head(kSegmentHeaderBytes);
  auto n = (*file)->ReadAt(0, {head.data, kSegmentHeaderBytes});
  if (!n.ok()) return n.status();
  SegmentHeader h{};
  Status st = ParseSegmentHeader({head.data, *n}, &h);
  if (st.ok() && (h.store_id != store_id || h.segment_id != id)) {
    return Status::Invalid((*file)->path() + " belongs to another store or is misnamed");
  }
  if (st.code() == StatusCode::kUnsupported) return st;
  // A torn header (crash while creating) leaves records, if any, to verify themselves.
  uint64_t end = *size < kSegmentHeaderBytes ? kSegmentHeaderBytes : *size & ~(kBlockSize - 1);
  return std::shared_ptr<Segment>(new Segment(id, std::move(*file), end));
}

Status Segment::Append(std::span<const iovec> buffers, uint64_t total_bytes) {
  CTX_CHECK(total_bytes % kBlockSize == 0);
  CTX_CHECK(end_offset_ % kBlockSize == 0);
  CTX_RETURN_IF_ERROR(file_->WriteV(end_offset_, buffers));
  end_offset_ += total_bytes;
  return Status::Ok();
}

Status Segment::ReadValue(uint64_t record_offset, const RecordHeader& h, uint8_t* dst,
                          const Keyring* keyring, std::string_view aad) {
  RecordLayout layout =
      ComputeLayout(RecordHeadBytes(h.key_len, h.attrs_len, h.flags), h.value_len);
  if (h.flags & kRecordFlagSealed) {
    const uint64_t value_at = record_offset + layout.value_offset;
    const uint64_t seal_at = value_at - kRecordSealBytes;
    const uint64_t first = seal_at & ~(kBlockSize - 1);
    const uint64_t len = RoundUpToBlock(value_at + h.value_len) - first;
    AlignedBuffer bounce(len);
    auto n = file_->ReadAt(first, {bounce.data, len});
    if (!n.ok()) return n.status();
    if (*n < len) return Status::Corrupt("record truncated in " + path());
    RecordSeal seal{};
    CTX_RETURN_IF_ERROR(
        ParseRecordSeal({bounce.data + (seal_at - first), kRecordSealBytes}, &seal));
    std::shared_ptr<const EncryptionKey> key =
        keyring != nullptr ? keyring->FindById(seal.key_id) : nullptr;
    if (key == nullptr) {
      char id[17];
      std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(seal.key_id));
      return Status::KeyUnavailable(std::string("value sealed with key id ") + id +
                                    ", which is not loaded");
    }
    SealInfo info;
    info.key_id = seal.key_id;
    std::memcpy(info.nonce.data(), seal.nonce, sizeof(seal.nonce));
    std::memcpy(info.tag.data(), seal.tag, sizeof(seal.tag));
    return OpenValue(*key, aad, info, bounce.data + (value_at - first), dst, h.value_len);
  }
  if (layout.packed) {
    // A packed record may start anywhere in a block: read the blocks that
    // hold its value into a bounce buffer and copy the value out.
    if (h.value_len == 0) return Status::Ok();
    const uint64_t value_at = record_offset + layout.value_offset;
    const uint64_t first = value_at & ~(kBlockSize - 1);
    const uint64_t len = RoundUpToBlock(value_at + h.value_len) - first;
    AlignedBuffer bounce(len);
    auto n = file_->ReadAt(first, {bounce.data, len});
    if (!n.ok()) return n.status();
    if (*n < len) return Status::Corrupt("record truncated in " + path());
    std::memcpy(dst, bounce.data + (value_at - first), h.value_len);
    return Status::Ok();
  }
  CTX_CHECK(record_offset % kBlockSize == 0);  // large records start on a block
  uint64_t len = RoundUpToBlock(h.value_len);
  auto n = file_->ReadAt(record_offset + layout.value_offset, {dst, len});
  if (!n.ok()) return n.status();
  if (*n < len) return Status::Corrupt("record truncated in " + path());
  return Status::Ok();
}

// A partial last block (a torn write) is not scanned: it is not part of the
// segment (Segment::Open rounds its end down), and is counted as torn.
SegmentScanner::SegmentScanner(Segment* segment, uint64_t start_offset, uint64_t file_size)
    : segment_(segment),
      pos_(start_offset),
      file_size_(file_size & ~(kBlockSize - 1)),
      torn_tail_(file_size % kBlockSize != 0) {}

Result<uint64_t> SegmentScanner::Ensure(uint64_t offset, uint64_t len) {
  uint64_t want_end = std::min(offset + len, file_size_);
  if (offset >= want_end) return uint64_t{0};
  if (buf_ && offset >= buf_offset_ && want_end <= buf_offset_ + buf_len_) return want_end - offset;
  const uint64_t read_from = offset & ~(kBlockSize - 1);  // O_DIRECT reads whole blocks
  // A chunk at a time, but no more than the segment holds: a small segment
  // (one just started) needs no 8 MiB buffer.
  uint64_t read_len = std::max<uint64_t>(std::min(kChunkBytes, file_size_ - read_from),
                                         RoundUpToBlock(want_end - read_from));
  if (!buf_ || buf_->size < read_len) buf_ = std::make_unique<AlignedBuffer>(read_len);
  auto n = segment_->file()->ReadAt(read_from, {buf_->data, buf_->size});
  if (!n.ok()) return n.status();
  buf_offset_ = read_from;
  buf_len_ = *n;
  if (buf_len_ <= offset - read_from) return uint64_t{0};
  return std::min<uint64_t>(want_end - offset, buf_len_ - (offset - read_from));
}

namespace {
bool AllZero(const uint8_t* p, uint64_t len) {
  for (uint64_t i = 0; i < len; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}
// Whether the value of the record at rec (all of it in memory) matches its
// checksums. A sealed value's plaintext checksum needs its key: the seal's
// own checksums verify it as stored.
bool ValueVerifies(const uint8_t* rec, const RecordHeader& h) {
  if (!(h.flags & kRecordFlagSealed))
    return Xxh3(rec + h.value_offset, h.value_len) == h.value_xxh3;
  RecordSeal seal{};
  return ParseRecordSeal({rec + h.value_offset - kRecordSealBytes, kRecordSealBytes}, &seal,
                         rec + h.value_offset, h.value_len)
      .ok();
}

}  // namespace

Result<bool> SegmentScanner::Next(Item* item) {
  bool in_garbage = false;
  while (pos_ < file_size_) {
    const uint64_t block_start = pos_ & ~(kBlockSize - 1);
    const uint64_t block_end = std::min(block_start + kBlockSize, file_size_);
    const uint64_t want = std::min(kBlockSize, file_size_ - pos_);
    auto avail = Ensure(pos_, want);
    if (!avail.ok()) return avail.status();
    if (*avail < want) break;
    const uint8_t* p = buf_->data + (pos_ - buf_offset_);
    if (pos_ != block_start && AllZero(p, block_end - pos_)) {
      pos_ = block_end;  // a batch's padding after a packed record
      continue;
    }
    RecordHeader h{};
    std::string_view key, attrs;
    uint64_t needed = 0;
    Status st = ParseRecordHeader({p, *avail}, &h, &key, &attrs, &needed);
    if (st.code() == StatusCode::kTooLarge) {
      // The key and attrs spill past what was offered: offer them whole.
      auto head_avail = Ensure(pos_, needed);
      if (!head_avail.ok()) return head_avail.status();
      if (*head_avail < needed) break;  // runs past the end of the file: torn
      p = buf_->data + (pos_ - buf_offset_);
      st = ParseRecordHeader({p, needed}, &h, &key, &attrs);
    }
    if (st.ok() && pos_ % kBlockSize != 0 &&
        !ComputeLayout(RecordHeadBytes(h.key_len, h.attrs_len, h.flags), h.value_len, h.version)
             .packed) {
      // Large records start on a block (their value is read with O_DIRECT
      // straight into DRAM): one that does not is none of ours.
      st = Status::Corrupt("large record off a block boundary");
    }
    if (!st.ok()) {
      // Records start on 64-byte boundaries (format 3), so the next valid
      // one may be anywhere after this.
      in_garbage = true;
      pos_ += kRecordAlignment;
      continue;
    }
    std::string key_copy(key);
    std::string attrs_copy(attrs);
    auto rec_avail = Ensure(pos_, h.record_len);
    if (!rec_avail.ok()) return rec_avail.status();
    if (*rec_avail < h.record_len) break;  // runs past the end of the file: torn
    if (in_garbage) ++corrupt_skipped_;
    in_garbage = false;
    if (!ValueVerifies(buf_->data + (pos_ - buf_offset_), h)) {
      ++corrupt_skipped_;
      pos_ += h.record_len;
      continue;
    }
    item->header = h;
    item->key = std::move(key_copy);
    item->attrs = std::move(attrs_copy);
    item->offset = pos_;
    pos_ += h.record_len;
    return true;
  }
  if (in_garbage || pos_ < file_size_ || torn_tail_) ++torn_skipped_;
  pos_ = file_size_;
  return false;
}

}  // namespace ctxstore::engine
