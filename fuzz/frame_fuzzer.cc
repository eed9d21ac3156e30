// Fuzzes the protocol codec (src/protocol): the frame header, the body
// length limits and every body decoder, requests and replies.
//
// Input: one selector byte, then the bytes to decode.
//   kRequestFrame / kReplyFrame: a 32-byte header and a body, decoded as the
//     server (request) or the client (reply) would for the header's opcode;
//   the other selectors: one decoder on the bytes alone.
// Nothing may crash or read out of bounds, and whatever decodes must encode
// back to the same value (and, where the encoding is canonical, to the same
// bytes).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_io.h"
#include "fuzz/fuzz_check.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ctxstore::protocol {
namespace {

enum Selector : uint8_t {
  kRequestFrame = 0,
  kReplyFrame = 1,
  kPutOptions = 2,
  kObjectInfoStream = 3,
  kBatchGetItemHeader = 4,
  kSelectorCount = 5,
};

bool Same(const ObjectInfoWire& a, const ObjectInfoWire& b) {
  return a.key == b.key && a.namespace_id == b.namespace_id && a.value_len == b.value_len &&
         a.value_xxh3 == b.value_xxh3 && a.created_ms == b.created_ms &&
         a.expires_ms == b.expires_ms && a.state == b.state &&
         a.pin_expires_ms == b.pin_expires_ms && a.leases == b.leases &&
         a.lease_expires_ms == b.lease_expires_ms && a.group == b.group && a.parent == b.parent &&
         a.writer == b.writer && a.meta == b.meta;
}

bool Same(const PutOptionsBlock& a, const PutOptionsBlock& b) {
  return a.ttl_ms == b.ttl_ms && a.put_flags == b.put_flags && a.group == b.group &&
         a.parent == b.parent && a.meta == b.meta;
}

bool Same(const PinRequest& a, const PinRequest& b) {
  return a.by_group == b.by_group && a.name == b.name && a.ttl_ms == b.ttl_ms && a.dram == b.dram;
}

// A decoded key: 1..kMaxKeyBytes bytes, and encodes back to the body.
void CheckKey(std::string_view body) {
  auto key = DecodeKey(body);
  if (!key.ok()) return;
  FUZZ_CHECK(ValidateKey(*key).ok());
  FUZZ_CHECK(EncodeKey(*key) == body);
}

void CheckKeyList(std::string_view body, uint32_t max_keys) {
  auto keys = DecodeKeyList(body, max_keys);
  if (!keys.ok()) return;
  FUZZ_CHECK(keys->size() <= max_keys);
  for (std::string_view k : *keys) FUZZ_CHECK(ValidateKey(k).ok());
  FUZZ_CHECK(EncodeKeyList(std::span<const std::string_view>(*keys)) == body);
}

void CheckPutOptions(std::string_view bytes) {
  size_t consumed = 0;
  auto block = DecodePutOptions(bytes, &consumed);
  if (!block.ok()) return;
  FUZZ_CHECK(consumed <= bytes.size());
  FUZZ_CHECK(consumed <= kMaxPutOptionsBytes);
  FUZZ_CHECK(block->group.size() <= kMaxGroupBytes && block->parent.size() <= kMaxKeyBytes &&
             block->meta.size() <= kMaxMetaBytes);
  std::string encoded = EncodePutOptions(*block);
  FUZZ_CHECK(encoded == bytes.substr(0, consumed));
  size_t again_consumed = 0;
  auto again = DecodePutOptions(encoded, &again_consumed);
  FUZZ_CHECK(again.ok() && again_consumed == encoded.size() && Same(*again, *block));
}

void CheckHelloRequest(std::string_view body) {
  auto hello = DecodeHelloRequest(body);
  if (!hello.ok()) return;
  // An empty namespace may be sent explicitly; the encoder omits it.
  auto again = DecodeHelloRequest(EncodeHelloRequest(*hello));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->version == hello->version && again->client_name == hello->client_name &&
             again->namespace_name == hello->namespace_name);
}

void CheckHelloReply(std::string_view body) {
  auto hello = DecodeHelloReply(body);
  if (!hello.ok()) return;
  // Trailing bytes are allowed (later servers may add fields).
  std::string encoded = EncodeHelloReply(*hello);
  FUZZ_CHECK(encoded == body.substr(0, encoded.size()));
}

void CheckStatusList(std::string_view body) {
  auto codes = DecodeStatusList(body);
  if (!codes.ok()) return;
  FUZZ_CHECK(EncodeStatusList(*codes) == body);
}

