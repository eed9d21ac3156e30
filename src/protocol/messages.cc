#include "protocol/messages.h"

#include <cstring>

#include "common/byte_io.h"

namespace ctxstore::protocol {
namespace {

Status Malformed(std::string_view what) {
  return Status::Invalid("malformed " + std::string(what) + " body");
}

Status LengthOver(std::string_view what, size_t len, size_t max) {
  return Status::TooLarge(std::string(what) + " of " + std::to_string(len) +
                          " bytes exceeds the limit of " + std::to_string(max));
}

// ByteReader has no explicit way to fail; asking for one byte more than is
// left puts it in its failed state, which is what callers check.
void FailReader(ByteReader& r) {
  r.GetBytes(r.remaining() + 1);
}

// Reads a u8 that must be 0 or 1: anything else is a malformed body rather
// than "true", so that the bit stays free for a later meaning.
bool GetBool(ByteReader& r, bool* bad) {
  uint8_t v = r.Get<uint8_t>();
  if (v > 1) *bad = true;
  return v == 1;
}

// Smallest encoded ObjectInfo (one-byte key, every string empty): bounds a
// LIST reply's item count by its body before anything is allocated.
constexpr size_t kMinObjectInfoBytes = 2 + 1 + 4 + 8 + 8 + 8 + 8 + 1 + 8 + 4 + 8 + 2 + 2 + 2 + 2;

Status ReadObjectInfo(ByteReader& r, ObjectInfo* o) {
  std::string_view key = r.GetShortString();
  o->namespace_id = r.Get<uint32_t>();
  o->value_len = r.Get<uint64_t>();
  o->value_xxh3 = r.Get<uint64_t>();
  o->created_ms = r.Get<uint64_t>();
  o->expires_ms = r.Get<uint64_t>();
  const uint8_t state = r.Get<uint8_t>();
  o->in_dram = (state & kObjectStateInDram) != 0;
  o->on_flash = (state & kObjectStateOnFlash) != 0;
  o->durable = (state & kObjectStateDurable) != 0;
  o->pinned = (state & kObjectStatePinned) != 0;
  o->pin_dram = (state & kObjectStatePinDram) != 0;
  o->orphan = (state & kObjectStateOrphan) != 0;
  o->sealed = (state & kObjectStateSealed) != 0;
  o->pin_expires_ms = r.Get<uint64_t>();
  o->leases = r.Get<uint32_t>();
  o->lease_expires_ms = r.Get<uint64_t>();
  std::string_view group = r.GetShortString();
  std::string_view parent = r.GetShortString();
  std::string_view writer = r.GetShortString();
  std::string_view meta = r.GetShortString();
  if (!r.ok()) return Malformed("object info");
  CTX_RETURN_IF_ERROR(ValidateKey(key));
  if (group.size() > kMaxGroupBytes) return LengthOver("group", group.size(), kMaxGroupBytes);
  if (parent.size() > kMaxKeyBytes) return LengthOver("parent", parent.size(), kMaxKeyBytes);
  if (meta.size() > kMaxMetaBytes) return LengthOver("meta", meta.size(), kMaxMetaBytes);
  o->key = std::string(key);
  o->group = std::string(group);
  o->parent = std::string(parent);
  o->writer = std::string(writer);
  o->meta = std::string(meta);
  return Status::Ok();
}

// A pin's target: a key or a group name, both at most 512 bytes.
Status CheckPinName(std::string_view name) {
  if (name.empty()) return Status::Invalid("empty pin name");
  if (name.size() > kMaxKeyBytes) return LengthOver("pin name", name.size(), kMaxKeyBytes);
  return Status::Ok();
}

}  // namespace

std::string EncodeHelloRequest(const HelloRequest& r) {
  std::string out;
  ByteWriter w(&out);
  w.Put(r.version);
  w.PutShortString(r.client_name);
  // Omitted when empty, so that servers from before namespaces (which
  // reject trailing bytes) still accept the default namespace.
  if (!r.namespace_name.empty() || !r.token.empty()) w.PutShortString(r.namespace_name);
  if (!r.token.empty()) w.PutShortString(r.token);
  return out;
}

Result<HelloRequest> DecodeHelloRequest(std::string_view body) {
  ByteReader r(body);
  HelloRequest h;
  h.version = r.Get<uint16_t>();
  h.client_name = std::string(r.GetShortString());
  if (r.ok() && r.remaining() != 0) h.namespace_name = std::string(r.GetShortString());
  if (r.ok() && r.remaining() != 0) h.token = std::string(r.GetShortString());
  if (!r.ok() || r.remaining() != 0) return Malformed("HELLO");
  return h;
}

std::string EncodeHelloReply(const HelloReply& r) {
  std::string out;
  ByteWriter w(&out);
  w.Put(r.version);
  w.Put(r.max_value_bytes);
  w.Put(r.max_batch_keys);
  w.Put(r.max_batch_bytes);
  w.PutShortString(r.server_version);
  return out;
}

Result<HelloReply> DecodeHelloReply(std::string_view body) {
  ByteReader r(body);
  HelloReply h;
  h.version = r.Get<uint16_t>();
  h.max_value_bytes = r.Get<uint64_t>();
  h.max_batch_keys = r.Get<uint32_t>();
  h.max_batch_bytes = r.Get<uint64_t>();
  h.server_version = std::string(r.GetShortString());
  if (!r.ok()) return Malformed("HELLO reply");
  return h;
}

std::string EncodeKey(std::string_view key) {
  std::string out;
  ByteWriter(&out).PutShortString(key);
  return out;
}

Result<std::string_view> DecodeKey(std::string_view body) {
  ByteReader r(body);
  std::string_view key = r.GetShortString();
  if (!r.ok() || r.remaining() != 0) return Malformed("key");
  CTX_RETURN_IF_ERROR(ValidateKey(key));
  return key;
}

template <typename S>
static std::string EncodeKeyListImpl(std::span<const S> keys) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint32_t>(keys.size()));
  for (const auto& k : keys) w.PutShortString(k);
  return out;
}
std::string EncodeKeyList(std::span<const std::string_view> keys) {
  return EncodeKeyListImpl(keys);
}
std::string EncodeKeyList(std::span<const std::string> keys) {
  return EncodeKeyListImpl(keys);
}

