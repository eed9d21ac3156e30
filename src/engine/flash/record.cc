#include "engine/flash/record.h"

#include <cstddef>
#include <cstring>

#include "common/check.h"
#include "common/hash.h"

namespace ctxstore::engine {
namespace {

uint64_t HeaderChecksum(RecordHeader h, std::string_view key, std::string_view attrs) {
  h.header_xxh3 = 0;
  Xxh3Stream s;
  s.Update(&h, sizeof(h));
  s.Update(key.data(), key.size());
  if (!attrs.empty()) s.Update(attrs.data(), attrs.size());
  return s.Digest();
}

}  // namespace

std::string EncodeRecordAttrs(const ObjectMeta* meta) {
  std::string out;
  if (meta == nullptr || meta->empty()) return out;
  auto put_str = [&out](std::string_view s) {
    uint16_t n = static_cast<uint16_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), 2);
    out.append(s);
  };
  put_str(meta->group);
  put_str(meta->parent);
  put_str(meta->writer);
  put_str(meta->meta);
  CTX_CHECK(out.size() <= kMaxRecordAttrsBytes && out.size() == RecordAttrsLen(meta));
  return out;
}

Status DecodeRecordAttrs(std::string_view attrs, ObjectMeta* meta) {
  *meta = ObjectMeta{};
  if (attrs.empty()) return Status::Ok();
  size_t pos = 0;
  auto get_str = [&](std::string* s, size_t max) {
    uint16_t n = 0;
    if (attrs.size() - pos < 2) return false;
    std::memcpy(&n, attrs.data() + pos, 2);
    pos += 2;
    if (n > max || attrs.size() - pos < n) return false;
    s->assign(attrs.substr(pos, n));
    pos += n;
    return true;
  };
  if (!get_str(&meta->group, kMaxGroupBytes) || !get_str(&meta->parent, kMaxParentBytes) ||
      !get_str(&meta->writer, kMaxWriterBytes) || !get_str(&meta->meta, kMaxMetaBytes) ||
      pos != attrs.size()) {
    return Status::Corrupt("malformed record attrs");
  }
  // Writers leave the attrs out when there is no metadata, and readers find
  // the value by the length of the attrs re-encoded (RecordAttrsLen): an attrs section of
  // empty strings would put it elsewhere.
  if (meta->empty()) return Status::Corrupt("record attrs holds no metadata");
  return Status::Ok();
}

RecordLayout ComputeLayout(size_t head_bytes, uint64_t value_len, uint16_t version) {
  RecordLayout l;
  const uint64_t packed_bytes = kRecordHeaderSize + head_bytes + value_len;
  if (RoundUpToBlock(packed_bytes) <= kPackedRecordMaxBytes) {
    l.packed = true;
    l.value_offset = kRecordHeaderSize + head_bytes;
    l.record_len =
        version >= 3 ? RoundUpToRecordAlignment(packed_bytes) : RoundUpToBlock(packed_bytes);
  } else {
    l.value_offset = RoundUpToBlock(kRecordHeaderSize + head_bytes);
    l.record_len = l.value_offset + RoundUpToBlock(value_len);
  }
  return l;
}

RecordHeader MakeRecordHeader(uint16_t flags, uint64_t seq, uint64_t created_ms,
                              uint64_t expires_ms, uint32_t namespace_id, std::string_view key,
                              std::string_view attrs, uint64_t value_len, uint64_t value_xxh3,
                              uint16_t version) {
  RecordLayout l =
      ComputeLayout(RecordHeadBytes(key.size(), attrs.size(), flags), value_len, version);
  RecordHeader h{};
  h.magic = kRecordMagic;
  h.version = version;
  h.flags = flags;
  h.seq = seq;
  h.created_ms = created_ms;
  h.expires_ms = expires_ms;
  h.value_len = value_len;
  h.value_xxh3 = value_xxh3;
  h.namespace_id = namespace_id;
  h.value_offset = static_cast<uint32_t>(l.value_offset);
  h.key_len = static_cast<uint16_t>(key.size());
  h.reserved = 0;
  h.attrs_len = static_cast<uint32_t>(attrs.size());
  h.record_len = l.record_len;
  h.header_xxh3 = HeaderChecksum(h, key, attrs);
  return h;
}

void EncodeRecordHead(const RecordHeader& h, std::string_view key, std::string_view attrs,
                      std::span<const uint8_t> packed_value, std::span<uint8_t> out) {
  RecordLayout l =
      ComputeLayout(RecordHeadBytes(key.size(), attrs.size(), h.flags), h.value_len, h.version);
  CTX_CHECK(out.size() == l.head_len());
  CTX_CHECK(l.packed == !packed_value.empty() || h.value_len == 0);
  CTX_CHECK(h.attrs_len == attrs.size());
  std::memset(out.data(), 0, out.size());
  std::memcpy(out.data(), &h, sizeof(h));
  std::memcpy(out.data() + sizeof(h), key.data(), key.size());
  if (!attrs.empty()) std::memcpy(out.data() + sizeof(h) + key.size(), attrs.data(), attrs.size());
  if (l.packed && !packed_value.empty() && !(h.flags & kRecordFlagSealed)) {
    CTX_CHECK(packed_value.size() == h.value_len);
    std::memcpy(out.data() + l.value_offset, packed_value.data(), packed_value.size());
  }
}

