// On-disk formats of the flash tier (docs/on-disk-format.md is the spec).
//
// A segment file:
//
//   offset 0          4096
//   +-----------------+---------------------------------------------+------+
//   | SegmentHeader   | batch: records, zero pad to 4 KiB           | ...  |
//   | (padded to 4K)  | (every write the flusher makes is 4K-sized) |      |
//   +-----------------+---------------------------------------------+------+
//
// A record:
//
//   +--------------+-----+-----------+---------+-------------------+----------+
//   | RecordHeader | key | attrs     | (pad)   | value             | zero pad |
//   | 80 bytes     |     | attrs_len |         | at value_offset   |          |
//   +--------------+-----+-----------+---------+-------------------+----------+
//
// A sealed record (format 4, flag kRecordFlagSealed: its namespace is
// encrypted) holds a RecordSeal in the 64 bytes right before its value, and
// its value is the AES-256-GCM ciphertext of the object's value:
//
//   +--------------+-----+-------+-------+------------+-------------------+-----+
//   | RecordHeader | key | attrs | (pad) | RecordSeal | sealed value      | pad |
//   |              |     |       |       | 64 bytes   | at value_offset   |     |
//   +--------------+-----+-------+-------+------------+-------------------+-----+
//
// attrs (format 2 on; absent when empty): str group, str parent, str writer,
// u16 meta_len, meta, where str = u16 length + bytes.
//
// Small records are packed: the value right after the attrs (value_offset =
// 80 + key_len + attrs_len). Since format 3 a packed record takes its length
// rounded up to 64 bytes and starts on any 64-byte boundary, so several share
// a 4 KiB block (format 1 and 2 rounded every record up to 4 KiB). Large
// records start on a 4 KiB boundary and so does their value (value_offset =
// round_up(80 + key_len + attrs_len, 4 KiB)), so that it is written from, and
// read back into, the DRAM arena with O_DIRECT and no copy; their length is
// a multiple of 4 KiB. A batch's unused bytes (before a large record, at the
// end) are zero: a scanner that meets zeros up to a block boundary after a
// record skips to that boundary.
//
// header_xxh3 covers the header (with header_xxh3 itself zero), the key and
// the attrs; value_xxh3 covers the value. A record is valid only if both match.
// In a sealed record value_xxh3 is the XXH3 of the plaintext (what clients
// check); the seal's own checksums cover the seal and the stored ciphertext,
// so that a scan verifies a sealed record without its key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/limits.h"
#include "ctxstore/status.h"

