#include "protocol/read_ops.h"

#include <cstring>

#include "common/byte_io.h"
#include "protocol/messages.h"

namespace ctxstore::protocol {

void AppendCount(std::string* out, uint32_t count) {
  ByteWriter(out).Put(count);
}

uint32_t DecodeCount(std::span<const uint8_t, kCountSize> bytes) {
  uint32_t count = 0;
  std::memcpy(&count, bytes.data(), sizeof(count));
  return count;
}

GetReplyHeadBytes EncodeGetReplyHead(const GetReplyHead& head, bool ext) {
  GetReplyHeadBytes bytes{};
  std::memcpy(bytes.data(), &head.xxh3, sizeof(head.xxh3));
  if (ext) std::memcpy(bytes.data() + sizeof(head.xxh3), &head.meta_len, sizeof(head.meta_len));
  return bytes;
}

GetReplyHead DecodeGetReplyHead(const GetReplyHeadBytes& bytes, bool ext) {
  GetReplyHead head;
  std::memcpy(&head.xxh3, bytes.data(), sizeof(head.xxh3));
  if (ext) std::memcpy(&head.meta_len, bytes.data() + sizeof(head.xxh3), sizeof(head.meta_len));
  return head;
}

void AppendBatchGetItemHeader(std::string* out, StatusCode status, uint64_t value_len,
                              uint64_t xxh3) {
  ByteWriter w(out);
  w.Put(static_cast<uint16_t>(status));
  w.Put(value_len);
  w.Put(xxh3);
}

std::string EncodeBatchExistsReply(const std::vector<bool>& present) {
  std::string out;
  out.reserve(kCountSize + present.size());
  ByteWriter w(&out);
  w.Put(static_cast<uint32_t>(present.size()));
  for (bool p : present) w.Put(static_cast<uint8_t>(p ? 1 : 0));
  return out;
}

Result<std::vector<bool>> DecodeBatchExistsReply(std::string_view body) {
  ByteReader r(body);
  const uint32_t count = r.Get<uint32_t>();
  if (!r.ok() || r.remaining() != count) {
    return Status::Invalid("malformed BATCH_EXISTS reply body");
  }
  std::vector<bool> present(count);
  for (uint32_t i = 0; i < count; ++i) present[i] = r.Get<uint8_t>() != 0;
  return present;
}

std::string EncodeMatchPrefixRequest(std::span<const std::string> keys, bool ext,
                                     uint64_t lease_ms) {
  std::string out;
  if (ext) ByteWriter(&out).Put(lease_ms);
  out += EncodeKeyList(keys);
  return out;
}

Result<MatchPrefixRequest> DecodeMatchPrefixRequest(std::string_view body, bool ext,
                                                    uint32_t max_keys) {
  MatchPrefixRequest req;
  if (ext) {
    ByteReader r(body);
    req.lease_ms = r.Get<uint64_t>();
    if (!r.ok()) return Status::Invalid("MATCH_PREFIX body too short for a lease time");
    body.remove_prefix(sizeof(req.lease_ms));
  }
  auto keys = DecodeKeyList(body, max_keys);
  if (!keys.ok()) return keys.status();
  req.keys = std::move(*keys);
  return req;
}

std::string EncodeMatchPrefixReply(const MatchResult& reply, bool ext) {
  std::string out;
  ByteWriter w(&out);
  w.Put(reply.matched);
  if (ext) w.Put(reply.lease_id);
  return out;
}

Result<MatchResult> DecodeMatchPrefixReply(std::string_view body, bool ext) {
  ByteReader r(body);
  MatchResult reply;
  reply.matched = r.Get<uint32_t>();
  if (ext) reply.lease_id = r.Get<uint64_t>();
  if (!r.ok() || r.remaining() != 0) return Status::Invalid("malformed MATCH_PREFIX reply body");
  return reply;
}

}  // namespace ctxstore::protocol
