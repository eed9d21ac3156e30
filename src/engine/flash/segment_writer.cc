#include "engine/flash/segment_writer.h"

#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "common/hash.h"
#include "engine/security/encryption.h"

namespace ctxstore::engine {
namespace {

// Iovecs per writev: the kernel's IOV_MAX is 1024; half of it keeps a
// batch of small records in a few large writes.
constexpr size_t kMaxIovecsPerWrite = 512;
constexpr uint64_t kMaxPooledSealBytes = 64ull << 20;
// The staging buffer is kept for the next batch up to this size: a fresh
// one costs a page fault per 4 KiB on first touch, several times slower on
// the CI VM than the copy it serves (docs/benchmarks.md), and a batch of
// 64 KiB records stages a 4 KiB head each.
constexpr uint64_t kMaxPooledStagingBytes = 16ull << 20;

uint16_t RecordFlags(const FlushItem& item) {
  if (item.kind == FlushItem::Kind::kTombstone) return kRecordFlagTombstone;
  return item.seal_key ? kRecordFlagSealed : 0;
}

RecordLayout LayoutOf(const FlushItem& item) {
  return ComputeLayout(
      RecordHeadBytes(item.key.size() - kIndexKeyPrefix, item.attrs.size(), RecordFlags(item)),
      item.value_len);
}

}  // namespace

struct SegmentWriter::Run {
  explicit Run(std::unique_ptr<AlignedBuffer> buffer) : staging(std::move(buffer)) {}

  // Where the next staged byte lands in the segment.
  uint64_t end(const Segment& segment) const {
    return segment.end_offset() + iov_bytes + (staging_used - run_start);
  }
  // Pads the staged run to a block boundary with zeros and adds it to iov.
  void Close() {
    const uint64_t padded = RoundUpToBlock(staging_used);
    CTX_CHECK(padded <= staging->size);
    std::memset(staging->data + staging_used, 0, padded - staging_used);
    staging_used = padded;
    if (staging_used > run_start) {
      iov.push_back({staging->data + run_start, staging_used - run_start});
      iov_bytes += staging_used - run_start;
    }
    run_start = staging_used;
  }