Result<std::vector<std::string_view>> DecodeKeyList(std::string_view body, uint32_t max_keys) {
  ByteReader r(body);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok()) return Malformed("key list");
  if (count > max_keys) {
    return Status::TooLarge("batch of " + std::to_string(count) + " keys exceeds the limit of " +
                            std::to_string(max_keys));
  }
  // Each key takes at least 3 bytes, so count is also bounded by the body.
  if (count > r.remaining() / 3) return Malformed("key list");
  std::vector<std::string_view> keys;
  keys.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view k = r.GetShortString();
    if (!r.ok()) return Malformed("key list");
    CTX_RETURN_IF_ERROR(ValidateKey(k));
    keys.push_back(k);
  }
  if (r.remaining() != 0) return Malformed("key list");
  return keys;
}

std::string EncodeBatchPutItemHeader(std::string_view key, uint64_t value_len,
                                     std::optional<uint64_t> xxh3) {
  std::string out;
  ByteWriter w(&out);
  w.PutShortString(key);
  w.Put(value_len);
  if (xxh3) w.Put(*xxh3);
  return out;
}

std::string EncodeStatusList(std::span<const StatusCode> codes) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint32_t>(codes.size()));
  for (StatusCode c : codes) w.Put(static_cast<uint16_t>(c));
  return out;
}

Result<std::vector<StatusCode>> DecodeStatusList(std::string_view body) {
  ByteReader r(body);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok() || r.remaining() != static_cast<uint64_t>(count) * 2) return Malformed("status list");
  std::vector<StatusCode> out(count);
  for (auto& c : out) c = static_cast<StatusCode>(r.Get<uint16_t>());
  return out;
}

std::string EncodeBatchGetItemHeader(StatusCode status, uint64_t value_len, uint64_t xxh3) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint16_t>(status));
  w.Put(value_len);
  w.Put(xxh3);
  return out;
}

BatchGetItemHeader DecodeBatchGetItemHeader(std::span<const uint8_t, kBatchGetItemHeaderSize> b) {
  ByteReader r(std::span<const uint8_t>(b.data(), b.size()));
  BatchGetItemHeader h;
  h.status = static_cast<StatusCode>(r.Get<uint16_t>());
  h.value_len = r.Get<uint64_t>();
  h.xxh3 = r.Get<uint64_t>();
  return h;
}

