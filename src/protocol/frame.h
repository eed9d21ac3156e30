// The native protocol's frame: a fixed 32-byte header and a body.
// Pure codec shared by server and client; docs/protocol.md is the spec.
//
//   0        4    5       6       8              16             24      26      28      32
//   +--------+----+-------+-------+--------------+--------------+-------+-------+-------+
//   | magic  |ver | opcode| flags | request_id   | body_len     |status | rsvd  | rsvd  |
//   | u32    | u8 | u8    | u16   | u64          | u64          | u16   | u16   | u32   |
//   +--------+----+-------+-------+--------------+--------------+-------+-------+-------+
//
// All integers little-endian. Requests carry status 0; replies echo the
// request's opcode and request_id.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/limits.h"
#include "ctxstore/status.h"

namespace ctxstore::protocol {

static_assert(std::endian::native == std::endian::little, "wire format assumes little-endian");

inline constexpr uint32_t kMagic = 0x53585443;  // "CTXS" in memory order
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 32;

enum class Opcode : uint8_t {
  kHello = 1,
  kPut = 2,
  kGet = 3,
  kExists = 4,
  kDelete = 5,
  kBatchPut = 6,
  kBatchGet = 7,
  kBatchExists = 8,
  kMatchPrefix = 9,
  kFlush = 10,
  kStats = 11,
  kRelease = 12,
  kStat = 13,
  kList = 14,
  kPin = 15,
  kUnpin = 16,
  kDeleteGroup = 17,
  kNsCreate = 18,
  kNsSet = 19,
  kNsList = 20,
  kNsDelete = 21,
  kTokenCreate = 22,
  kTokenList = 23,
  kTokenRevoke = 24,
  // Shared memory, on Unix-socket connections only (docs/protocol.md).
  kShmRegister = 25,
  kShmUnregister = 26,
  kShmPut = 27,
  kShmGet = 28,
};
inline constexpr Opcode kLastOpcode = Opcode::kShmGet;
bool IsKnownOpcode(uint8_t op);
std::string_view OpcodeName(Opcode op);

// Request flags.
inline constexpr uint16_t kFlagSync = 1 << 0;       // PUT/DELETE: ack after fdatasync
inline constexpr uint16_t kFlagOverwrite = 1 << 1;  // PUT: replace an existing value
// Extended body: PUT/BATCH_PUT carry a put-options block; MATCH_PREFIX a
// lease time (and its reply a lease id); GET's reply carries the metadata.
inline constexpr uint16_t kFlagExt = 1 << 2;
// PUT/BATCH_PUT: each value comes with the XXH3-64 the client computed; the
// server stores it only if the bytes it received match.
inline constexpr uint16_t kFlagChecksum = 1 << 3;
inline constexpr uint16_t kKnownFlags = kFlagSync | kFlagOverwrite | kFlagExt | kFlagChecksum;

struct FrameHeader {
  uint32_t magic = kMagic;
  uint8_t version = kVersion;
  Opcode opcode = Opcode::kHello;
  uint16_t flags = 0;
  uint64_t request_id = 0;
  uint64_t body_len = 0;
  StatusCode status = StatusCode::kOk;
};

using HeaderBytes = std::array<uint8_t, kHeaderSize>;
HeaderBytes EncodeHeader(const FrameHeader& h);

// Why a header was refused. Framing is lost after kBadMagic, so the receiver
// must close; the others can be answered with an error status first.
enum class HeaderError { kNone, kBadMagic, kBadVersion, kUnknownOpcode };
struct DecodedHeader {
  FrameHeader header;
  HeaderError error = HeaderError::kNone;
  uint8_t raw_opcode = 0;
};
DecodedHeader DecodeHeader(std::span<const uint8_t, kHeaderSize> bytes);

// Limits a server enforces before it allocates anything for a frame.
struct Limits {
  uint64_t max_value_bytes = 256ull << 20;
  uint32_t max_leases_per_connection = 256;
  uint32_t max_batch_keys = 1024;
  uint64_t max_batch_bytes = 1ull << 30;       // BATCH_PUT body and BATCH_GET reply
  uint64_t max_small_body_bytes = 1ull << 20;  // every body that is not a value carrier
};

// Checks body_len against the limits for the opcode; kTooLarge on excess.
Status CheckBodyLength(const FrameHeader& h, const Limits& limits);

// Keys are 1..kMaxKeyBytes bytes of anything.
Status ValidateKey(std::string_view key);

// A string's bytes, as the codec and the transports see them.
inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace ctxstore::protocol
