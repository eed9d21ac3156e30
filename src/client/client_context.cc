// Client: the context calls (GET with metadata, MATCH_PREFIX with a borrowed,
// RELEASE, STAT, LIST, PIN, UNPIN, DELETE_GROUP) and namespace admin
// (NS_CREATE, NS_SET, NS_LIST, NS_DELETE).
#include "ctxstore/client.h"

#include <sys/uio.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "client/client_impl.h"
#include "common/hash.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/namespace_bodies.h"
#include "protocol/read_ops.h"

namespace ctxstore {
namespace {

// One object's info: a handful of fixed fields and strings of at most 64 KiB.
constexpr uint64_t kMaxStatBodyBytes = 512 * 1024;
// A LIST page holds at most 1000 objects; their strings are bounded by the
// server's limits (keys, groups 512 bytes, meta 4 KiB), far below this.
constexpr uint64_t kMaxListBodyBytes = 64 * 1024 * 1024;
// NS_LIST: a JSON array of small objects.
constexpr uint64_t kMaxNamespaceListBodyBytes = 16 * 1024 * 1024;
// The GET reply with kFlagExt: u64 xxh3, u16 meta_len (then meta and value).
constexpr size_t kGetExtReplyPrefix = protocol::GetReplyHeadSize(/*ext=*/true);

// Strings go on the wire with a u16 length; the server's own limits are far
// lower, so this only keeps the encoding from truncating.
Status CheckShortString(std::string_view what, std::string_view s) {
  if (s.size() > kMaxKeyBytes) {
    return Status::TooLarge(std::string(what) + " of " + std::to_string(s.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxKeyBytes));
  }
  return Status::Ok();
}

Result<uint64_t> DecodeCount(const Result<std::string>& reply, std::string_view op) {
  if (!reply.ok()) return reply.status();
  auto n = protocol::DecodeU64(*reply);
  if (!n.ok()) {
    return ProtocolError(std::string(op) + " reply of " + std::to_string(reply->size()) + " bytes");
  }
  return *n;
}

}  // namespace

Result<GetWithMetaResult> Client::GetWithMeta(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  auto conn = impl_->Borrow();
  if (!conn.ok()) return conn.status();
  Impl::Borrowed borrowed(impl_.get(), std::move(*conn));
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto h = impl_->Exchange(borrowed, Opcode::kGet, protocol::kFlagExt, iov);
  if (!h.ok()) return h.status();
  if (h->body_len < kGetExtReplyPrefix) {
    return ProtocolError("GET reply of " + std::to_string(h->body_len) + " bytes");
  }
  protocol::GetReplyHeadBytes raw;
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(raw.data(), kGetExtReplyPrefix));
  const protocol::GetReplyHead head = protocol::DecodeGetReplyHead(raw, /*ext=*/true);
  const uint64_t xxh3 = head.xxh3;
  const uint16_t meta_len = head.meta_len;
  const uint64_t rest = h->body_len - kGetExtReplyPrefix;
  // Never allocate a length the server's own limits rule out.
  if (meta_len > kMaxMetaBytes || meta_len > rest || rest - meta_len > impl_->max_value_bytes()) {
    return ProtocolError("GET reply of " + std::to_string(h->body_len) + " bytes with " +
                         std::to_string(meta_len) + " bytes of metadata");
  }
  GetWithMetaResult result;
  result.meta.resize(meta_len);
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(result.meta.data(), result.meta.size()));
  result.value.resize(rest - meta_len);
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(result.value.data(), result.value.size()));
  borrowed.MarkClean();
  if (impl_->options.verify_checksums && Xxh3(result.value.data(), result.value.size()) != xxh3) {
    return Status::Corrupt("checksum mismatch on the value of " + std::string(key));
  }
  return result;
}

Result<MatchResult> Client::MatchPrefixLease(std::span<const std::string> keys, uint64_t lease_ms) {
  if (keys.empty()) return MatchResult{};
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  std::string body = protocol::EncodeMatchPrefixRequest(keys, /*ext=*/true, lease_ms);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kMatchPrefix, protocol::kFlagExt, iov, 12);
  if (!reply.ok()) return reply.status();
  auto result = protocol::DecodeMatchPrefixReply(*reply, /*ext=*/true);
  if (!result.ok() || result->matched > keys.size()) {
    return ProtocolError("MATCH_PREFIX reply of " + std::to_string(reply->size()) + " bytes for " +
                         std::to_string(keys.size()) + " keys");
  }
  return result;
}