std::string EncodePutOptions(const PutOptionsBlock& o) {
  std::string out;
  ByteWriter w(&out);
  w.Put(o.ttl_ms);
  w.Put(o.put_flags);
  w.PutShortString(o.group);
  w.PutShortString(o.parent);
  w.PutShortString(o.meta);
  return out;
}

Result<PutOptionsBlock> DecodePutOptions(std::string_view bytes, size_t* consumed) {
  ByteReader r(bytes);
  PutOptionsBlock o;
  o.ttl_ms = r.Get<uint64_t>();
  o.put_flags = r.Get<uint8_t>();
  std::string_view group = r.GetShortString();
  std::string_view parent = r.GetShortString();
  std::string_view meta = r.GetShortString();
  if (!r.ok()) return Malformed("put options");
  if ((o.put_flags & ~kPutFlagChain) != 0) return Status::Invalid("unknown put flags");
  if (group.size() > kMaxGroupBytes) return LengthOver("group", group.size(), kMaxGroupBytes);
  if (parent.size() > kMaxKeyBytes) return LengthOver("parent", parent.size(), kMaxKeyBytes);
  if (meta.size() > kMaxMetaBytes) return LengthOver("meta", meta.size(), kMaxMetaBytes);
  o.group = std::string(group);
  o.parent = std::string(parent);
  o.meta = std::string(meta);
  *consumed = r.position();
  return o;
}

uint8_t ObjectStateBits(const ObjectInfo& info) {
  auto bit = [](bool on, uint8_t b) { return on ? b : uint8_t{0}; };
  return bit(info.in_dram, kObjectStateInDram) | bit(info.on_flash, kObjectStateOnFlash) |
         bit(info.durable, kObjectStateDurable) | bit(info.pinned, kObjectStatePinned) |
         bit(info.pin_dram, kObjectStatePinDram) | bit(info.orphan, kObjectStateOrphan) |
         bit(info.sealed, kObjectStateSealed);
}

void EncodeObjectInfo(const ObjectInfo& info, std::string* out) {
  ByteWriter w(out);
  w.PutShortString(info.key);
  w.Put(info.namespace_id);
  w.Put(info.value_len);
  w.Put(info.value_xxh3);
  w.Put(info.created_ms);
  w.Put(info.expires_ms);
  w.Put(ObjectStateBits(info));
  w.Put(info.pin_expires_ms);
  w.Put(info.leases);
  w.Put(info.lease_expires_ms);
  w.PutShortString(info.group);
  w.PutShortString(info.parent);
  w.PutShortString(info.writer);
  w.PutShortString(info.meta);
}

ObjectInfo DecodeObjectInfo(ByteReader& reader) {
  ObjectInfo info;
  if (!ReadObjectInfo(reader, &info).ok()) FailReader(reader);
  return info;
}

Result<ObjectInfo> DecodeObjectInfo(std::string_view body) {
  ByteReader r(body);
  ObjectInfo info;
  CTX_RETURN_IF_ERROR(ReadObjectInfo(r, &info));
  if (r.remaining() != 0) return Malformed("object info");
  return info;
}

std::string EncodeListRequest(const ListOptions& r) {
  std::string out;
  ByteWriter w(&out);
  w.PutShortString(r.prefix);
  w.PutShortString(r.group);
  w.PutShortString(r.cursor);
  w.Put(r.limit);
  return out;
}

Result<ListOptions> DecodeListRequest(std::string_view body) {
  ByteReader r(body);
  std::string_view prefix = r.GetShortString();
  std::string_view group = r.GetShortString();
  std::string_view cursor = r.GetShortString();
  ListOptions l;
  l.limit = r.Get<uint32_t>();
  if (!r.ok() || r.remaining() != 0) return Malformed("LIST");
  // The prefix and the cursor are (parts of) keys.
  if (prefix.size() > kMaxKeyBytes) return LengthOver("prefix", prefix.size(), kMaxKeyBytes);
  if (group.size() > kMaxGroupBytes) return LengthOver("group", group.size(), kMaxGroupBytes);
  if (cursor.size() > kMaxKeyBytes) return LengthOver("cursor", cursor.size(), kMaxKeyBytes);
  l.prefix = std::string(prefix);
  l.group = std::string(group);
  l.cursor = std::string(cursor);
  return l;
}

