// Fuzzes the protocol codec (src/protocol): the frame header, the body
// length limits, every body decoder, requests and replies, and the
// incremental PUT and BATCH_PUT parsers.
//
// Input: one selector byte, then the bytes to decode.
//   kRequestFrame / kReplyFrame: a 32-byte header and a body, decoded as the
//     server (request) or the client (reply) would for the header's opcode;
//   kPutPrefix / kBatchPutBody: a u16 of request flags, then a body, fed to
//     the parser in the pieces it asks for;
//   the other selectors: one decoder on the bytes alone.
// Nothing may crash or read out of bounds, and whatever decodes must encode
// back to the same value (and, where the encoding is canonical, to the same
// bytes).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_io.h"
#include "fuzz/fuzz_check.h"
#include "protocol/admin_bodies.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/namespace_bodies.h"
#include "protocol/put_body.h"
#include "protocol/read_ops.h"
#include "protocol/shm_bodies.h"

namespace ctxstore::protocol {
namespace {

enum Selector : uint8_t {
  kRequestFrame = 0,
  kReplyFrame = 1,
  kPutOptions = 2,
  kObjectInfoStream = 3,
  kBatchGetItemHeader = 4,
  kPutPrefix = 5,
  kBatchPutBody = 6,
  kGetReplyHead = 7,
  kSelectorCount = 8,
};

// The most a PUT prefix (key, checksum, options) may ask for.
constexpr uint64_t kMaxPutPrefixBytes = 2 + kMaxKeyBytes + 8 + kMaxPutOptionsBytes;

bool Same(const ObjectInfo& a, const ObjectInfo& b) {
  return a.key == b.key && a.namespace_id == b.namespace_id && a.value_len == b.value_len &&
         a.value_xxh3 == b.value_xxh3 && a.created_ms == b.created_ms &&
         a.expires_ms == b.expires_ms && ObjectStateBits(a) == ObjectStateBits(b) &&
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

// Object infos encode back to the same bytes, but for the state bit this
// version does not know (bit 7, ignored on decoding).
bool SameButUnknownStateBits(std::string_view encoded, std::string_view body) {
  if (encoded.size() != body.size()) return false;
  for (size_t i = 0; i < body.size(); ++i) {
    if ((static_cast<uint8_t>(encoded[i] ^ body[i]) & 0x7f) != 0) return false;
  }
  return true;
}

void CheckObjectInfo(std::string_view body) {
  auto info = DecodeObjectInfo(body);
  if (!info.ok()) return;
  std::string encoded;
  EncodeObjectInfo(*info, &encoded);
  FUZZ_CHECK(SameButUnknownStateBits(encoded, body));
  auto again = DecodeObjectInfo(std::string_view(encoded));
  FUZZ_CHECK(again.ok() && Same(*again, *info));
}

// LIST replies and streamed infos read one ObjectInfo after another.
void CheckObjectInfoStream(std::string_view bytes) {
  ByteReader r(bytes);
  std::string encoded;
  while (r.ok() && r.remaining() > 0) {
    size_t before = r.position();
    ObjectInfo info = DecodeObjectInfo(r);
    if (!r.ok()) break;
    FUZZ_CHECK(r.position() > before);
    EncodeObjectInfo(info, &encoded);
  }
  if (r.ok()) FUZZ_CHECK(SameButUnknownStateBits(encoded, bytes));
}

void CheckListRequest(std::string_view body) {
  auto list = DecodeListRequest(body);
  if (!list.ok()) return;
  FUZZ_CHECK(EncodeListRequest(*list) == body);
}

void CheckListReply(std::string_view body) {
  auto list = DecodeListReply(body);
  if (!list.ok()) return;
  FUZZ_CHECK(SameButUnknownStateBits(EncodeListReply(*list), body));
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

// Feeds a parser the body's bytes as it asks for them; false (and nothing
// read) when it asks for more than is left, which it must never do.
template <typename Parser>
Result<ParseStep> Feed(Parser& parser, std::string_view body, size_t* pos) {
  for (;;) {
    auto step = parser.Next();
    if (!step.ok() || *step != ParseStep::kRead) return step;
    std::span<uint8_t> space = parser.Space();
    FUZZ_CHECK(space.size() > 0 && space.size() <= body.size() - *pos);
    FUZZ_CHECK(space.size() <= kMaxPutPrefixBytes);
    std::memcpy(space.data(), body.data() + *pos, space.size());
    *pos += space.size();
  }
}

// PUT: key, [CHECKSUM: xxh3], [EXT: put-options block], then the value.
void CheckPutBody(std::string_view body, uint16_t flags) {
  PutPrefixParser parser(flags, body.size());
  size_t pos = 0;
  auto step = Feed(parser, body, &pos);
  FUZZ_CHECK(parser.remaining() == body.size() - pos);
  if (!step.ok()) return;
  FUZZ_CHECK(*step == ParseStep::kDone && pos <= kMaxPutPrefixBytes);
  FUZZ_CHECK(ValidateKey(parser.key()).ok());
  FUZZ_CHECK(parser.xxh3().has_value() == ((flags & kFlagChecksum) != 0));
  FUZZ_CHECK(parser.options().has_value() == ((flags & kFlagExt) != 0));
  const PutOptionsBlock* options = parser.options() ? &*parser.options() : nullptr;
  FUZZ_CHECK(EncodePutPrefix(parser.key(), parser.xxh3(), options) == body.substr(0, pos));
}

// BATCH_PUT: u32 count, [EXT: options], count x (key, u64 value_len,
// [CHECKSUM: xxh3], value). The parser's items, encoded again, must give
// back the bytes it consumed.
void CheckBatchPutBody(std::string_view body, uint16_t flags) {
  const uint32_t max_items = Limits{}.max_batch_keys;
  BatchPutParser parser(flags, body.size(), max_items);
  size_t pos = 0;
  std::string encoded;
  for (;;) {
    auto step = Feed(parser, body, &pos);
    FUZZ_CHECK(parser.remaining() == body.size() - pos);
    if (!step.ok()) return;
    if (encoded.empty()) {
      FUZZ_CHECK(parser.count() <= max_items);
      const PutOptionsBlock* options = parser.options() ? &*parser.options() : nullptr;
      encoded = EncodeBatchPutHead(parser.count(), options);
    }
    if (*step == ParseStep::kDone) break;
    const BatchPutItem& item = parser.item();
    FUZZ_CHECK(ValidateKey(item.key).ok() && item.value_len <= parser.remaining());
    FUZZ_CHECK(parser.index() < parser.count());
    AppendBatchPutItemHeader(&encoded, item.key, item.value_len, item.xxh3);
    encoded.append(body.substr(pos, item.value_len));
    pos += item.value_len;
  }
  FUZZ_CHECK(pos == body.size() && encoded == body);
}

void CheckMatchPrefixRequest(std::string_view body, uint16_t flags) {
  const bool ext = (flags & kFlagExt) != 0;
  auto req = DecodeMatchPrefixRequest(body, ext, Limits{}.max_batch_keys);
  if (!req.ok()) return;
  std::vector<std::string> keys(req->keys.begin(), req->keys.end());
  FUZZ_CHECK(EncodeMatchPrefixRequest(keys, ext, req->lease_ms) == body);
}

void CheckNamespaceRequest(std::string_view body) {
  auto req = DecodeNamespaceRequest(body);
  if (!req.ok()) return;
  auto again = DecodeNamespaceRequest(EncodeNamespaceRequest(req->name, req->spec));
  FUZZ_CHECK(again.ok() && again->name == req->name);
  // Re-encoded, the spec says the same (the JSON codec is canonical).
  FUZZ_CHECK(EncodeNamespaceRequest(again->name, again->spec) ==
             EncodeNamespaceRequest(req->name, req->spec));
}

void CheckTokenCreateRequest(std::string_view body) {
  auto req = DecodeTokenCreateRequest(body);
  if (!req.ok()) return;
  FUZZ_CHECK(req->label.size() <= kMaxTokenLabelBytes);
  auto again = DecodeTokenCreateRequest(EncodeTokenCreateRequest(*req));
  FUZZ_CHECK(again.ok() && again->role == req->role &&
             again->namespace_name == req->namespace_name && again->label == req->label);
}

bool SameRange(const ShmRange& a, const ShmRange& b) {
  return a.region_id == b.region_id && a.offset == b.offset && a.length == b.length;
}

// SHM_UNREGISTER's request and SHM_REGISTER's reply: a region id.
void CheckRegionId(std::string_view body) {
  auto id = DecodeRegionId(body);
  if (id.ok()) FUZZ_CHECK(EncodeRegionId(*id) == body);
}

// The shared-memory bodies decode to what encodes back to the same request.
void CheckShmRequest(Opcode op, std::string_view body, uint16_t flags) {
  switch (op) {
    case Opcode::kShmRegister: {
      auto length = DecodeShmRegister(body);
      if (length.ok()) FUZZ_CHECK(*length > 0 && EncodeShmRegister(*length) == body);
      return;
    }
    case Opcode::kShmUnregister:
      return CheckRegionId(body);
    case Opcode::kShmGet: {
      auto req = DecodeShmGet(body);
      if (!req.ok()) return;
      // The decoded key views the encoded bytes: keep them alive.
      const std::string encoded = EncodeShmGet(req->key, req->range);
      auto again = DecodeShmGet(encoded);
      FUZZ_CHECK(again.ok() && again->key == req->key && SameRange(again->range, req->range));
      return;
    }
    default: {
      auto req = DecodeShmPut(body, (flags & kFlagExt) != 0);
      if (!req.ok()) return;
      const std::string encoded =
          EncodeShmPut(req->key, req->range, req->options ? &*req->options : nullptr);
      auto again = DecodeShmPut(encoded, req->options.has_value());
      FUZZ_CHECK(again.ok() && again->key == req->key && SameRange(again->range, req->range));
      return;
    }
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
      return CheckMatchPrefixRequest(body, h.flags);
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
    case Opcode::kTokenRevoke:
      return CheckString(body);
    case Opcode::kTokenCreate:
      return CheckTokenCreateRequest(body);
    case Opcode::kFlush:  // empty bodies (whatever is sent is ignored)
    case Opcode::kStats:
    case Opcode::kNsList:
    case Opcode::kTokenList:
      return;
    case Opcode::kNsCreate:
    case Opcode::kNsSet:
      return CheckNamespaceRequest(body);
    case Opcode::kShmRegister:
    case Opcode::kShmUnregister:
    case Opcode::kShmPut:
    case Opcode::kShmGet:
      return CheckShmRequest(h.opcode, body, h.flags);
  }
}

// GET reply: u64 xxh3, [EXT: u16 meta_len, meta], value.
void CheckGetReply(std::string_view body, uint16_t flags) {
  const bool ext = (flags & kFlagExt) != 0;
  const size_t head_size = GetReplyHeadSize(ext);
  if (body.size() < head_size) return;
  GetReplyHeadBytes bytes{};
  std::memcpy(bytes.data(), body.data(), head_size);
  GetReplyHead head = DecodeGetReplyHead(bytes, ext);
  if (!ext) FUZZ_CHECK(head.meta_len == 0);
  GetReplyHeadBytes again = EncodeGetReplyHead(head, ext);
  FUZZ_CHECK(std::memcmp(again.data(), bytes.data(), head_size) == 0);
}

void CheckBatchExistsReply(std::string_view body) {
  auto present = DecodeBatchExistsReply(body);
  if (!present.ok()) return;
  auto again = DecodeBatchExistsReply(EncodeBatchExistsReply(*present));
  FUZZ_CHECK(again.ok() && *again == *present);
}

void CheckMatchPrefixReply(std::string_view body, uint16_t flags) {
  const bool ext = (flags & kFlagExt) != 0;
  auto reply = DecodeMatchPrefixReply(body, ext);
  if (!reply.ok()) return;
  FUZZ_CHECK(EncodeMatchPrefixReply(*reply, ext) == body);
}

void CheckStatsReply(std::string_view body) {
  auto counters = DecodeStatsReply(body);
  if (!counters.ok()) return;
  std::vector<StatsField> fields;
  for (const StatsCounter& c : *counters) fields.push_back({c.name, c.value});
  auto again = DecodeStatsReply(EncodeStatsReply(fields));
  FUZZ_CHECK(again.ok() && again->size() == counters->size());
  for (size_t i = 0; i < counters->size(); ++i) {
    FUZZ_CHECK((*again)[i].name == (*counters)[i].name &&
               (*again)[i].value == (*counters)[i].value);
  }
}

bool Same(const TokenInfoWire& a, const TokenInfoWire& b) {
  return a.id == b.id && a.role == b.role && a.namespace_name == b.namespace_name &&
         a.label == b.label && a.created_ms == b.created_ms;
}

void CheckTokenCreateReply(std::string_view body) {
  auto reply = DecodeTokenCreateReply(body);
  if (!reply.ok()) return;
  auto again = DecodeTokenCreateReply(EncodeTokenCreateReply(*reply));
  FUZZ_CHECK(again.ok() && Same(again->info, reply->info) && again->token == reply->token);
}

void CheckNamespaceList(std::string_view body) {
  auto list = DecodeNamespaceList(body);
  if (!list.ok()) return;
  const std::string encoded = EncodeNamespaceList(*list);
  auto again = DecodeNamespaceList(encoded);
  FUZZ_CHECK(again.ok() && again->size() == list->size());
  FUZZ_CHECK(EncodeNamespaceList(*again) == encoded);
}

void CheckTokenList(std::string_view body) {
  auto tokens = DecodeTokenList(body);
  if (!tokens.ok()) return;
  auto again = DecodeTokenList(EncodeTokenList(*tokens));
  FUZZ_CHECK(again.ok() && again->size() == tokens->size());
  for (size_t i = 0; i < tokens->size(); ++i) FUZZ_CHECK(Same((*again)[i], (*tokens)[i]));
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
    case Opcode::kGet:
      return CheckGetReply(body, h.flags);
    case Opcode::kBatchExists:
      return CheckBatchExistsReply(body);
    case Opcode::kMatchPrefix:
      return CheckMatchPrefixReply(body, h.flags);
    case Opcode::kStats:
      return CheckStatsReply(body);
    case Opcode::kTokenCreate:
      return CheckTokenCreateReply(body);
    case Opcode::kTokenList:
      return CheckTokenList(body);
    case Opcode::kBatchGet: {
      // u32 count, then count x (item header, value when OK).
      std::span<const uint8_t> rest = AsBytes(body);
      if (rest.size() < kCountSize) return;
      rest = rest.subspan(kCountSize);
      while (rest.size() >= kBatchGetItemHeaderSize) {
        BatchGetItemHeader item = DecodeBatchGetItemHeader(rest.first<kBatchGetItemHeaderSize>());
        rest = rest.subspan(kBatchGetItemHeaderSize);
        if (item.status != StatusCode::kOk) continue;
        if (item.value_len > rest.size()) return;
        rest = rest.subspan(item.value_len);
      }
      return;
    }
    case Opcode::kNsList:
      return CheckNamespaceList(body);
    case Opcode::kShmRegister:
      return CheckRegionId(body);
    case Opcode::kShmGet: {
      auto reply = DecodeShmGetReply(body);
      if (!reply.ok()) return;
      FUZZ_CHECK(EncodeShmGetReply(*reply) == body);
      return;
    }
    default:
      // Every opcode with a body in its OK reply has a case above.
      FUZZ_CHECK(OkReplyIsEmpty(h.opcode));
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
    case kPutPrefix:
    case kBatchPutBody: {
      if (rest_view.size() < 2) break;
      uint16_t flags = 0;
      std::memcpy(&flags, rest_view.data(), 2);
      flags &= kKnownFlags;
      if (data[0] % kSelectorCount == kPutPrefix) {
        CheckPutBody(rest_view.substr(2), flags);
      } else {
        CheckBatchPutBody(rest_view.substr(2), flags);
      }
      break;
    }
    case kGetReplyHead:
      if (!rest_view.empty()) {
        CheckGetReply(rest_view.substr(1), (rest_view[0] & 1) != 0 ? kFlagExt : 0);
      }
      break;
  }
  return 0;
}
