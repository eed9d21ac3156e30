// Encoders and decoders for the bodies of each op (docs/protocol.md).
// Values themselves are never copied here: PUT and GET bodies carry them
// after a small prefix that these functions produce or parse.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/status.h"
#include "protocol/frame.h"

namespace ctxstore::protocol {

// HELLO
struct HelloRequest {
  uint16_t version = kVersion;
  std::string client_name;
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

// GET reply (OK): u64 xxh3 of the value, then the value.
inline constexpr size_t kGetReplyPrefix = 8;
// EXISTS reply (OK): u64 value length.

// BATCH_GET / BATCH_EXISTS / MATCH_PREFIX request: u32 count, count x key.
std::string EncodeKeyList(std::span<const std::string_view> keys);
std::string EncodeKeyList(std::span<const std::string> keys);
// Keys point into body. Fails on trailing bytes, bad keys or too many keys.
Result<std::vector<std::string_view>> DecodeKeyList(std::string_view body, uint32_t max_keys);

// BATCH_PUT request: u32 count, then count x item; item = u16 key_len, key,
// u64 value_len, value bytes. Item headers are parsed as the body streams in.
inline constexpr size_t kBatchPutCountSize = 4;
std::string EncodeBatchPutItemHeader(std::string_view key, uint64_t value_len);

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

// BATCH_EXISTS reply: u32 count, count x u8 (1 present, 0 absent).
// MATCH_PREFIX reply: u32 number of leading keys present.

}  // namespace ctxstore::protocol
