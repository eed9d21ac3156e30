#include "protocol/lm_message.h"

#include <algorithm>
#include <cstring>

namespace ctxstore::protocol {
namespace {

constexpr std::string_view kMetaTag = "LMv1";

// Native-endian, as LMCache's struct.pack("i") writes them (x86 and Arm
// servers are little-endian).
int32_t I32At(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
void PutI32(uint8_t* p, int32_t v) {
  std::memcpy(p, &v, sizeof(v));
}

// LMCache pads keys with spaces (ljust) inside a NUL-padded struct field and
// strips whitespace when it reads them.
std::string StripKey(const uint8_t* p) {
  std::string_view k(reinterpret_cast<const char*>(p), kLmKeyBytes);
  const auto is_pad = [](char c) {
    return c == ' ' || c == '\0' || c == '\t' || c == '\n' || c == '\r';
  };
  while (!k.empty() && is_pad(k.back())) k.remove_suffix(1);
  while (!k.empty() && is_pad(k.front())) k.remove_prefix(1);
  return std::string(k);
}

}  // namespace

Result<LmRequest> DecodeLmRequest(const LmRequestBytes& bytes, uint64_t max_value_bytes) {
  const uint8_t* p = bytes.data();
  const int32_t command = I32At(p);
  if (command < 1 || command > 5) {
    return Status::Invalid("lm: unknown command " + std::to_string(command));
  }
  LmRequest r;
  r.command = static_cast<LmCommand>(command);
  const int32_t length = I32At(p + 4);
  if (length < 0 || static_cast<uint64_t>(length) > max_value_bytes) {
    return Status::Invalid("lm: bad payload length " + std::to_string(length));
  }
  r.length = r.command == LmCommand::kPut ? static_cast<uint32_t>(length) : 0;
  r.meta.fmt = I32At(p + 8);
  r.meta.dtype = I32At(p + 12);
  r.meta.location = I32At(p + 16);
  for (size_t i = 0; i < 4; ++i) r.meta.shape[i] = I32At(p + 20 + 4 * i);
  r.key = StripKey(p + 36);
  const bool keyless = r.command == LmCommand::kList || r.command == LmCommand::kHealth;
  if (r.key.empty() && !keyless) return Status::Invalid("lm: empty key");
  return r;
}

LmRequestBytes EncodeLmRequest(const LmRequest& request) {
  LmRequestBytes b;
  uint8_t* p = b.data();
  PutI32(p, static_cast<int32_t>(request.command));
  PutI32(p + 4, static_cast<int32_t>(request.length));
  PutI32(p + 8, request.meta.fmt);
  PutI32(p + 12, request.meta.dtype);
  PutI32(p + 16, request.meta.location);
  for (size_t i = 0; i < 4; ++i) PutI32(p + 20 + 4 * i, request.meta.shape[i]);
  std::fill(p + 36, p + kLmRequestBytes, uint8_t{' '});
  std::copy_n(request.key.data(), std::min(request.key.size(), kLmKeyBytes), p + 36);
  return b;
}

LmReplyBytes EncodeLmReply(int32_t code, uint32_t length, const LmShape& meta) {
  LmReplyBytes b;
  uint8_t* p = b.data();
  PutI32(p, code);
  PutI32(p + 4, static_cast<int32_t>(length));
  PutI32(p + 8, meta.fmt);
  PutI32(p + 12, meta.dtype);
  for (size_t i = 0; i < 4; ++i) PutI32(p + 16 + 4 * i, meta.shape[i]);
  PutI32(p + 32, meta.location);  // last in a reply (LMCache's ServerMetaMessage)
  return b;
}

std::string EncodeLmMeta(const LmShape& meta) {
  std::string blob(kLmMetaBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(blob.data());
  std::copy(kMetaTag.begin(), kMetaTag.end(), blob.begin());
  PutI32(p + 4, meta.fmt);
  PutI32(p + 8, meta.dtype);
  PutI32(p + 12, meta.location);
  for (size_t i = 0; i < 4; ++i) PutI32(p + 16 + 4 * i, meta.shape[i]);
  return blob;
}

LmShape DecodeLmMeta(std::string_view blob) {
  LmShape m;
  if (blob.size() != kLmMetaBytes || !blob.starts_with(kMetaTag)) return m;
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  m.fmt = I32At(p + 4);
  m.dtype = I32At(p + 8);
  m.location = I32At(p + 12);
  for (size_t i = 0; i < 4; ++i) m.shape[i] = I32At(p + 16 + 4 * i);
  return m;
}

}  // namespace ctxstore::protocol
