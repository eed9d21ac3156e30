// Bodies of the shared-memory ops (docs/protocol.md, "Shared memory"): a
// client on the server's machine registers memory it shares with the server
// (a memfd passed over the Unix socket), then moves values between that
// memory and the store by offset, with no value bytes on the socket. Pure
// codecs: decoding checks every length against the body before use.
//
//   SHM_REGISTER    u64 length                      -> u32 region_id
//   SHM_UNREGISTER  u32 region_id                   -> (empty)
//   SHM_PUT         key, range, [EXT: put options]  -> (empty)
//   SHM_GET         key, range (length: capacity)   -> u64 value_len, u64 xxh3
//
// range = u32 region_id, u64 offset, u64 length (little-endian, as every
// integer of the protocol); key = u16 length + bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ctxstore/status.h"
#include "protocol/messages.h"

namespace ctxstore::protocol {

// Bytes of a registered region: [offset, offset + length) of region_id.
struct ShmRange {
  uint32_t region_id = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

inline constexpr size_t kShmRangeSize = 4 + 8 + 8;
inline constexpr size_t kShmGetReplySize = 8 + 8;

std::string EncodeShmRegister(uint64_t length);
Result<uint64_t> DecodeShmRegister(std::string_view body);  // length > 0
std::string EncodeRegionId(uint32_t region_id);             // REGISTER's reply, UNREGISTER
Result<uint32_t> DecodeRegionId(std::string_view body);

struct ShmPutRequest {
  std::string_view key;
  ShmRange range;
  std::optional<PutOptionsBlock> options;  // with kFlagExt only
};
std::string EncodeShmPut(std::string_view key, const ShmRange& range,
                         const PutOptionsBlock* options);
Result<ShmPutRequest> DecodeShmPut(std::string_view body, bool ext);

struct ShmGetRequest {
  std::string_view key;
  ShmRange range;  // length: the most the value may take
};
std::string EncodeShmGet(std::string_view key, const ShmRange& range);
Result<ShmGetRequest> DecodeShmGet(std::string_view body);

struct ShmGetReply {
  uint64_t value_len = 0;
  uint64_t xxh3 = 0;  // of the value as stored
};
std::string EncodeShmGetReply(const ShmGetReply& r);
Result<ShmGetReply> DecodeShmGetReply(std::string_view body);

}  // namespace ctxstore::protocol
