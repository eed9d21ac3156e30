// Fuzzes the on-disk parsers of src/engine/flash/record.h: record headers (with
// their key and attrs), the record attrs, segment headers and the superblock.
//
// Input: one control byte, then the bytes to parse. Its low two bits select
// the parser (kRecord, kSegmentHeader, kSuperblock, else the record attrs).
// Unless kKeepChecksums is set, the checksums are recomputed over the input
// first, so that mutations reach the checks behind them (lengths, layout,
// attrs) instead of all stopping at a checksum mismatch.
//
// Whatever parses must be consistent: a record's key, attrs and value lie
// within its length, its layout is the one its lengths imply, and it encodes
// back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "engine/flash/record.h"
#include "fuzz/fuzz_check.h"

namespace ctxstore::engine {
namespace {

enum : uint8_t {
  kRecord = 0,
  kSegmentHeader = 1,
  kSuperblock = 2,
  kSelectorMask = 3,
  kKeepChecksums = 1 << 2,
};

constexpr uint64_t kMaxKeyBytesOnDisk = 512;  // as ParseRecordHeader checks

// Recomputes a record's header_xxh3 (over header, key and attrs) in place,
// where the input holds them; what a writer would have produced.
void FixRecordChecksum(std::vector<uint8_t>& bytes) {
  if (bytes.size() < kRecordHeaderSize) return;
  RecordHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  uint64_t head = kRecordHeaderSize + uint64_t{h.key_len} + h.attrs_len;
  if (head > bytes.size()) return;
  h.header_xxh3 = 0;
  Xxh3Stream s;
  s.Update(&h, sizeof(h));
  s.Update(bytes.data() + kRecordHeaderSize, head - kRecordHeaderSize);
  h.header_xxh3 = s.Digest();
  std::memcpy(bytes.data(), &h, sizeof(h));
}

void CheckExt(std::string_view attrs) {
  ObjectMeta meta;
  if (!DecodeRecordAttrs(attrs, &meta).ok()) return;
  FUZZ_CHECK(meta.group.size() <= 512 && meta.parent.size() <= 512 && meta.writer.size() <= 256 &&
             meta.meta.size() <= 4096);
  // The read path finds a value after the attrs by the attrs's re-encoded
  // length (RecordAttrsLen): only canonical exts may decode.
  FUZZ_CHECK(EncodeRecordAttrs(&meta) == attrs);
  FUZZ_CHECK(RecordAttrsLen(&meta) == attrs.size());
}

void CheckRecord(std::span<const uint8_t> bytes) {
  RecordHeader h;
  std::string_view key, attrs;
  uint64_t needed = 0;
  Status st = ParseRecordHeader(bytes, &h, &key, &attrs, &needed);
  if (st.code() == StatusCode::kTooLarge) {
    // Asks for more bytes than were given, as the scanner relies on.
    FUZZ_CHECK(needed > bytes.size());
    FUZZ_CHECK(needed <= kRecordHeaderSize + kMaxKeyBytesOnDisk + kMaxRecordAttrsBytes);
    return;
  }
  if (!st.ok()) return;
  FUZZ_CHECK(h.magic == kRecordMagic && h.version >= 1 && h.version <= kRecordFormatVersion);
  FUZZ_CHECK(key.size() == h.key_len && key.size() >= 1 && key.size() <= kMaxKeyBytesOnDisk);
  FUZZ_CHECK(attrs.size() == h.attrs_len && attrs.size() <= kMaxRecordAttrsBytes);
  const auto* base = reinterpret_cast<const char*>(bytes.data());
  FUZZ_CHECK(key.data() == base + kRecordHeaderSize);
  FUZZ_CHECK(attrs.data() + attrs.size() <= base + bytes.size());

  // The layout: the value after the head, within the record; no overflow.
  const uint64_t head = kRecordHeaderSize + uint64_t{h.key_len} + h.attrs_len;
  FUZZ_CHECK(h.value_offset >= head);
  FUZZ_CHECK(h.value_len <= h.record_len && h.value_offset <= h.record_len - h.value_len);
  RecordLayout layout = ComputeLayout(h.key_len + h.attrs_len, h.value_len, h.version);
  if (layout.packed) {
    FUZZ_CHECK(h.record_len % (h.version >= 3 ? kRecordAlignment : kBlockSize) == 0);
    FUZZ_CHECK(RoundUpToBlock(h.record_len) <= kPackedRecordMaxBytes);
  } else {
    FUZZ_CHECK(h.value_offset % kBlockSize == 0 && h.record_len % kBlockSize == 0);
  }

  // Encodes back to the same header, key and attrs.
  RecordHeader again = MakeRecordHeader(h.flags, h.seq, h.created_ms, h.expires_ms, h.namespace_id,
                                        key, attrs, h.value_len, h.value_xxh3, h.version);
  FUZZ_CHECK(std::memcmp(&again, &h, sizeof(h)) == 0);
  if (layout.packed && layout.head_len() <= bytes.size()) {
    std::vector<uint8_t> out(layout.head_len());
    EncodeRecordHead(h, key, attrs, bytes.subspan(h.value_offset, h.value_len), out);
    FUZZ_CHECK(std::memcmp(out.data(), bytes.data(), head) == 0);
    FUZZ_CHECK(
        std::memcmp(out.data() + h.value_offset, bytes.data() + h.value_offset, h.value_len) == 0);
  }
  // What the scanner does next: hash the value when it is all there.
  if (h.record_len <= bytes.size()) (void)Xxh3(bytes.data() + h.value_offset, h.value_len);
  CheckExt(attrs);
}

void CheckSegmentHeader(std::vector<uint8_t>& bytes, bool fix) {
  if (fix && bytes.size() >= sizeof(SegmentHeader)) {
    SegmentHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    h.header_xxh3 = Xxh3(&h, offsetof(SegmentHeader, header_xxh3));
    std::memcpy(bytes.data(), &h, sizeof(h));
  }
  SegmentHeader h;
  if (!ParseSegmentHeader(bytes, &h).ok()) return;
  SegmentHeader again = MakeSegmentHeader(h.segment_id, h.created_ms, h.store_id);
  again.reserved = h.reserved;  // not checked by the parser; not part of the checksum's meaning
  again.header_xxh3 = Xxh3(&again, offsetof(SegmentHeader, header_xxh3));
  FUZZ_CHECK(std::memcmp(&again, &h, sizeof(h)) == 0);
}

void CheckSuperblock(std::vector<uint8_t>& bytes, bool fix) {
  if (fix && bytes.size() >= sizeof(Superblock)) {
    Superblock s;
    std::memcpy(&s, bytes.data(), sizeof(s));
    s.header_xxh3 = Xxh3(&s, offsetof(Superblock, header_xxh3));
    std::memcpy(bytes.data(), &s, sizeof(s));
  }
  auto sb =
      ParseSuperblock(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!sb.ok()) return;
  std::string encoded = EncodeSuperblock(sb->store_id, sb->created_ms);
  Superblock again;
  std::memcpy(&again, encoded.data(), sizeof(again));
  again.reserved = sb->reserved;
  again.header_xxh3 = Xxh3(&again, offsetof(Superblock, header_xxh3));
  FUZZ_CHECK(std::memcmp(&again, &*sb, sizeof(again)) == 0);
}

}  // namespace
}  // namespace ctxstore::engine

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore::engine;
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const bool fix = (control & kKeepChecksums) == 0;
  // A copy of exactly the input's size, so that AddressSanitizer catches a
  // read past its end.
  std::vector<uint8_t> bytes(data + 1, data + size);
  switch (control & kSelectorMask) {
    case kRecord:
      if (fix) FixRecordChecksum(bytes);
      CheckRecord(bytes);
      break;
    case kSegmentHeader:
      CheckSegmentHeader(bytes, fix);
      break;
    case kSuperblock:
      CheckSuperblock(bytes, fix);
      break;
    default:
      CheckExt(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      break;
  }
  return 0;
}
