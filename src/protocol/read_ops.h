// Bodies of the read ops beyond a plain key (docs/protocol.md): the GET
// reply's head, BATCH_GET, BATCH_EXISTS and MATCH_PREFIX. The value bytes
// of GET and BATCH_GET replies are never copied here: the server sends them
// from the arena after a head these functions write into fixed buffers, and
// the client receives them wherever it wants.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/objects.h"
#include "ctxstore/status.h"

namespace ctxstore::protocol {

// The u32 count that starts a batch body (BATCH_PUT, BATCH_GET and its
// reply, BATCH_EXISTS, key lists).
inline constexpr size_t kCountSize = 4;
void AppendCount(std::string* out, uint32_t count);
uint32_t DecodeCount(std::span<const uint8_t, kCountSize> bytes);

// GET reply (OK): u64 xxh3 of the value, [EXT: u16 meta_len, meta], then the
// value.
struct GetReplyHead {
  uint64_t xxh3 = 0;
  uint16_t meta_len = 0;  // EXT only; at most kMaxMetaBytes
};
inline constexpr size_t kMaxGetReplyHeadSize = 8 + 2;
constexpr size_t GetReplyHeadSize(bool ext) {
  return ext ? kMaxGetReplyHeadSize : 8;
}
using GetReplyHeadBytes = std::array<uint8_t, kMaxGetReplyHeadSize>;
// The first GetReplyHeadSize(ext) bytes are the head.
GetReplyHeadBytes EncodeGetReplyHead(const GetReplyHead& head, bool ext);
GetReplyHead DecodeGetReplyHead(const GetReplyHeadBytes& bytes, bool ext);

// BATCH_GET reply: u32 count, then count x (item header, value if OK). The
// item header is u16 status, u64 value_len, u64 xxh3 (kBatchGetItemHeaderSize,
// messages.h).
void AppendBatchGetItemHeader(std::string* out, StatusCode status, uint64_t value_len,
                              uint64_t xxh3);

// BATCH_EXISTS reply: u32 count, count x u8 (1 present, 0 absent).
std::string EncodeBatchExistsReply(const std::vector<bool>& present);
Result<std::vector<bool>> DecodeBatchExistsReply(std::string_view body);

// MATCH_PREFIX request: [EXT: u64 lease_ms], u32 count, count x key, in
// prefix order. Reply: u32 number of leading keys present, [EXT: u64
// lease_id].
struct MatchPrefixRequest {
  uint64_t lease_ms = 0;               // EXT only
  std::vector<std::string_view> keys;  // into the body
};
std::string EncodeMatchPrefixRequest(std::span<const std::string> keys, bool ext,
                                     uint64_t lease_ms);
Result<MatchPrefixRequest> DecodeMatchPrefixRequest(std::string_view body, bool ext,
                                                    uint32_t max_keys);
// The reply is a MatchResult (ctxstore/objects.h); its lease_id travels
// only with EXT.
std::string EncodeMatchPrefixReply(const MatchResult& reply, bool ext);
Result<MatchResult> DecodeMatchPrefixReply(std::string_view body, bool ext);

}  // namespace ctxstore::protocol
