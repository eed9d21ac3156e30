#include "engine/flash/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <span>

#include "common/byte_io.h"
#include "common/clock.h"
#include "common/hash.h"

namespace ctxstore::engine {

Status WriteCheckpoint(Device* device, const std::string& path, const Checkpoint& cp) {
  std::string out;
  out.reserve(sizeof(CheckpointHeader) + cp.entries.size() * (kCheckpointEntryFixedBytes + 64) + 8);
  CheckpointHeader h{};
  h.magic = kCheckpointMagic;
  h.version = kCheckpointVersion;
  h.store_id = cp.store_id;
  h.entry_count = cp.entries.size();
  h.next_seq = cp.next_seq;
  h.replay_segment_id = cp.replay_segment_id;
  h.replay_offset = cp.replay_offset;
  h.created_ms = cp.created_ms != 0 ? cp.created_ms : WallClockMs();
  out.append(reinterpret_cast<const char*>(&h), sizeof(h));
  ByteWriter w(&out);
  for (const CheckpointEntry& e : cp.entries) {
    w.Put(e.seq);
    w.Put(e.segment_id);
    w.Put(e.record_offset);
    w.Put(e.value_len);
    w.Put(e.value_xxh3);
    w.Put(e.created_ms);
    w.Put(e.expires_ms);
    w.Put(e.flags);
    w.PutShortString(e.key);
    w.PutShortString(e.attrs);
  }
  w.Put(Xxh3(out.data(), out.size()));
  return device->WriteFileAtomic(path, out);
}

namespace {

// Large enough that reading costs few calls, bounded so that a checkpoint
// of any size is read with the same memory.
constexpr size_t kReadBufferBytes = 1 << 20;
static_assert(kReadBufferBytes >= kMaxCheckpointEntryBytes, "a buffer must hold any entry");

// buf.size() bytes at offset, or kCorrupt when the file ends first (it was
// cut short after its size was taken).
Status ReadFully(File* file, uint64_t offset, std::span<uint8_t> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    auto n = file->ReadAt(offset + done, buf.subspan(done));
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::Corrupt("checkpoint ended before its size");
    done += *n;
  }
  return Status::Ok();
}

}  // namespace

CheckpointReader::CheckpointReader(std::unique_ptr<File> file, uint64_t entries_end,
                                   size_t buffer_bytes)
    : file_(std::move(file)), entries_end_(entries_end), buffer_(buffer_bytes) {}

Result<std::unique_ptr<CheckpointReader>> CheckpointReader::Open(Device* device,
                                                                 const std::string& path) {
  if (!device->FileExists(path)) return Status::NotFound("no checkpoint");
  OpenOptions opts;
  opts.read_only = true;
  auto file = device->Open(path, opts);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  if (*size < sizeof(CheckpointHeader) + 8) return Status::Corrupt("checkpoint too short");
  const uint64_t entries_end = *size - 8;
  std::unique_ptr<CheckpointReader> r(new CheckpointReader(
      std::move(*file), entries_end, std::min<uint64_t>(kReadBufferBytes, entries_end)));
  CTX_RETURN_IF_ERROR(r->Refill());  // at least the header: the buffer is >= 64 bytes
  CheckpointHeader h{};
  std::memcpy(&h, r->buffer_.data(), sizeof(h));
  r->begin_ = sizeof(h);
  if (h.magic != kCheckpointMagic || h.version != kCheckpointVersion) {
    return Status::Corrupt("checkpoint has a bad magic or version");
  }
  if (h.entry_count > (entries_end - sizeof(h)) / (kCheckpointEntryFixedBytes + 2 + 1)) {
    return Status::Corrupt("checkpoint entry count exceeds its size");
  }
  r->header_.store_id = h.store_id;
  r->header_.next_seq = h.next_seq;
  r->header_.replay_segment_id = h.replay_segment_id;
  r->header_.replay_offset = h.replay_offset;
  r->header_.created_ms = h.created_ms;
  r->entry_count_ = h.entry_count;
  return r;
}

Status CheckpointReader::Refill() {
  std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  const size_t want = std::min<uint64_t>(buffer_.size() - end_, entries_end_ - file_pos_);
  std::span<uint8_t> fresh(buffer_.data() + end_, want);
  CTX_RETURN_IF_ERROR(ReadFully(file_.get(), file_pos_, fresh));
  hash_.Update(fresh.data(), fresh.size());
  end_ += want;
  file_pos_ += want;
  return Status::Ok();
}

Status CheckpointReader::VerifyChecksum() {
  if (begin_ != end_ || file_pos_ != entries_end_) {
    return Status::Corrupt("checkpoint has bytes after its entries");
  }
  uint64_t stored = 0;
  CTX_RETURN_IF_ERROR(ReadFully(file_.get(), entries_end_,
                                std::span<uint8_t>(reinterpret_cast<uint8_t*>(&stored), 8)));
  if (hash_.Digest() != stored) return Status::Corrupt("checkpoint checksum mismatch");
  return Status::Ok();
}

Result<bool> CheckpointReader::Next(CheckpointEntryView* e) {
  if (entries_read_ == entry_count_) {
    // Whatever is left is read (and hashed) first: trailing bytes must
    // not pass for a checksum mismatch, nor a mismatch for trailing bytes.
    if (file_pos_ < entries_end_) CTX_RETURN_IF_ERROR(Refill());
    CTX_RETURN_IF_ERROR(VerifyChecksum());
    return false;
  }
  if (end_ - begin_ < kMaxCheckpointEntryBytes && file_pos_ < entries_end_) {
    CTX_RETURN_IF_ERROR(Refill());
  }
  ByteReader r(std::span<const uint8_t>(buffer_.data() + begin_, end_ - begin_));
  e->seq = r.Get<uint64_t>();
  e->segment_id = r.Get<uint64_t>();
  e->record_offset = r.Get<uint64_t>();
  e->value_len = r.Get<uint64_t>();
  e->value_xxh3 = r.Get<uint64_t>();
  e->created_ms = r.Get<uint64_t>();
  e->expires_ms = r.Get<uint64_t>();
  e->flags = r.Get<uint16_t>();
  e->key = r.GetShortString();
  e->attrs = r.GetShortString();
  if (!r.ok()) return Status::Corrupt("checkpoint entries malformed");
  begin_ += r.position();
  ++entries_read_;
  return true;
}

Result<Checkpoint> ReadCheckpoint(Device* device, const std::string& path) {
  auto reader = CheckpointReader::Open(device, path);
  if (!reader.ok()) return reader.status();
  Checkpoint cp = (*reader)->header();
  cp.entries.reserve((*reader)->entry_count());
  CheckpointEntryView v;
  while (true) {
    auto more = (*reader)->Next(&v);
    if (!more.ok()) return more.status();
    if (!*more) break;
    cp.entries.push_back({std::string(v.key), std::string(v.attrs), v.seq, v.segment_id,
                          v.record_offset, v.value_len, v.value_xxh3, v.created_ms, v.expires_ms,
                          v.flags});
  }
  return cp;
}

}  // namespace ctxstore::engine
