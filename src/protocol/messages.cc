#include "protocol/messages.h"

#include <cstring>

#include "protocol/wire.h"

namespace ctxstore::protocol {
namespace {

Status Malformed(std::string_view what) {
  return Status::Invalid("malformed " + std::string(what) + " body");
}

}  // namespace

std::string EncodeHelloRequest(const HelloRequest& r) {
  std::string out;
  ByteWriter w(&out);
  w.Put(r.version);
  w.PutShortString(r.client_name);
  return out;
}

Result<HelloRequest> DecodeHelloRequest(std::string_view body) {
  ByteReader r(body);
  HelloRequest h;
  h.version = r.Get<uint16_t>();
  h.client_name = std::string(r.GetShortString());
  if (!r.ok() || r.remaining() != 0) return Malformed("HELLO");
  return h;
}

std::string EncodeHelloReply(const HelloReply& r) {
  std::string out;
  ByteWriter w(&out);
  w.Put(r.version);
  w.Put(r.max_value_bytes);
  w.Put(r.max_batch_keys);
  w.Put(r.max_batch_bytes);
  w.PutShortString(r.server_version);
  return out;
}

Result<HelloReply> DecodeHelloReply(std::string_view body) {
  ByteReader r(body);
  HelloReply h;
  h.version = r.Get<uint16_t>();
  h.max_value_bytes = r.Get<uint64_t>();
  h.max_batch_keys = r.Get<uint32_t>();
  h.max_batch_bytes = r.Get<uint64_t>();
  h.server_version = std::string(r.GetShortString());
  if (!r.ok()) return Malformed("HELLO reply");
  return h;
}

std::string EncodeKey(std::string_view key) {
  std::string out;
  ByteWriter(&out).PutShortString(key);
  return out;
}

Result<std::string_view> DecodeKey(std::string_view body) {
  ByteReader r(body);
  std::string_view key = r.GetShortString();
  if (!r.ok() || r.remaining() != 0) return Malformed("key");
  CTX_RETURN_IF_ERROR(ValidateKey(key));
  return key;
}

template <typename S>
static std::string EncodeKeyListImpl(std::span<const S> keys) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint32_t>(keys.size()));
  for (const auto& k : keys) w.PutShortString(k);
  return out;
}
std::string EncodeKeyList(std::span<const std::string_view> keys) {
  return EncodeKeyListImpl(keys);
}
std::string EncodeKeyList(std::span<const std::string> keys) {
  return EncodeKeyListImpl(keys);
}

Result<std::vector<std::string_view>> DecodeKeyList(std::string_view body, uint32_t max_keys) {
  ByteReader r(body);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok()) return Malformed("key list");
  if (count > max_keys) {
    return Status::TooLarge("batch of " + std::to_string(count) + " keys exceeds the limit of " +
                            std::to_string(max_keys));
  }
  // Each key takes at least 3 bytes, so count is also bounded by the body.
  if (count > r.remaining() / 3) return Malformed("key list");
  std::vector<std::string_view> keys;
  keys.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view k = r.GetShortString();
    if (!r.ok()) return Malformed("key list");
    CTX_RETURN_IF_ERROR(ValidateKey(k));
    keys.push_back(k);
  }
  if (r.remaining() != 0) return Malformed("key list");
  return keys;
}

std::string EncodeBatchPutItemHeader(std::string_view key, uint64_t value_len) {
  std::string out;
  ByteWriter w(&out);
  w.PutShortString(key);
  w.Put(value_len);
  return out;
}

std::string EncodeStatusList(std::span<const StatusCode> codes) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint32_t>(codes.size()));
  for (StatusCode c : codes) w.Put(static_cast<uint16_t>(c));
  return out;
}

Result<std::vector<StatusCode>> DecodeStatusList(std::string_view body) {
  ByteReader r(body);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok() || r.remaining() != static_cast<uint64_t>(count) * 2) return Malformed("status list");
  std::vector<StatusCode> out(count);
  for (auto& c : out) c = static_cast<StatusCode>(r.Get<uint16_t>());
  return out;
}

std::string EncodeBatchGetItemHeader(StatusCode status, uint64_t value_len, uint64_t xxh3) {
  std::string out;
  ByteWriter w(&out);
  w.Put(static_cast<uint16_t>(status));
  w.Put(value_len);
  w.Put(xxh3);
  return out;
}

BatchGetItemHeader DecodeBatchGetItemHeader(std::span<const uint8_t, kBatchGetItemHeaderSize> b) {
  ByteReader r(std::span<const uint8_t>(b.data(), b.size()));
  BatchGetItemHeader h;
  h.status = static_cast<StatusCode>(r.Get<uint16_t>());
  h.value_len = r.Get<uint64_t>();
  h.xxh3 = r.Get<uint64_t>();
  return h;
}

}  // namespace ctxstore::protocol