Status ParseRecordHeader(std::span<const uint8_t> bytes, RecordHeader* h, std::string_view* key,
                         std::string_view* attrs, uint64_t* needed) {
  if (bytes.size() < kRecordHeaderSize) return Status::Corrupt("short record header");
  std::memcpy(h, bytes.data(), sizeof(*h));
  if (h->magic != kRecordMagic) return Status::Corrupt("bad record magic");
  if (h->version < 1 || h->version > kRecordFormatVersion) {
    return Status::Corrupt("unsupported record format version " + std::to_string(h->version));
  }
  if (h->key_len == 0 || h->key_len > kMaxKeyBytes) return Status::Corrupt("bad record key length");
  if (h->attrs_len > kMaxRecordAttrsBytes || (h->version == 1 && h->attrs_len != 0)) {
    return Status::Corrupt("bad record attrs length");
  }
  if (h->value_len > kMaxRecordValueBytes) return Status::Corrupt("bad record value length");
  // Tombstones carry no value to seal; format 3 and earlier knew no seal.
  const uint16_t known_flags = h->version >= 4 && !(h->flags & kRecordFlagTombstone)
                                   ? kRecordFlagTombstone | kRecordFlagSealed
                                   : kRecordFlagTombstone;
  if ((h->flags & ~known_flags) != 0) return Status::Corrupt("unknown record flags");
  uint64_t head = kRecordHeaderSize + h->key_len + h->attrs_len;
  if (head > bytes.size()) {
    if (needed) *needed = head;
    return Status::TooLarge("record head runs past the bytes given");
  }
  const char* base = reinterpret_cast<const char*>(bytes.data());
  *key = std::string_view(base + kRecordHeaderSize, h->key_len);
  *attrs = std::string_view(base + kRecordHeaderSize + h->key_len, h->attrs_len);
  if (HeaderChecksum(*h, *key, *attrs) != h->header_xxh3)
    return Status::Corrupt("record header checksum mismatch");
  // The checksum passed; the lengths must still agree with the layout rules.
  RecordLayout l =
      ComputeLayout(RecordHeadBytes(h->key_len, h->attrs_len, h->flags), h->value_len, h->version);
  if (h->reserved != 0 || l.value_offset != h->value_offset || l.record_len != h->record_len) {
    return Status::Corrupt("record layout inconsistent with its lengths");
  }
  return Status::Ok();
}

void FinishRecordSeal(RecordSeal* seal, const uint8_t* sealed_value, uint64_t value_len) {
  seal->reserved = 0;
  seal->reserved2 = 0;
  seal->stored_xxh3 = Xxh3(sealed_value, value_len);
  seal->seal_xxh3 = Xxh3(seal, offsetof(RecordSeal, seal_xxh3));
}

Status ParseRecordSeal(std::span<const uint8_t> bytes, RecordSeal* seal,
                       const uint8_t* sealed_value, uint64_t value_len) {
  if (bytes.size() < sizeof(*seal)) return Status::Corrupt("short record seal");
  std::memcpy(seal, bytes.data(), sizeof(*seal));
  if (Xxh3(seal, offsetof(RecordSeal, seal_xxh3)) != seal->seal_xxh3 || seal->reserved != 0 ||
      seal->reserved2 != 0) {
    return Status::Corrupt("record seal checksum mismatch");
  }
  if (sealed_value != nullptr && Xxh3(sealed_value, value_len) != seal->stored_xxh3) {
    return Status::Corrupt("sealed value checksum mismatch");
  }
  return Status::Ok();
}

SegmentHeader MakeSegmentHeader(uint64_t segment_id, uint64_t created_ms, uint64_t store_id) {
  SegmentHeader h{};
  h.magic = kSegmentMagic;
  h.version = kFormatVersion;
  h.segment_id = segment_id;
  h.created_ms = created_ms;
  h.store_id = store_id;
  h.header_xxh3 = Xxh3(&h, offsetof(SegmentHeader, header_xxh3));
  return h;
}

Status ParseSegmentHeader(std::span<const uint8_t> bytes, SegmentHeader* h) {
  if (bytes.size() < sizeof(SegmentHeader)) return Status::Corrupt("short segment header");
  std::memcpy(h, bytes.data(), sizeof(*h));
  if (h->magic != kSegmentMagic) return Status::Corrupt("bad segment magic");
  if (h->header_xxh3 != Xxh3(h, offsetof(SegmentHeader, header_xxh3))) {
    return Status::Corrupt("segment header checksum mismatch");
  }
  if (h->version != kFormatVersion) {
    return Status::Unsupported("segment format version " + std::to_string(h->version));
  }
  return Status::Ok();
}

std::string EncodeSuperblock(uint64_t store_id, uint64_t created_ms) {
  Superblock s{};
  s.magic = kSuperblockMagic;
  s.version = kFormatVersion;
  s.store_id = store_id;
  s.created_ms = created_ms;
  s.header_xxh3 = Xxh3(&s, offsetof(Superblock, header_xxh3));
  return std::string(reinterpret_cast<const char*>(&s), sizeof(s));
}

Result<Superblock> ParseSuperblock(std::string_view bytes) {
  Superblock s{};
  if (bytes.size() != sizeof(s)) return Status::Corrupt("superblock has the wrong size");
  std::memcpy(&s, bytes.data(), sizeof(s));
  if (s.magic != kSuperblockMagic) return Status::Corrupt("bad superblock magic");
  if (s.header_xxh3 != Xxh3(&s, offsetof(Superblock, header_xxh3))) {
    return Status::Corrupt("superblock checksum mismatch");
  }
  if (s.version != kFormatVersion) {
    return Status::Unsupported("store format version " + std::to_string(s.version) +
                               " (this build reads version " + std::to_string(kFormatVersion) +
                               ")");
  }
  return s;
}

}  // namespace ctxstore::engine