void CheckObjectInfo(std::string_view body) {
  auto info = DecodeObjectInfo(body);
  if (!info.ok()) return;
  std::string encoded;
  EncodeObjectInfo(*info, &encoded);
  FUZZ_CHECK(encoded == body);
}

// LIST replies and streamed infos read one ObjectInfo after another.
void CheckObjectInfoStream(std::string_view bytes) {
  ByteReader r(bytes);
  std::string encoded;
  while (r.ok() && r.remaining() > 0) {
    size_t before = r.position();
    ObjectInfoWire info = DecodeObjectInfo(r);
    if (!r.ok()) break;
    FUZZ_CHECK(r.position() > before);
    EncodeObjectInfo(info, &encoded);
  }
  if (r.ok()) FUZZ_CHECK(encoded == bytes);
}

void CheckListRequest(std::string_view body) {
  auto list = DecodeListRequest(body);
  if (!list.ok()) return;
  FUZZ_CHECK(EncodeListRequest(*list) == body);
}

void CheckListReply(std::string_view body) {
  auto list = DecodeListReply(body);
  if (!list.ok()) return;
  FUZZ_CHECK(EncodeListReply(*list) == body);
  auto again = DecodeListReply(EncodeListReply(*list));
  FUZZ_CHECK(again.ok() && again->items.size() == list->items.size() &&
             again->next_cursor == list->next_cursor);
  for (size_t i = 0; i < list->items.size(); ++i) {
    FUZZ_CHECK(Same(again->items[i], list->items[i]));
  }
}

void CheckPin(std::string_view body) {
  auto pin = DecodePinRequest(body);
  if (!pin.ok()) return;
  FUZZ_CHECK(!pin->name.empty() && pin->name.size() <= kMaxKeyBytes);
  FUZZ_CHECK(EncodePinRequest(*pin) == body);
  auto again = DecodePinRequest(EncodePinRequest(*pin));
  FUZZ_CHECK(again.ok() && Same(*again, *pin));
}

void CheckUnpin(std::string_view body) {
  auto pin = DecodeUnpinRequest(body);
  if (!pin.ok()) return;
  FUZZ_CHECK(!pin->name.empty() && pin->name.size() <= kMaxKeyBytes);
  FUZZ_CHECK(EncodeUnpinRequest(pin->by_group, pin->name) == body);
}

void CheckU64(std::string_view body) {
  auto v = DecodeU64(body);
  if (!v.ok()) return;
  FUZZ_CHECK(EncodeU64(*v) == body);
}

void CheckString(std::string_view body) {
  auto s = DecodeString(body);
  if (!s.ok()) return;
  FUZZ_CHECK(EncodeString(*s) == body);
}

void CheckBatchGetItemHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kBatchGetItemHeaderSize) return;
  auto fixed = bytes.first<kBatchGetItemHeaderSize>();
  BatchGetItemHeader h = DecodeBatchGetItemHeader(fixed);
  std::string encoded = EncodeBatchGetItemHeader(h.status, h.value_len, h.xxh3);
  FUZZ_CHECK(encoded.size() == kBatchGetItemHeaderSize &&
             std::string_view(reinterpret_cast<const char*>(fixed.data()), fixed.size()) ==
                 encoded);
}

// PUT: key, then (kFlagExt) a put-options block, then the value.
void CheckPutBody(std::string_view body, uint16_t flags) {
  ByteReader r(body);
  std::string_view key = r.GetShortString();
  if (!r.ok() || !ValidateKey(key).ok()) return;
  if (flags & kFlagExt) CheckPutOptions(body.substr(PutPrefixSize(key)));
}

// BATCH_PUT: u32 count, (kFlagExt) a put-options block, count x (str key,
// u64 value_len, value). The server parses it as it streams in; here the
// item headers are walked the same way, bounded by the body.
void CheckBatchPutBody(std::string_view body, uint16_t flags) {
  ByteReader r(body);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok()) return;
  if (flags & kFlagExt) {
    size_t consumed = 0;
    std::string_view rest = body.substr(kBatchPutCountSize);
    if (!DecodePutOptions(rest, &consumed).ok()) return;
    r.GetBytes(consumed);
  }
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    std::string_view key = r.GetShortString();
    uint64_t value_len = r.Get<uint64_t>();
    if (!r.ok() || !ValidateKey(key).ok()) return;
    if (value_len > r.remaining()) return;
    FUZZ_CHECK(EncodeBatchPutItemHeader(key, value_len).size() == 2 + key.size() + 8);
    r.GetBytes(value_len);
  }
}