  std::unique_ptr<AlignedBuffer> staging;
  uint64_t staging_used = 0;  // end of the staged bytes
  uint64_t run_start = 0;     // staged bytes from here on are not in iov yet
  std::vector<iovec> iov;
  uint64_t iov_bytes = 0;
  std::vector<FlushItem*> pending;  // items whose bytes are in iov
  // Ciphertexts of sealed large records, written from here (the arena
  // keeps the plaintext); pooled once written.
  std::vector<std::unique_ptr<AlignedBuffer>> sealed_values;
};

uint64_t SegmentWriter::RecordBytes(const FlushItem& item) {
  return item.kind == FlushItem::Kind::kBarrier ? 0 : LayoutOf(item).record_len;
}

bool SegmentWriter::Fits(const Segment& segment, const FlushItem& item) const {
  const uint64_t end = segment.end_offset();
  return end <= kSegmentHeaderBytes || RoundUpToBlock(end + RecordBytes(item)) <= segment_bytes_;
}

SegmentWriter::Outcome SegmentWriter::Append(Segment& segment, std::span<FlushItem> items,
                                             const std::function<bool()>& stop) {
  // Sized as if every record took whole blocks (format 2): packing into a
  // shared block never needs more.
  uint64_t staging_bytes = 0;
  for (const FlushItem& item : items) {
    if (item.kind != FlushItem::Kind::kBarrier) {
      staging_bytes += RoundUpToBlock(LayoutOf(item).head_len());
    }
  }
  std::unique_ptr<AlignedBuffer> buffer = std::move(staging_pool_);
  if (!buffer || buffer->size < staging_bytes)
    buffer = std::make_unique<AlignedBuffer>(staging_bytes);
  Run run(std::move(buffer));
  Outcome out = Fill(run, segment, items, stop);
  if (run.staging->size <= kMaxPooledStagingBytes) staging_pool_ = std::move(run.staging);
  return out;
}

SegmentWriter::Outcome SegmentWriter::Fill(Run& run, Segment& segment, std::span<FlushItem> items,
                                           const std::function<bool()>& stop) {
  Outcome out;
  for (FlushItem& item : items) {
    if (item.kind != FlushItem::Kind::kBarrier) {
      const uint64_t end = run.end(segment);
      const bool fits = end <= kSegmentHeaderBytes ||
                        RoundUpToBlock(end + LayoutOf(item).record_len) <= segment_bytes_;
      if (!fits || (stop && stop())) break;
      out.status = Stage(run, segment, item);
      if (!out.status.ok()) return out;  // nothing staged is written; the caller retries it
    }
    ++out.consumed;
    if (run.iov.size() >= kMaxIovecsPerWrite) {
      out.status = WriteRun(run, segment);
      if (!out.status.ok()) {
        out.write_failed = true;
        return out;
      }
    }
  }
  out.status = WriteRun(run, segment);
  out.write_failed = !out.status.ok();
  return out;
}

Status SegmentWriter::Stage(Run& run, Segment& segment, FlushItem& item) {
  const std::string_view user_key = IndexKeyUserKey(item.key);
  const uint16_t flags = RecordFlags(item);
  const RecordLayout layout = LayoutOf(item);
  if (!layout.packed) run.Close();  // a large record and its value start on a block
  const RecordHeader h = MakeRecordHeader(flags, item.seq, item.created_ms, item.expires_ms,
                                          IndexKeyNamespace(item.key), user_key, item.attrs,
                                          item.value_len, item.value_xxh3);
  CTX_CHECK(run.staging_used % kRecordAlignment == 0);
  std::span<uint8_t> head(run.staging->data + run.staging_used, layout.head_len());
  item.segment_id = segment.id();
  item.record_offset = run.end(segment);
  run.staging_used += layout.head_len();
  CTX_CHECK(run.staging_used <= run.staging->size);
  std::span<const uint8_t> packed_value;
  if (layout.packed && item.value_len > 0) packed_value = {item.value_data(), item.value_len};
  EncodeRecordHead(h, user_key, item.attrs, packed_value, head);
  // What the record stores as its value (tombstones have none).
  const uint8_t* value_out = item.value_len > 0 ? item.value_data() : nullptr;
  if (flags & kRecordFlagSealed) CTX_RETURN_IF_ERROR(Seal(run, item, layout, head, &value_out));
  CheckStaged(item, layout, flags, head);
  if (!layout.packed) {
    run.Close();  // adds no padding: the head is whole blocks
    // Straight from the arena (or the sealed copy): page-aligned, tail zeroed.
    CTX_CHECK(flags & kRecordFlagSealed || item.value_capacity() >= RoundUpToBlock(item.value_len));
    run.iov.push_back({const_cast<uint8_t*>(value_out), RoundUpToBlock(item.value_len)});
    run.iov_bytes += RoundUpToBlock(item.value_len);
  }
  run.pending.push_back(&item);
  return Status::Ok();
}

Status SegmentWriter::Seal(Run& run, FlushItem& item, const RecordLayout& layout,
                           std::span<uint8_t> head, const uint8_t** value_out) {
  // Packed: sealed into the staged record. Large: into a buffer of its own,
  // whole blocks with a zero tail like an arena block.
  uint8_t* sealed = head.data() + layout.value_offset;
  if (!layout.packed) {
    const uint64_t need = RoundUpToBlock(item.value_len);
    auto fits = std::find_if(seal_buffers_.begin(), seal_buffers_.end(),
                             [need](const auto& b) { return b->size >= need; });
    if (fits != seal_buffers_.end()) {
      run.sealed_values.push_back(std::move(*fits));
      seal_buffers_.erase(fits);
    } else {
      run.sealed_values.push_back(std::make_unique<AlignedBuffer>(need));
    }
    sealed = run.sealed_values.back()->data;
    std::memset(sealed + item.value_len, 0, need - item.value_len);
  }
  SealInfo info;
  env_->FillRandom(info.nonce);
  CTX_RETURN_IF_ERROR(SealValueWithNonce(
      *item.seal_key,
      RecordAad(IndexKeyNamespace(item.key), item.seq, IndexKeyUserKey(item.key), item.attrs),
      *value_out, sealed, item.value_len, &info));
  RecordSeal seal{};
  seal.key_id = info.key_id;
  std::memcpy(seal.nonce, info.nonce.data(), sizeof(seal.nonce));
  std::memcpy(seal.tag, info.tag.data(), sizeof(seal.tag));
  FinishRecordSeal(&seal, sealed, item.value_len);
  std::memcpy(head.data() + layout.value_offset - kRecordSealBytes, &seal, sizeof(seal));
  *value_out = sealed;
  return Status::Ok();
}

void SegmentWriter::CheckStaged(const FlushItem& item, const RecordLayout& layout, uint16_t flags,
                                std::span<const uint8_t> head) {
  RecordHeader h{};
  std::string_view key, attrs;
  CTX_CHECK(ParseRecordHeader(head, &h, &key, &attrs).ok());
  CTX_CHECK(h.flags == flags && h.seq == item.seq && h.created_ms == item.created_ms &&
            h.expires_ms == item.expires_ms && h.value_len == item.value_len &&
            h.value_xxh3 == item.value_xxh3 && h.namespace_id == IndexKeyNamespace(item.key));
  CTX_CHECK(key == IndexKeyUserKey(item.key) && attrs == item.attrs);
  CTX_CHECK(h.value_offset == layout.value_offset && h.record_len == layout.record_len);
  // The plaintext as it goes out: the staged copy of a packed value (what
  // the write takes), else the bytes the record is written or sealed from.
  const uint8_t* value = nullptr;
  if (item.value_len > 0) {
    value = layout.packed && !(flags & kRecordFlagSealed) ? head.data() + layout.value_offset
                                                          : item.value_data();
  }
  // Hashing the value again costs 6 to 8% of the time its write takes
  // (docs/architecture.md, "Checks before a write"): a sample of one record
  // in kValueCheckInterval in Release builds, every one where CTX_DCHECK is
  // on.
  if (records_++ % kValueCheckInterval == 0) {
    CTX_CHECK(Xxh3(value, item.value_len) == item.value_xxh3);
  } else {
    CTX_DCHECK(Xxh3(value, item.value_len) == item.value_xxh3);
  }
}

Status SegmentWriter::WriteRun(Run& run, Segment& segment) {
  run.Close();
  if (run.iov.empty()) return Status::Ok();
  CTX_RETURN_IF_ERROR(segment.Append(run.iov, run.iov_bytes));
  for (FlushItem* item : run.pending) item->appended = true;
  run.iov.clear();
  run.iov_bytes = 0;
  run.pending.clear();
  uint64_t pooled = 0;
  for (const auto& b : seal_buffers_) pooled += b->size;
  for (auto& b : run.sealed_values) {
    if (pooled + b->size > kMaxPooledSealBytes) break;
    pooled += b->size;
    seal_buffers_.push_back(std::move(b));
  }
  run.sealed_values.clear();
  return Status::Ok();
}

}  // namespace ctxstore::engine
