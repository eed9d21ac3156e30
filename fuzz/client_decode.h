// An OK reply's body decoded as the client library decodes it for the
// reply's opcode (src/client: client.cc, client_context.cc,
// client_tokens.cc, reply.h), without a socket: the reply fuzzer feeds it
// anything, the service fuzzer what the service answered (which must
// decode). Returns OK when the client would accept the body; a protocol
// error (kInternal) or, for a value whose XXH3 is not the one sent with
// it, kCorrupt.
#pragma once

#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include "client/reply.h"
#include "common/hash.h"
#include "protocol/admin_bodies.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/namespace_bodies.h"
#include "protocol/read_ops.h"

namespace ctxstore::fuzz {

// items: the keys (or items) the request carried, for the batch ops.
inline Status DecodeOkReply(const protocol::FrameHeader& h, std::string_view body, size_t items) {
  using protocol::Opcode;
  const bool ext = (h.flags & protocol::kFlagExt) != 0;
  // The client reports a body that does not decode as a protocol error.
  auto decoded = [](const Status& st) {
    return st.ok() ? st : client::ProtocolError(st.message());
  };
  auto error = [&](std::string_view what) {
    return client::ProtocolError(std::string(protocol::OpcodeName(h.opcode)) + ": " +
                                 std::string(what));
  };
  switch (h.opcode) {
    case Opcode::kHello:
      return client::DecodeHelloInfo(body).status();
    case Opcode::kExists:
    case Opcode::kPin:
    case Opcode::kDeleteGroup:
      return protocol::DecodeU64(body).ok() ? Status::Ok() : error("not a u64");
    case Opcode::kBatchPut: {
      auto codes = protocol::DecodeStatusList(body);
      if (!codes.ok()) return decoded(codes.status());
      if (codes->size() != items) return error("one status per item");
      for (StatusCode c : *codes) {
        if (client::CodeFromWire(c) != c) return error("unknown item status");
      }
      return Status::Ok();
    }
    case Opcode::kBatchExists: {
      auto present = protocol::DecodeBatchExistsReply(body);
      if (!present.ok()) return decoded(present.status());
      return present->size() == items ? Status::Ok() : error("one flag per key");
    }
    case Opcode::kMatchPrefix: {
      auto m = protocol::DecodeMatchPrefixReply(body, ext);
      if (!m.ok()) return decoded(m.status());
      return m->matched <= items ? Status::Ok() : error("more matched than asked");
    }
    case Opcode::kStats:
      return decoded(protocol::DecodeStatsReply(body).status());
    case Opcode::kStat:
      return decoded(protocol::DecodeObjectInfo(body).status());
    case Opcode::kList: {
      auto page = protocol::DecodeListReply(body);
      if (!page.ok()) return decoded(page.status());
      return page->items.size() <= kMaxListLimit ? Status::Ok() : error("too many items");
    }
    case Opcode::kNsList:
      return decoded(protocol::DecodeNamespaceList(body).status());
    case Opcode::kTokenCreate:
      return decoded(protocol::DecodeTokenCreateReply(body).status());
    case Opcode::kTokenList:
      return decoded(protocol::DecodeTokenList(body).status());
    case Opcode::kGet: {
      const size_t head_size = protocol::GetReplyHeadSize(ext);
      if (body.size() < head_size) return error("shorter than its head");
      protocol::GetReplyHeadBytes raw{};
      std::memcpy(raw.data(), body.data(), head_size);
      protocol::GetReplyHead head = protocol::DecodeGetReplyHead(raw, ext);
      body.remove_prefix(head_size);
      if (head.meta_len > body.size() || head.meta_len > kMaxMetaBytes) return error("metadata");
      body.remove_prefix(head.meta_len);
      if (Xxh3(body.data(), body.size()) != head.xxh3) return Status::Corrupt("GET value");
      return Status::Ok();
    }
    case Opcode::kBatchGet: {
      if (body.size() < protocol::kCountSize) return error("no count");
      std::array<uint8_t, protocol::kCountSize> count{};
      std::memcpy(count.data(), body.data(), count.size());
      if (protocol::DecodeCount(count) != items) return error("one item per key");
      body.remove_prefix(protocol::kCountSize);
      for (size_t i = 0; i < items; ++i) {
        std::array<uint8_t, protocol::kBatchGetItemHeaderSize> raw{};
        if (body.size() < raw.size()) return error("truncated");
        std::memcpy(raw.data(), body.data(), raw.size());
        body.remove_prefix(raw.size());
        protocol::BatchGetItemHeader ih = protocol::DecodeBatchGetItemHeader(raw);
        if (client::CodeFromWire(ih.status) != ih.status) return error("unknown item status");
        if (ih.status != StatusCode::kOk) continue;
        if (ih.value_len > body.size()) return error("item past the end");
        if (Xxh3(body.data(), ih.value_len) != ih.xxh3) return Status::Corrupt("BATCH_GET value");
        body.remove_prefix(ih.value_len);
      }
      return body.empty() ? Status::Ok() : error("trailing bytes");
    }
    default:
      break;
  }
  // The rest (protocol::OkReplyIsEmpty) are answered with no body; the
  // client reads at most 0 bytes for them.
  if (protocol::OkReplyIsEmpty(h.opcode)) {
    return body.empty() ? Status::Ok() : error("a body where none is due");
  }
  return error("unknown opcode");
}

}  // namespace ctxstore::fuzz