std::string EncodeListReply(const ListPage& r) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint32_t>(r.items.size()));
  for (const ObjectInfo& info : r.items) EncodeObjectInfo(info, &out);
  w.PutShortString(r.next_cursor);
  return out;
}

Result<ListPage> DecodeListReply(std::string_view body) {
  ByteReader r(body);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok() || count > r.remaining() / kMinObjectInfoBytes) return Malformed("LIST reply");
  ListPage l;
  l.items.resize(count);
  for (ObjectInfo& info : l.items) CTX_RETURN_IF_ERROR(ReadObjectInfo(r, &info));
  std::string_view cursor = r.GetShortString();
  if (!r.ok() || r.remaining() != 0) return Malformed("LIST reply");
  if (cursor.size() > kMaxKeyBytes) return LengthOver("cursor", cursor.size(), kMaxKeyBytes);
  l.next_cursor = std::string(cursor);
  return l;
}

std::string EncodePinRequest(const PinRequest& r) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint8_t>(r.by_group ? 1 : 0));
  w.PutShortString(r.name);
  w.Put(r.ttl_ms);
  w.Put(static_cast<uint8_t>(r.dram ? 1 : 0));
  return out;
}

Result<PinRequest> DecodePinRequest(std::string_view body) {
  ByteReader r(body);
  PinRequest p;
  bool bad = false;
  p.by_group = GetBool(r, &bad);
  std::string_view name = r.GetShortString();
  p.ttl_ms = r.Get<uint64_t>();
  p.dram = GetBool(r, &bad);
  if (!r.ok() || r.remaining() != 0 || bad) return Malformed("PIN");
  CTX_RETURN_IF_ERROR(CheckPinName(name));
  p.name = std::string(name);
  return p;
}

std::string EncodeUnpinRequest(bool by_group, std::string_view name) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint8_t>(by_group ? 1 : 0));
  w.PutShortString(name);
  return out;
}

Result<PinRequest> DecodeUnpinRequest(std::string_view body) {
  ByteReader r(body);
  PinRequest p;
  bool bad = false;
  p.by_group = GetBool(r, &bad);
  std::string_view name = r.GetShortString();
  if (!r.ok() || r.remaining() != 0 || bad) return Malformed("UNPIN");
  CTX_RETURN_IF_ERROR(CheckPinName(name));
  p.name = std::string(name);
  return p;
}

std::string EncodeU64(uint64_t v) {
  std::string out;
  ByteWriter(&out).Put(v);
  return out;
}

Result<uint64_t> DecodeU64(std::string_view body) {
  ByteReader r(body);
  uint64_t v = r.Get<uint64_t>();
  if (!r.ok() || r.remaining() != 0) return Malformed("u64");
  return v;
}

std::string EncodeString(std::string_view s) {
  std::string out;
  ByteWriter(&out).PutShortString(s);
  return out;
}

Result<std::string_view> DecodeString(std::string_view body) {
  ByteReader r(body);
  std::string_view s = r.GetShortString();
  if (!r.ok() || r.remaining() != 0) return Malformed("string");
  return s;
}

bool OkReplyIsEmpty(Opcode op) {
  switch (op) {
    case Opcode::kPut:
    case Opcode::kDelete:
    case Opcode::kFlush:
    case Opcode::kRelease:
    case Opcode::kUnpin:
    case Opcode::kNsCreate:
    case Opcode::kNsSet:
    case Opcode::kNsDelete:
    case Opcode::kTokenRevoke:
    case Opcode::kShmUnregister:
    case Opcode::kShmPut:
      return true;
    case Opcode::kHello:
    case Opcode::kGet:
    case Opcode::kExists:
    case Opcode::kBatchPut:
    case Opcode::kBatchGet:
    case Opcode::kBatchExists:
    case Opcode::kMatchPrefix:
    case Opcode::kStats:
    case Opcode::kStat:
    case Opcode::kList:
    case Opcode::kPin:
    case Opcode::kDeleteGroup:
    case Opcode::kNsList:
    case Opcode::kTokenCreate:
    case Opcode::kTokenList:
    case Opcode::kShmRegister:
    case Opcode::kShmGet:
      return false;
  }
  return false;
}

}  // namespace ctxstore::protocol