void CheckRequestBody(const FrameHeader& h, std::string_view body) {
  switch (h.opcode) {
    case Opcode::kHello:
      return CheckHelloRequest(body);
    case Opcode::kPut:
      return CheckPutBody(body, h.flags);
    case Opcode::kGet:
    case Opcode::kExists:
    case Opcode::kDelete:
    case Opcode::kStat:
      return CheckKey(body);
    case Opcode::kBatchPut:
      return CheckBatchPutBody(body, h.flags);
    case Opcode::kBatchGet:
    case Opcode::kBatchExists:
      return CheckKeyList(body, Limits{}.max_batch_keys);
    case Opcode::kMatchPrefix:
      // With kFlagExt a u64 lease time comes first.
      if (h.flags & kFlagExt) {
        if (body.size() < 8) return;
        CheckU64(body.substr(0, 8));
        body.remove_prefix(8);
      }
      return CheckKeyList(body, Limits{}.max_batch_keys);
    case Opcode::kRelease:
      return CheckU64(body);
    case Opcode::kList:
      return CheckListRequest(body);
    case Opcode::kPin:
      return CheckPin(body);
    case Opcode::kUnpin:
      return CheckUnpin(body);
    case Opcode::kDeleteGroup:
    case Opcode::kNsDelete:
      return CheckString(body);
    case Opcode::kFlush:
    case Opcode::kStats:
    case Opcode::kNsCreate:  // JSON, parsed by the server
    case Opcode::kNsSet:
    case Opcode::kNsList:
      return;
  }
}

void CheckReplyBody(const FrameHeader& h, std::string_view body) {
  if (h.status != StatusCode::kOk) return;  // an error reply's body is its message
  switch (h.opcode) {
    case Opcode::kHello:
      return CheckHelloReply(body);
    case Opcode::kBatchPut:
      return CheckStatusList(body);
    case Opcode::kStat:
      return CheckObjectInfo(body);
    case Opcode::kList:
      return CheckListReply(body);
    case Opcode::kExists:
    case Opcode::kPin:
    case Opcode::kDeleteGroup:
      return CheckU64(body);
    case Opcode::kBatchGet: {
      // u32 count, then count x (item header, value when OK).
      std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(body.data()), body.size());
      if (rest.size() < 4) return;
      rest = rest.subspan(4);
      while (rest.size() >= kBatchGetItemHeaderSize) {
        BatchGetItemHeader item = DecodeBatchGetItemHeader(rest.first<kBatchGetItemHeaderSize>());
        rest = rest.subspan(kBatchGetItemHeaderSize);
        if (item.status != StatusCode::kOk) continue;
        if (item.value_len > rest.size()) return;
        rest = rest.subspan(item.value_len);
      }
      return;
    }
    default:
      return;
  }
}

void CheckFrame(std::span<const uint8_t> bytes, bool reply) {
  if (bytes.size() < kHeaderSize) return;
  auto header_bytes = bytes.first<kHeaderSize>();
  DecodedHeader d = DecodeHeader(header_bytes);
  // Everything but the reserved bytes encodes back the same.
  HeaderBytes encoded = EncodeHeader(d.header);
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.begin() + 26, header_bytes.begin()));
  if (d.error != HeaderError::kNone) {
    FUZZ_CHECK(d.error != HeaderError::kUnknownOpcode || !IsKnownOpcode(d.raw_opcode));
    return;
  }
  FUZZ_CHECK(IsKnownOpcode(d.raw_opcode) && OpcodeName(d.header.opcode) != "UNKNOWN");
  Limits limits;
  if (!CheckBodyLength(d.header, limits).ok()) return;
  std::string_view body(reinterpret_cast<const char*>(bytes.data()) + kHeaderSize,
                        bytes.size() - kHeaderSize);
  if (d.header.body_len != body.size()) return;  // framing: the body is what follows
  if (reply) {
    CheckReplyBody(d.header, body);
  } else {
    CheckRequestBody(d.header, body);
  }
}

}  // namespace
}  // namespace ctxstore::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore::protocol;
  if (size == 0) return 0;
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::string_view rest_view(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % kSelectorCount) {
    case kRequestFrame:
      CheckFrame(rest, /*reply=*/false);
      break;
    case kReplyFrame:
      CheckFrame(rest, /*reply=*/true);
      break;
    case kPutOptions:
      CheckPutOptions(rest_view);
      break;
    case kObjectInfoStream:
      CheckObjectInfoStream(rest_view);
      break;
    case kBatchGetItemHeader:
      CheckBatchGetItemHeader(rest);
      break;
  }
  return 0;
}