Status Client::ReleaseLease(uint64_t lease_id) {
  std::string body = protocol::EncodeU64(lease_id);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kRelease, 0, iov, 0).status();
}

Result<ObjectInfo> Client::Stat(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  std::string body = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kStat, 0, iov, kMaxStatBodyBytes);
  if (!reply.ok()) return reply.status();
  auto info = protocol::DecodeObjectInfo(std::string_view(*reply));
  if (!info.ok()) return ProtocolError("STAT reply: " + info.status().message());
  return std::move(*info);
}

Result<ListPage> Client::List(const ListOptions& opts) {
  if (opts.limit == 0 || opts.limit > 1000) {
    return Status::Invalid("list limit " + std::to_string(opts.limit) + " is not in 1..1000");
  }
  CTX_RETURN_IF_ERROR(CheckShortString("prefix", opts.prefix));
  CTX_RETURN_IF_ERROR(CheckShortString("group", opts.group));
  CTX_RETURN_IF_ERROR(CheckShortString("cursor", opts.cursor));
  std::string body = protocol::EncodeListRequest(opts);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kList, 0, iov, kMaxListBodyBytes);
  if (!reply.ok()) return reply.status();
  auto decoded = protocol::DecodeListReply(*reply);
  if (!decoded.ok()) return ProtocolError("LIST reply: " + decoded.status().message());
  if (decoded->items.size() > opts.limit) {
    return ProtocolError("LIST reply has " + std::to_string(decoded->items.size()) +
                         " items for a limit of " + std::to_string(opts.limit));
  }
  return std::move(*decoded);
}

Result<uint64_t> Client::Pin(std::string_view name, const PinOptions& opts) {
  CTX_RETURN_IF_ERROR(opts.by_group ? CheckGroup(name) : protocol::ValidateKey(name));
  protocol::PinRequest req;
  req.by_group = opts.by_group;
  req.name = std::string(name);
  req.ttl_ms = opts.ttl_ms;
  req.dram = opts.dram;
  std::string body = protocol::EncodePinRequest(req);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return DecodeCount(impl_->Call(Opcode::kPin, 0, iov, 8), "PIN");
}

Status Client::Unpin(std::string_view name, bool by_group) {
  CTX_RETURN_IF_ERROR(by_group ? CheckGroup(name) : protocol::ValidateKey(name));
  std::string body = protocol::EncodeUnpinRequest(by_group, name);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kUnpin, 0, iov, 0).status();
}

Result<uint64_t> Client::DeleteGroup(std::string_view group) {
  CTX_RETURN_IF_ERROR(CheckGroup(group));
  std::string body = protocol::EncodeString(group);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return DecodeCount(impl_->Call(Opcode::kDeleteGroup, 0, iov, 8), "DELETE_GROUP");
}

Status Client::CreateNamespace(std::string_view name, const NamespaceSpec& spec) {
  CTX_RETURN_IF_ERROR(CheckShortString("namespace name", name));
  std::string body = protocol::EncodeNamespaceRequest(name, spec);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kNsCreate, 0, iov, 0).status();
}

Status Client::SetNamespace(std::string_view name, const NamespaceSpec& spec) {
  CTX_RETURN_IF_ERROR(CheckShortString("namespace name", name));
  std::string body = protocol::EncodeNamespaceRequest(name, spec);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kNsSet, 0, iov, 0).status();
}

Result<std::vector<NamespaceInfo>> Client::ListNamespaces() {
  std::array<iovec, 1> iov{};
  auto reply = impl_->Call(Opcode::kNsList, 0, iov, kMaxNamespaceListBodyBytes);
  if (!reply.ok()) return reply.status();
  auto namespaces = protocol::DecodeNamespaceList(*reply);
  if (!namespaces.ok()) return ProtocolError(namespaces.status().message());
  return namespaces;
}

Status Client::DeleteNamespace(std::string_view name) {
  CTX_RETURN_IF_ERROR(CheckShortString("namespace name", name));
  std::string body = protocol::EncodeString(name);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kNsDelete, 0, iov, 0).status();
}

}  // namespace ctxstore
