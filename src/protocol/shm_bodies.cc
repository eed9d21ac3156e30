#include "protocol/shm_bodies.h"

#include "common/byte_io.h"

namespace ctxstore::protocol {
namespace {

Status Malformed(std::string_view what) {
  return Status::Invalid("malformed " + std::string(what) + " body");
}

void PutRange(ByteWriter& w, const ShmRange& range) {
  w.Put(range.region_id);
  w.Put(range.offset);
  w.Put(range.length);
}

ShmRange GetRange(ByteReader& r) {
  ShmRange range;
  range.region_id = r.Get<uint32_t>();
  range.offset = r.Get<uint64_t>();
  range.length = r.Get<uint64_t>();
  return range;
}

// The key and range every SHM_PUT and SHM_GET begins with; *rest is what follows.
Status DecodeKeyAndRange(std::string_view body, const char* what, std::string_view* key,
                         ShmRange* range, std::string_view* rest) {
  ByteReader r(body);
  *key = r.GetShortString();
  *range = GetRange(r);
  if (!r.ok()) return Malformed(what);
  CTX_RETURN_IF_ERROR(ValidateKey(*key));
  *rest = body.substr(r.position());
  return Status::Ok();
}

}  // namespace

std::string EncodeShmRegister(uint64_t length) {
  return EncodeU64(length);
}

Result<uint64_t> DecodeShmRegister(std::string_view body) {
  auto length = DecodeU64(body);
  if (!length.ok()) return Malformed("SHM_REGISTER");
  if (*length == 0) return Status::Invalid("SHM_REGISTER of 0 bytes");
  return length;
}

std::string EncodeRegionId(uint32_t region_id) {
  std::string out;
  ByteWriter(&out).Put(region_id);
  return out;
}

Result<uint32_t> DecodeRegionId(std::string_view body) {
  ByteReader r(body);
  const uint32_t id = r.Get<uint32_t>();
  if (!r.ok() || r.remaining() != 0) return Malformed("region id");
  return id;
}

std::string EncodeShmPut(std::string_view key, const ShmRange& range,
                         const PutOptionsBlock* options) {
  std::string out;
  ByteWriter w(&out);
  w.PutShortString(key);
  PutRange(w, range);
  if (options != nullptr) out += EncodePutOptions(*options);
  return out;
}

Result<ShmPutRequest> DecodeShmPut(std::string_view body, bool ext) {
  ShmPutRequest req;
  std::string_view rest;
  CTX_RETURN_IF_ERROR(DecodeKeyAndRange(body, "SHM_PUT", &req.key, &req.range, &rest));
  if (ext) {
    size_t consumed = 0;
    auto options = DecodePutOptions(rest, &consumed);
    if (!options.ok()) return options.status();
    req.options = std::move(*options);
    rest.remove_prefix(consumed);
  }
  if (!rest.empty()) return Malformed("SHM_PUT");
  return req;
}

std::string EncodeShmGet(std::string_view key, const ShmRange& range) {
  std::string out;
  ByteWriter w(&out);
  w.PutShortString(key);
  PutRange(w, range);
  return out;
}

Result<ShmGetRequest> DecodeShmGet(std::string_view body) {
  ShmGetRequest req;
  std::string_view rest;
  CTX_RETURN_IF_ERROR(DecodeKeyAndRange(body, "SHM_GET", &req.key, &req.range, &rest));
  if (!rest.empty()) return Malformed("SHM_GET");
  return req;
}

std::string EncodeShmGetReply(const ShmGetReply& reply) {
  std::string out;
  ByteWriter w(&out);
  w.Put(reply.value_len);
  w.Put(reply.xxh3);
  return out;
}

Result<ShmGetReply> DecodeShmGetReply(std::string_view body) {
  ByteReader r(body);
  ShmGetReply reply;
  reply.value_len = r.Get<uint64_t>();
  reply.xxh3 = r.Get<uint64_t>();
  if (!r.ok() || r.remaining() != 0) return Malformed("SHM_GET reply");
  return reply;
}

}  // namespace ctxstore::protocol