namespace ctxstore::engine {

inline constexpr uint64_t kBlockSize = 4096;
inline constexpr uint64_t RoundUpToBlock(uint64_t n) {
  return (n + kBlockSize - 1) & ~(kBlockSize - 1);
}

inline constexpr uint32_t kRecordMagic = 0x52585443;      // "CTXR"
inline constexpr uint32_t kSegmentMagic = 0x47585443;     // "CTXG"
inline constexpr uint32_t kSuperblockMagic = 0x42585443;  // "CTXB"
// Superblock and segment headers.
inline constexpr uint16_t kFormatVersion = 1;
// Records: 2 adds the namespace id and the attrs; 3 packs small records to
// 64 bytes instead of 4 KiB; 4 adds sealed (encrypted) records. Records of
// formats 1 to 3 are still read.
inline constexpr uint16_t kRecordFormatVersion = 4;
// Where a format 3 packed record may start, and what its length is a multiple of.
inline constexpr uint64_t kRecordAlignment = 64;
inline constexpr uint64_t RoundUpToRecordAlignment(uint64_t n) {
  return (n + kRecordAlignment - 1) & ~(kRecordAlignment - 1);
}

// Records whose whole length, rounded up to 4 KiB, fits in this are packed
// and written by copy.
inline constexpr uint64_t kPackedRecordMaxBytes = 64 * 1024;

inline constexpr uint16_t kRecordFlagTombstone = 1 << 0;
inline constexpr uint16_t kRecordFlagSealed = 1 << 1;  // format 4: a RecordSeal precedes the value

// The engine keeps values under 4 GiB (index entries hold their length in
// 32 bits); a record that claims more is corrupt, and the bound keeps the
// layout arithmetic from overflowing.
inline constexpr uint64_t kMaxRecordValueBytes = UINT32_MAX;

struct RecordHeader {
  uint32_t magic;         //  0
  uint16_t version;       //  4
  uint16_t flags;         //  6  kRecordFlag*
  uint64_t seq;           //  8  store-wide sequence number, increasing
  uint64_t created_ms;    // 16  wall clock
  uint64_t expires_ms;    // 24  0 = never
  uint64_t value_len;     // 32
  uint64_t value_xxh3;    // 40
  uint32_t namespace_id;  // 48  0 = default
  uint32_t value_offset;  // 52  from the record start
  uint16_t key_len;       // 56
  uint16_t reserved;      // 58  zero
  uint32_t attrs_len;     // 60  bytes of attrs after the key (0 in format 1)
  uint64_t record_len;    // 64  whole record (format 3 packed: a multiple of 64, else of 4 KiB)
  uint64_t header_xxh3;   // 72
};
static_assert(sizeof(RecordHeader) == 80, "RecordHeader is part of the on-disk format");
inline constexpr size_t kRecordHeaderSize = sizeof(RecordHeader);

// How a sealed value was encrypted: the 64 bytes before the value of a
// record flagged kRecordFlagSealed.
struct RecordSeal {
  uint64_t key_id;       //  0  EncryptionKey::id of the key that sealed it
  uint8_t nonce[12];     //  8  AES-256-GCM nonce, random per record
  uint32_t reserved;     // 20  zero
  uint8_t tag[16];       // 24  GCM tag
  uint64_t stored_xxh3;  // 40  XXH3 of the ciphertext as stored
  uint64_t reserved2;    // 48  zero
  uint64_t seal_xxh3;    // 56  XXH3 of bytes 0..55
};
static_assert(sizeof(RecordSeal) == 64, "RecordSeal is part of the on-disk format");
inline constexpr size_t kRecordSealBytes = sizeof(RecordSeal);

// Bytes between the header and the value, but for padding: key, attrs and,
// when sealed, the seal. ComputeLayout takes this as head_bytes.
inline constexpr size_t RecordHeadBytes(size_t key_len, size_t attrs_len, uint16_t flags) {
  return key_len + attrs_len + ((flags & kRecordFlagSealed) ? kRecordSealBytes : 0);
}

// What an object carries besides its value (the record's attrs); immutable
// once stored, shared by the index entry, the flush queue and readers.
struct ObjectMeta {
  std::string group;   // session tag
  std::string parent;  // key of the previous chunk of the same prefix
  std::string writer;  // provenance: who wrote it
  std::string meta;    // the client's blob
  bool empty() const { return group.empty() && parent.empty() && writer.empty() && meta.empty(); }
};
// Four u16 lengths, then the fields, each within its limit.
inline constexpr size_t kMaxRecordAttrsBytes =
    4 * 2 + kMaxGroupBytes + kMaxParentBytes + kMaxWriterBytes + kMaxMetaBytes;
// The record parser refuses fields over these limits, so they are part of
// the on-disk format (docs/on-disk-format.md): records written under larger
// limits would read as corrupt.
static_assert(kMaxKeyBytes == 512 && kMaxGroupBytes == 512 && kMaxParentBytes == 512 &&
                  kMaxWriterBytes == 256 && kMaxMetaBytes == 4096,
              "the record format's field limits changed: bump kRecordFormatVersion");

std::string EncodeRecordAttrs(const ObjectMeta* meta);  // "" for null or empty
// EncodeRecordAttrs(meta).size(), without building it (flash reads need it).
inline size_t RecordAttrsLen(const ObjectMeta* meta) {
  if (meta == nullptr || meta->empty()) return 0;
  return 8 + meta->group.size() + meta->parent.size() + meta->writer.size() + meta->meta.size();
}
Status DecodeRecordAttrs(std::string_view attrs, ObjectMeta* meta);

struct RecordLayout {
  uint64_t value_offset = 0;
  uint64_t record_len = 0;
  bool packed = false;
  // Bytes from the record start up to the value (packed: the whole record).
  uint64_t head_len() const { return packed ? record_len : value_offset; }
};
// head_bytes: RecordHeadBytes(). Where the value is does not depend on the
// format version; only a packed record's length does.
RecordLayout ComputeLayout(size_t head_bytes, uint64_t value_len,
                           uint16_t version = kRecordFormatVersion);

// Fills the header fields that derive from the others (magic, version,
// layout, header checksum).
RecordHeader MakeRecordHeader(uint16_t flags, uint64_t seq, uint64_t created_ms,
                              uint64_t expires_ms, uint32_t namespace_id, std::string_view key,
                              std::string_view attrs, uint64_t value_len, uint64_t value_xxh3,
                              uint16_t version = kRecordFormatVersion);

// Writes header, key, attrs and (packed) value into out, which must hold
// layout.head_len() bytes; zero-fills the padding. A sealed record's seal
// and value are the caller's to write (its value is the ciphertext).
void EncodeRecordHead(const RecordHeader& h, std::string_view key, std::string_view attrs,
                      std::span<const uint8_t> packed_value, std::span<uint8_t> out);

// Fills a seal's checksums; its other fields are the caller's.
void FinishRecordSeal(RecordSeal* seal, const uint8_t* sealed_value, uint64_t value_len);
// Checks a seal read back: its checksum, its reserved fields and, when
// sealed_value is given, the ciphertext's checksum.
Status ParseRecordSeal(std::span<const uint8_t> bytes, RecordSeal* seal,
                       const uint8_t* sealed_value = nullptr, uint64_t value_len = 0);

// Parses and checks a header (magic, version, checksum over header, key and
// attrs, lengths consistent). `bytes` starts at the record; when it is too
// short to hold the key and attrs, kTooLarge tells the caller to offer more
// (*needed gets the length). On success *key and *attrs point into bytes.
Status ParseRecordHeader(std::span<const uint8_t> bytes, RecordHeader* h, std::string_view* key,
                         std::string_view* attrs, uint64_t* needed = nullptr);

// Segment header: the first 4 KiB of every segment file.
struct SegmentHeader {
  uint32_t magic;        // 0
  uint16_t version;      // 4
  uint16_t reserved;     // 6
  uint64_t segment_id;   // 8
  uint64_t created_ms;   // 16
  uint64_t store_id;     // 24  from the superblock: segments of another store are refused
  uint64_t header_xxh3;  // 32  over bytes 0..31
};
static_assert(sizeof(SegmentHeader) == 40, "SegmentHeader is part of the on-disk format");
inline constexpr uint64_t kSegmentHeaderBytes = kBlockSize;

SegmentHeader MakeSegmentHeader(uint64_t segment_id, uint64_t created_ms, uint64_t store_id);
Status ParseSegmentHeader(std::span<const uint8_t> bytes, SegmentHeader* h);

// The store's superblock, file SUPERBLOCK in the data folder.
struct Superblock {
  uint32_t magic;        // 0
  uint16_t version;      // 4
  uint16_t reserved;     // 6
  uint64_t store_id;     // 8  random at creation
  uint64_t created_ms;   // 16
  uint64_t header_xxh3;  // 24 over bytes 0..23
};
static_assert(sizeof(Superblock) == 32, "Superblock is part of the on-disk format");

std::string EncodeSuperblock(uint64_t store_id, uint64_t created_ms);
Result<Superblock> ParseSuperblock(std::string_view bytes);

}  // namespace ctxstore::engine
