// LMCache's lm:// protocol (its reference "lmcache server", v1 era), byte for
// byte as LMCache's lmcache/v1/protocol.py writes it (pinned: LMCache
// commit c1a02cc8; docs/compatibility.md): no handshake, no
// authentication, native-endian (little-endian) int32s. Pure: no I/O.
//
//   request, 186 bytes                         reply, 36 bytes
//   +0   command   1 PUT 2 GET 3 EXIST         +0   code    200 ok, 400 fail
//             4 LIST 5 HEALTH                  +4   length  payload bytes
//   +4   length    payload bytes (PUT)         +8   fmt
//   +8   fmt       LMCache's MemoryFormat      +12  dtype
//   +12  dtype     0 none .. 8 float8_e5m2     +16  shape0
//   +16  location  0 none 1 CPU 2 disk         +20  shape1
//   +20  shape0                                +24  shape2
//   +24  shape1                                +28  shape3
//   +28  shape2                                +32  location (last, in replies)
//   +32  shape3
//   +36  key       150 bytes of UTF-8, right-padded with spaces
//
// A PUT is followed by `length` payload bytes and gets no reply; GET hit:
// 200 with the object's length, format, dtype, shape and location, then
// the payload; GET miss: 400 and no payload; EXIST: 200 or 400; HEALTH:
// 200; LIST: 200 and the keys separated by "\n".
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ctxstore/status.h"

namespace ctxstore::protocol {

inline constexpr size_t kLmKeyBytes = 150;
inline constexpr size_t kLmRequestBytes = 9 * 4 + kLmKeyBytes;
inline constexpr size_t kLmReplyBytes = 9 * 4;
static_assert(kLmRequestBytes == 186 && kLmReplyBytes == 36, "LMCache's v1 layout");

enum class LmCommand : int32_t { kPut = 1, kGet = 2, kExist = 3, kList = 4, kHealth = 5 };
inline constexpr int32_t kLmSuccess = 200;
inline constexpr int32_t kLmFail = 400;

// What LMCache keeps with a chunk and gives back on GET.
struct LmShape {
  int32_t fmt = 0;
  int32_t dtype = 0;
  int32_t location = 0;
  std::array<int32_t, 4> shape{};
};

struct LmRequest {
  LmCommand command = LmCommand::kHealth;
  uint32_t length = 0;  // PUT's payload bytes
  LmShape meta;
  std::string key;  // the padding stripped
};

using LmRequestBytes = std::array<uint8_t, kLmRequestBytes>;
using LmReplyBytes = std::array<uint8_t, kLmReplyBytes>;

// kInvalid: an unknown command, a negative length or one over
// max_value_bytes (PUT), an empty key (but for LIST and HEALTH, which
// carry none).
Result<LmRequest> DecodeLmRequest(const LmRequestBytes& bytes, uint64_t max_value_bytes);
// A request as LMCache's client writes it (tests and the benchmark's
// driver). The key must fit in kLmKeyBytes.
LmRequestBytes EncodeLmRequest(const LmRequest& request);
LmReplyBytes EncodeLmReply(int32_t code, uint32_t length, const LmShape& meta);

// The object metadata blob an lm:// PUT stores (and its GET answers):
// "LMv1" then fmt, dtype, location, shape0..3 as little-endian int32s.
inline constexpr size_t kLmMetaBytes = 4 + 7 * 4;
std::string EncodeLmMeta(const LmShape& meta);
// A blob of another kind (an object stored over another protocol) gives
// zeros: LMCache's "undefined" format and no dtype.
LmShape DecodeLmMeta(std::string_view blob);

}  // namespace ctxstore::protocol
