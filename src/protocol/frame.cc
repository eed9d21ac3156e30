#include "protocol/frame.h"

#include <cstring>

#include "protocol/messages.h"

namespace ctxstore::protocol {

bool IsKnownOpcode(uint8_t op) {
  return op >= static_cast<uint8_t>(Opcode::kHello) &&
         op <= static_cast<uint8_t>(kLastOpcode);
}

std::string_view OpcodeName(Opcode op) {
  switch (op) {
    case Opcode::kHello:
      return "HELLO";
    case Opcode::kPut:
      return "PUT";
    case Opcode::kGet:
      return "GET";
    case Opcode::kExists:
      return "EXISTS";
    case Opcode::kDelete:
      return "DELETE";
    case Opcode::kBatchPut:
      return "BATCH_PUT";
    case Opcode::kBatchGet:
      return "BATCH_GET";
    case Opcode::kBatchExists:
      return "BATCH_EXISTS";
    case Opcode::kMatchPrefix:
      return "MATCH_PREFIX";
    case Opcode::kFlush:
      return "FLUSH";
    case Opcode::kStats:
      return "STATS";
    case Opcode::kRelease:
      return "RELEASE";
    case Opcode::kStat:
      return "STAT";
    case Opcode::kList:
      return "LIST";
    case Opcode::kPin:
      return "PIN";
    case Opcode::kUnpin:
      return "UNPIN";
    case Opcode::kDeleteGroup:
      return "DELETE_GROUP";
    case Opcode::kNsCreate:
      return "NS_CREATE";
    case Opcode::kNsSet:
      return "NS_SET";
    case Opcode::kNsList:
      return "NS_LIST";
    case Opcode::kNsDelete:
      return "NS_DELETE";
    case Opcode::kTokenCreate:
      return "TOKEN_CREATE";
    case Opcode::kTokenList:
      return "TOKEN_LIST";
    case Opcode::kTokenRevoke:
      return "TOKEN_REVOKE";
    case Opcode::kShmRegister:
      return "SHM_REGISTER";
    case Opcode::kShmUnregister:
      return "SHM_UNREGISTER";
    case Opcode::kShmPut:
      return "SHM_PUT";
    case Opcode::kShmGet:
      return "SHM_GET";
  }
  return "UNKNOWN";
}

HeaderBytes EncodeHeader(const FrameHeader& h) {
  HeaderBytes b{};
  auto put = [&b](size_t off, auto v) { std::memcpy(b.data() + off, &v, sizeof(v)); };
  put(0, h.magic);
  put(4, h.version);
  put(5, static_cast<uint8_t>(h.opcode));
  put(6, h.flags);
  put(8, h.request_id);
  put(16, h.body_len);
  put(24, static_cast<uint16_t>(h.status));
  return b;  // bytes 26..31 reserved, zero
}

DecodedHeader DecodeHeader(std::span<const uint8_t, kHeaderSize> b) {
  auto get = [&b](size_t off, auto* v) { std::memcpy(v, b.data() + off, sizeof(*v)); };
  DecodedHeader d;
  uint16_t status = 0;
  get(0, &d.header.magic);
  get(4, &d.header.version);
  get(5, &d.raw_opcode);
  get(6, &d.header.flags);
  get(8, &d.header.request_id);
  get(16, &d.header.body_len);
  get(24, &status);
  d.header.status = static_cast<StatusCode>(status);
  d.header.opcode = static_cast<Opcode>(d.raw_opcode);
  if (d.header.magic != kMagic)
    d.error = HeaderError::kBadMagic;
  else if (d.header.version != kVersion)
    d.error = HeaderError::kBadVersion;
  else if (!IsKnownOpcode(d.raw_opcode))
    d.error = HeaderError::kUnknownOpcode;
  return d;
}

Status CheckBodyLength(const FrameHeader& h, const Limits& limits) {
  uint64_t max = limits.max_small_body_bytes;
  // A PUT may carry a put-options block (kFlagExt) between key and value.
  if (h.opcode == Opcode::kPut)
    max = 2 + kMaxKeyBytes + 8 + kMaxPutOptionsBytes + limits.max_value_bytes;
  if (h.opcode == Opcode::kBatchPut) max = limits.max_batch_bytes;
  if (h.body_len > max) {
    return Status::TooLarge("body of " + std::to_string(h.body_len) +
                            " bytes exceeds the limit of " + std::to_string(max) + " for " +
                            std::string(OpcodeName(h.opcode)));
  }
  return Status::Ok();
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Status::Invalid("empty key");
  if (key.size() > kMaxKeyBytes) {
    return Status::TooLarge("key of " + std::to_string(key.size()) + " bytes exceeds " +
                            std::to_string(kMaxKeyBytes));
  }
  return Status::Ok();
}

}  // namespace ctxstore::protocol
