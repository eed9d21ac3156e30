// Encoders and decoders for the bodies of each op (docs/protocol.md):
// HELLO, keys and key lists, the put-options block, object infos, LIST,
// PIN/UNPIN and the small fixed bodies. The PUT and BATCH_PUT bodies and
// their incremental parsers are in put_body.h; the GET reply head,
// BATCH_GET, BATCH_EXISTS and MATCH_PREFIX in read_ops.h; the JSON bodies
// of STATS and TOKEN_* in admin_bodies.h. Values themselves are never
// copied here: PUT and GET bodies carry them after a small prefix that
// these functions produce or parse.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_io.h"
#include "ctxstore/objects.h"
#include "ctxstore/status.h"
#include "protocol/frame.h"

namespace ctxstore::protocol {

// HELLO. The namespace (optional on the wire; "" = "default") applies to
// every key op of the connection.
struct HelloRequest {
  uint16_t version = kVersion;
  std::string client_name;
  std::string namespace_name;  // "": the token's namespace (default for admin tokens)
  std::string token;           // "": none (a server with authentication off)
};
struct HelloReply {
  uint16_t version = kVersion;
  uint64_t max_value_bytes = 0;
  uint32_t max_batch_keys = 0;
  uint64_t max_batch_bytes = 0;
  std::string server_version;
};
std::string EncodeHelloRequest(const HelloRequest& r);
Result<HelloRequest> DecodeHelloRequest(std::string_view body);
std::string EncodeHelloReply(const HelloReply& r);
Result<HelloReply> DecodeHelloReply(std::string_view body);

// GET / EXISTS / DELETE request body, and the prefix of a PUT body (the value
// follows it): u16 key_len, key.
std::string EncodeKey(std::string_view key);
// Parses exactly one key that fills the body.
Result<std::string_view> DecodeKey(std::string_view body);
// Size of the PUT prefix for a key; the value is body_len minus this.
inline uint64_t PutPrefixSize(std::string_view key) {
  return 2 + key.size();
}

// EXISTS reply (OK): u64 value length (EncodeU64). GET reply: read_ops.h.

// BATCH_GET / BATCH_EXISTS / MATCH_PREFIX request: u32 count, count x key.
std::string EncodeKeyList(std::span<const std::string_view> keys);
std::string EncodeKeyList(std::span<const std::string> keys);
// Keys point into body. Fails on trailing bytes, bad keys or too many keys.
Result<std::vector<std::string_view>> DecodeKeyList(std::string_view body, uint32_t max_keys);

// BATCH_PUT request: u32 count, then count x item; item = u16 key_len, key,
// u64 value_len, value bytes. Item headers are parsed as the body streams
// in (put_body.h).
inline constexpr size_t kBatchPutCountSize = 4;
// With xxh3 (kFlagChecksum), the value's checksum follows its length.
std::string EncodeBatchPutItemHeader(std::string_view key, uint64_t value_len,
                                     std::optional<uint64_t> xxh3 = std::nullopt);

// BATCH_PUT reply: u32 count, count x u16 status.
std::string EncodeStatusList(std::span<const StatusCode> codes);
Result<std::vector<StatusCode>> DecodeStatusList(std::string_view body);

// BATCH_GET reply: u32 count, then count x item; item = u16 status,
// u64 value_len, u64 xxh3, then value_len bytes when status is OK.
inline constexpr size_t kBatchGetItemHeaderSize = 18;
std::string EncodeBatchGetItemHeader(StatusCode status, uint64_t value_len, uint64_t xxh3);
struct BatchGetItemHeader {
  StatusCode status = StatusCode::kOk;
  uint64_t value_len = 0;
  uint64_t xxh3 = 0;
};
BatchGetItemHeader DecodeBatchGetItemHeader(std::span<const uint8_t, kBatchGetItemHeaderSize> b);

// BATCH_EXISTS reply and MATCH_PREFIX request and reply: read_ops.h.

// Put-options block (kFlagExt): after the key of a PUT, after the count of a
// BATCH_PUT: u64 ttl_ms, u8 put_flags, str group, str parent, u16 meta_len,
// meta. ("str" = u16 length + bytes.)
inline constexpr uint8_t kPutFlagChain = 1 << 0;  // BATCH_PUT: item i's parent is item i-1
struct PutOptionsBlock {
  uint64_t ttl_ms = 0;
  uint8_t put_flags = 0;
  std::string group;
  std::string parent;
  std::string meta;
};
std::string EncodePutOptions(const PutOptionsBlock& o);
// Parses a block at the start of `bytes`; *consumed gets its size. Checks the
// limits (common/limits.h: group, parent and meta).
Result<PutOptionsBlock> DecodePutOptions(std::string_view bytes, size_t* consumed);
// A PUT body's prefix size (key + options block) is therefore variable: the
// server reads at most 2 + kMaxKeyBytes + kMaxPutOptionsBytes before the value.
inline constexpr size_t kMaxPutOptionsBytes =
    8 + 1 + 2 + kMaxGroupBytes + 2 + kMaxParentBytes + 2 + kMaxMetaBytes;

// STAT reply / LIST item: one object (ctxstore/objects.h). Its flags travel
// as one state byte of these bits; a decoder ignores bits it does not know.
inline constexpr uint8_t kObjectStateInDram = 1 << 0;
inline constexpr uint8_t kObjectStateOnFlash = 1 << 1;
inline constexpr uint8_t kObjectStateDurable = 1 << 2;
inline constexpr uint8_t kObjectStatePinned = 1 << 3;
inline constexpr uint8_t kObjectStatePinDram = 1 << 4;
inline constexpr uint8_t kObjectStateOrphan = 1 << 5;
inline constexpr uint8_t kObjectStateSealed = 1 << 6;  // its flash record is encrypted
uint8_t ObjectStateBits(const ObjectInfo& info);
// str key, u32 namespace_id, u64 value_len, u64 value_xxh3, u64 created_ms,
// u64 expires_ms, u8 state, u64 pin_expires_ms, u32 leases,
// u64 lease_expires_ms, str group, str parent, str writer, u16 meta_len, meta.
void EncodeObjectInfo(const ObjectInfo& info, std::string* out);
// Reads one from the reader's position (fails the reader on bad input).
ObjectInfo DecodeObjectInfo(ByteReader& reader);
Result<ObjectInfo> DecodeObjectInfo(std::string_view body);  // exactly one

// LIST request (ListOptions): str prefix, str group, str cursor, u32 limit.
std::string EncodeListRequest(const ListOptions& r);
Result<ListOptions> DecodeListRequest(std::string_view body);
// LIST reply (ListPage): u32 count, count x object info, str next_cursor
// ("" = done).
std::string EncodeListReply(const ListPage& r);
Result<ListPage> DecodeListReply(std::string_view body);

// PIN request: u8 by_group, str name, u64 ttl_ms, u8 dram. Reply: u64
// objects pinned now. UNPIN request: u8 by_group, str name.
struct PinRequest {
  bool by_group = false;
  std::string name;
  uint64_t ttl_ms = 0;
  bool dram = false;
};
std::string EncodePinRequest(const PinRequest& r);
Result<PinRequest> DecodePinRequest(std::string_view body);
std::string EncodeUnpinRequest(bool by_group, std::string_view name);
Result<PinRequest> DecodeUnpinRequest(std::string_view body);  // ttl_ms, dram unused

// RELEASE request: u64 lease_id. PIN and DELETE_GROUP replies: u64 objects.
// DELETE_GROUP, NS_DELETE and TOKEN_REVOKE requests: str group, name or id.
// (NS_CREATE, NS_SET and NS_LIST carry JSON: docs/protocol.md, "Namespaces".)
std::string EncodeU64(uint64_t v);
Result<uint64_t> DecodeU64(std::string_view body);             // exactly 8 bytes
std::string EncodeString(std::string_view s);                  // str
Result<std::string_view> DecodeString(std::string_view body);  // exactly one str

// Whether an OK reply to op has no body (PUT, DELETE, FLUSH, RELEASE, UNPIN,
// NS_CREATE, NS_SET, NS_DELETE, TOKEN_REVOKE: docs/protocol.md). One list,
// decided per opcode in an exhaustive switch, so that a new opcode must say;
// the fuzzers' reply checks (fuzz/client_decode.h, fuzz/frame_fuzzer.cc)
// use it.
bool OkReplyIsEmpty(Opcode op);

}  // namespace ctxstore::protocol
