// Client: connecting, the connection pool, the request/reply exchange and
// the core key calls (PUT, GET, EXISTS, DELETE, BATCH_*, MATCH_PREFIX, FLUSH,
// STATS). Context calls and namespace admin are in client_context.cc.
#include "ctxstore/client.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <utility>

#include "client/client_impl.h"
#include "client/socket.h"
#include "common/byte_io.h"
#include "common/hash.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ctxstore {
namespace client {

Status ProtocolError(const std::string& what) {
  return Status::Internal("protocol error: " + what);
}

Status CheckKeys(std::span<const std::string> keys, uint32_t max_keys) {
  if (keys.size() > max_keys) {
    return Status::TooLarge("batch of " + std::to_string(keys.size()) +
                            " keys exceeds the server's limit of " + std::to_string(max_keys));
  }
  for (const std::string& k : keys) CTX_RETURN_IF_ERROR(protocol::ValidateKey(k));
  return Status::Ok();
}

Status CheckGroup(std::string_view group) {
  if (group.empty()) return Status::Invalid("empty group name");
  if (group.size() > kMaxGroupBytes) {
    return Status::TooLarge("group name of " + std::to_string(group.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxGroupBytes));
  }
  return Status::Ok();
}

}  // namespace client

namespace {

// Error-message bodies are short text; anything longer is not worth reading.
constexpr uint64_t kMaxErrorBodyBytes = 64 * 1024;
// STATS is a flat JSON object of a few dozen fields; this is generous.
constexpr uint64_t kMaxStatsBodyBytes = 16 * 1024 * 1024;
// HELLO reply: fixed fields plus a key-encoded version string.
constexpr uint64_t kMaxHelloBodyBytes = 2 + 8 + 4 + 8 + 2 + 65535;

// Status codes this library knows; anything else from the wire is a server bug.
StatusCode CodeFromWire(StatusCode code) {
  return static_cast<uint16_t>(code) <= static_cast<uint16_t>(StatusCode::kInternal) ||
                 code == StatusCode::kKeyUnavailable
             ? code
             : StatusCode::kInternal;
}

}  // namespace

Result<std::unique_ptr<Connection>> Client::Impl::Open(ServerInfo* info_out) {
  auto socket = Socket::Connect(options.host, options.port, options.connect_timeout_ms,
                                options.io_timeout_ms, tls);
  if (!socket.ok()) return socket.status();
  auto conn = std::make_unique<Connection>();
  conn->socket = std::move(*socket);

  protocol::HelloRequest hello;
  hello.client_name = options.client_name.substr(0, kMaxKeyBytes);
  // Empty fields are left off the wire (servers from before namespaces
  // reject trailing bytes).
  hello.namespace_name = options.namespace_name;
  hello.token = options.token;
  std::string body = protocol::EncodeHelloRequest(hello);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  // Not pooled until HELLO succeeds; the lease is released by hand below.
  Lease lease(this, std::move(conn));
  auto reply = CallOn(lease, Opcode::kHello, 0, iov, kMaxHelloBodyBytes);
  std::unique_ptr<Connection> opened = lease.Release();
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no such namespace: " + options.namespace_name);
    }

    return reply.status();
  }
  auto decoded = protocol::DecodeHelloReply(*reply);
  if (!decoded.ok()) return ProtocolError(decoded.status().message());
  if (decoded->version != protocol::kVersion) {
    return Status::Unsupported("server speaks protocol version " +
                               std::to_string(decoded->version) + ", this client " +
                               std::to_string(protocol::kVersion));
  }
  if (info_out != nullptr) {
    info_out->protocol_version = decoded->version;
    info_out->max_value_bytes = decoded->max_value_bytes;
    info_out->max_batch_keys = decoded->max_batch_keys;
    info_out->max_batch_bytes = decoded->max_batch_bytes;
    info_out->server_version = decoded->server_version;
  }
  return opened;
}

Result<std::unique_ptr<Connection>> Client::Impl::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mu);
    while (!idle.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle.back());
      idle.pop_back();
      // The server may have closed it (idle timeout, restart); a request
      // sent on it would fail for no reason of its own.
      if (!conn->socket->IsStale()) return conn;
    }
  }
  return Open(nullptr);
}

void Client::Impl::Return(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(mu);
  if (idle.size() < options.max_idle_connections) idle.push_back(std::move(conn));
}

Status Client::Impl::SendRequest(Lease& lease, Opcode op, uint16_t flags, std::span<iovec> iov,
                                 uint64_t* request_id) {
  FrameHeader h;
  h.opcode = op;
  h.flags = flags;
  h.request_id = lease.conn().next_request_id++;
  h.body_len = 0;
  for (size_t i = 1; i < iov.size(); ++i) h.body_len += iov[i].iov_len;
  protocol::HeaderBytes header = protocol::EncodeHeader(h);
  iov[0] = Iov(header.data(), header.size());
  *request_id = h.request_id;
  return lease.socket().SendAll(iov);
}

Result<FrameHeader> Client::Impl::RecvReplyHeader(Lease& lease, Opcode op, uint64_t request_id) {
  protocol::HeaderBytes bytes;
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(bytes.data(), bytes.size()));
  protocol::DecodedHeader d = protocol::DecodeHeader(bytes);
  const FrameHeader& h = d.header;
  if (h.magic != protocol::kMagic) return ProtocolError("reply has a bad magic number");
  if (h.version != protocol::kVersion) {
    return ProtocolError("reply has protocol version " + std::to_string(h.version));
  }
  if (d.raw_opcode != static_cast<uint8_t>(op)) {
    return ProtocolError("reply opcode " + std::to_string(d.raw_opcode) + " does not match " +
                         std::string(protocol::OpcodeName(op)));
  }
  if (h.request_id != request_id) {
    return ProtocolError("reply request_id " + std::to_string(h.request_id) + ", expected " +
                         std::to_string(request_id));
  }
  return h;
}

Status Client::Impl::ReadError(Lease& lease, const FrameHeader& h) {
  StatusCode code = CodeFromWire(h.status);
  std::string message;
  if (h.body_len > kMaxErrorBodyBytes) {
    // Not worth reading; the connection is dropped with the rest unread.
    message = "error reply with a " + std::to_string(h.body_len) + "-byte message";
  } else {
    message.resize(h.body_len);
    CTX_RETURN_IF_ERROR(lease.socket().RecvExact(message.data(), message.size()));
    // The server closes the connection after these (docs/protocol.md), so
    // only other errors leave it reusable.
    if (code != StatusCode::kTooLarge && code != StatusCode::kUnsupported) lease.MarkClean();
  }
  if (code != h.status) {
    message = "unknown status " + std::to_string(static_cast<uint16_t>(h.status)) + ": " + message;
  }
  return Status(code, std::move(message));
}

Result<FrameHeader> Client::Impl::Exchange(Lease& lease, Opcode op, uint16_t flags,
                                           std::span<iovec> iov) {
  uint64_t request_id = 0;
  CTX_RETURN_IF_ERROR(SendRequest(lease, op, flags, iov, &request_id));
  auto header = RecvReplyHeader(lease, op, request_id);
  if (!header.ok()) return header.status();
  if (header->status != StatusCode::kOk) return ReadError(lease, *header);
  return header;
}

Result<std::string> Client::Impl::CallOn(Lease& lease, Opcode op, uint16_t flags,
                                         std::span<iovec> iov, uint64_t max_body) {
  auto header = Exchange(lease, op, flags, iov);
  if (!header.ok()) return header.status();
  if (header->body_len > max_body) {
    return ProtocolError(std::string(protocol::OpcodeName(op)) + " reply of " +
                         std::to_string(header->body_len) + " bytes, at most " +
                         std::to_string(max_body) + " expected");
  }
  std::string body(header->body_len, '\0');
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(body.data(), body.size()));
  lease.MarkClean();
  return body;
}

Result<std::string> Client::Impl::Call(Opcode op, uint16_t flags, std::span<iovec> iov,
                                       uint64_t max_body) {
  auto conn = Borrow();
  if (!conn.ok()) return conn.status();
  Lease lease(this, std::move(*conn));
  return CallOn(lease, op, flags, iov, max_body);
}

Result<std::string> Client::Impl::KeyListCall(Opcode op, std::span<const std::string> keys,
                                              uint64_t max_body) {
  std::string body = protocol::EncodeKeyList(keys);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return Call(op, 0, iov, max_body);
}

namespace {

// Whether a PUT (batch: a BATCH_PUT) needs the put-options block. Without
// one the request is exactly what servers without context semantics accept.
bool NeedsPutOptions(const PutOptions& opts, bool batch) {
  return opts.ttl_ms != 0 || !opts.group.empty() || !opts.parent.empty() || !opts.meta.empty() ||
         (batch && opts.chain);
}

uint16_t PutFlags(const PutOptions& opts, bool batch, bool checksum) {
  return (opts.sync ? protocol::kFlagSync : 0) | (opts.overwrite ? protocol::kFlagOverwrite : 0) |
         (NeedsPutOptions(opts, batch) ? protocol::kFlagExt : 0) |
         (checksum ? protocol::kFlagChecksum : 0);
}

// The options block of a PUT or BATCH_PUT, checked against the protocol's
// limits first: the server would refuse the frame only after the client had
// started streaming the value.
Result<std::string> EncodePutOptionsChecked(const PutOptions& opts, bool batch) {
  if (!opts.group.empty()) CTX_RETURN_IF_ERROR(CheckGroup(opts.group));
  if (!opts.parent.empty()) CTX_RETURN_IF_ERROR(protocol::ValidateKey(opts.parent));
  if (opts.meta.size() > kMaxMetaBytes) {
    return Status::TooLarge("metadata of " + std::to_string(opts.meta.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxMetaBytes));
  }
  protocol::PutOptionsBlock block;
  block.ttl_ms = opts.ttl_ms;
  block.put_flags = batch && opts.chain ? protocol::kPutFlagChain : 0;
  block.group = opts.group;
  block.parent = opts.parent;
  block.meta = opts.meta;
  return protocol::EncodePutOptions(block);
}

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (!options.tls_ca_file.empty()) {
    auto tls = client::MakeClientTlsContext(options.tls_ca_file, options.tls_cert_file,
                                            options.tls_key_file);
    if (!tls.ok()) return tls.status();
    impl->tls = std::move(*tls);
  } else if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    return Status::Invalid("a TLS client certificate needs tls_ca_file (which turns TLS on)");
  }
  auto conn = impl->Open(&impl->info);
  if (!conn.ok()) return conn.status();
  impl->Return(std::move(*conn));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const ServerInfo& Client::server_info() const {
  return impl_->info;
}

Status Client::Put(std::string_view key, std::span<const uint8_t> value, const PutOptions& opts) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  // Checked here: the server would refuse without reading the body and close,
  // which the client would only see as a broken connection mid-send.
  if (value.size() > impl_->max_value_bytes()) {
    return Status::TooLarge("value of " + std::to_string(value.size()) +
                            " bytes exceeds the server's limit of " +
                            std::to_string(impl_->max_value_bytes()));
  }
  std::string prefix = protocol::EncodeKey(key);
  const bool checksum = impl_->options.send_checksums;
  if (checksum) ByteWriter(&prefix).Put(Xxh3(value.data(), value.size()));
  if (NeedsPutOptions(opts, /*batch=*/false)) {
    auto block = EncodePutOptionsChecked(opts, /*batch=*/false);
    if (!block.ok()) return block.status();
    prefix += *block;
  }
  // Header, prefix and the caller's bytes in one sendmsg: no copy of the value.
  std::array<iovec, 3> iov{iovec{}, Iov(prefix.data(), prefix.size()),
                           Iov(value.data(), value.size())};
  auto reply = impl_->Call(Opcode::kPut, PutFlags(opts, /*batch=*/false, checksum), iov, 0);
  return reply.status();
}

Status Client::Put(std::string_view key, std::string_view value, const PutOptions& opts) {
  return Put(key,
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()),
             opts);
}

// Sends GET and reads the reply up to the value: the caller receives the
// value itself wherever it wants it.
Result<Client::Impl::GetReplyPrefix> Client::Impl::StartGet(Lease& lease, std::string_view key) {
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto h = Exchange(lease, Opcode::kGet, 0, iov);
  if (!h.ok()) return h.status();
  // Never allocate a length the server's own limits rule out.
  if (h->body_len < protocol::kGetReplyPrefix ||
      h->body_len - protocol::kGetReplyPrefix > max_value_bytes()) {
    return ProtocolError("GET reply of " + std::to_string(h->body_len) + " bytes");
  }
  GetReplyPrefix r;
  r.value_len = h->body_len - protocol::kGetReplyPrefix;
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(&r.xxh3, sizeof(r.xxh3)));
  return r;
}

Result<std::string> Client::Get(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  auto conn = impl_->Borrow();
  if (!conn.ok()) return conn.status();
  Impl::Lease lease(impl_.get(), std::move(*conn));
  auto r = impl_->StartGet(lease, key);
  if (!r.ok()) return r.status();
  std::string value(r->value_len, '\0');
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(value.data(), value.size()));
  lease.MarkClean();
  if (impl_->options.verify_checksums && Xxh3(value.data(), value.size()) != r->xxh3) {
    return Status::Corrupt("checksum mismatch on the value of " + std::string(key));
  }
  return value;
}

Result<size_t> Client::GetInto(std::string_view key, std::span<uint8_t> buffer) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  auto conn = impl_->Borrow();
  if (!conn.ok()) return conn.status();
  Impl::Lease lease(impl_.get(), std::move(*conn));
  auto r = impl_->StartGet(lease, key);
  if (!r.ok()) return r.status();
  if (r->value_len > buffer.size()) {
    // Drain the value so that the connection stays usable.
    CTX_RETURN_IF_ERROR(lease.socket().Discard(r->value_len));
    lease.MarkClean();
    return Status::TooLarge("value of " + std::to_string(r->value_len) +
                            " bytes does not fit in a buffer of " + std::to_string(buffer.size()) +
                            " bytes");
  }
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(buffer.data(), r->value_len));
  lease.MarkClean();
  if (impl_->options.verify_checksums && Xxh3(buffer.data(), r->value_len) != r->xxh3) {
    return Status::Corrupt("checksum mismatch on the value of " + std::string(key));
  }
  return static_cast<size_t>(r->value_len);
}

Result<uint64_t> Client::Exists(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto reply = impl_->Call(Opcode::kExists, 0, iov, 8);
  if (!reply.ok()) return reply.status();
  if (reply->size() != 8) return ProtocolError("EXISTS reply of " + std::to_string(reply->size()));
  return ByteReader(*reply).Get<uint64_t>();
}

Status Client::Delete(std::string_view key, bool sync) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  return impl_->Call(Opcode::kDelete, sync ? protocol::kFlagSync : 0, iov, 0).status();
}

Result<std::vector<StatusCode>> Client::BatchPut(std::span<const PutItem> items,
                                                 const PutOptions& opts) {
  if (items.empty()) return std::vector<StatusCode>{};
  if (items.size() > impl_->max_batch_keys()) {
    return Status::TooLarge("batch of " + std::to_string(items.size()) +
                            " items exceeds the server's limit of " +
                            std::to_string(impl_->max_batch_keys()));
  }
  const bool checksum = impl_->options.send_checksums;
  // All item headers live in one string so that the iovecs can point into it
  // once it has stopped growing; values are the caller's spans, never copied.
  std::string headers;
  std::vector<size_t> header_ends;
  header_ends.reserve(items.size() + 1);
  ByteWriter(&headers).Put(static_cast<uint32_t>(items.size()));
  if (NeedsPutOptions(opts, /*batch=*/true)) {
    auto block = EncodePutOptionsChecked(opts, /*batch=*/true);
    if (!block.ok()) return block.status();
    headers += *block;
  }
  header_ends.push_back(headers.size());
  uint64_t body_len = headers.size();
  for (const PutItem& item : items) {
    CTX_RETURN_IF_ERROR(protocol::ValidateKey(item.key));
    if (item.value.size() > impl_->max_value_bytes()) {
      return Status::TooLarge("value of " + std::to_string(item.value.size()) + " bytes for " +
                              std::string(item.key) + " exceeds the server's limit of " +
                              std::to_string(impl_->max_value_bytes()));
    }
    std::optional<uint64_t> xxh3;
    if (checksum) xxh3 = Xxh3(item.value.data(), item.value.size());
    headers += protocol::EncodeBatchPutItemHeader(item.key, item.value.size(), xxh3);
    header_ends.push_back(headers.size());
    body_len += protocol::PutPrefixSize(item.key) + 8 + (checksum ? 8 : 0) + item.value.size();
  }
  if (body_len > impl_->max_batch_bytes()) {
    return Status::TooLarge("batch of " + std::to_string(body_len) +
                            " bytes exceeds the server's limit of " +
                            std::to_string(impl_->max_batch_bytes()));
  }
  std::vector<iovec> iov;
  iov.reserve(2 + 2 * items.size());
  iov.push_back(iovec{});  // frame header
  iov.push_back(Iov(headers.data(), header_ends[0]));
  for (size_t i = 0; i < items.size(); ++i) {
    iov.push_back(Iov(headers.data() + header_ends[i], header_ends[i + 1] - header_ends[i]));
    iov.push_back(Iov(items[i].value.data(), items[i].value.size()));
  }
  auto reply = impl_->Call(Opcode::kBatchPut, PutFlags(opts, /*batch=*/true, checksum), iov,
                           4 + 2 * items.size());
  if (!reply.ok()) return reply.status();
  auto codes = protocol::DecodeStatusList(*reply);
  if (!codes.ok()) return ProtocolError(codes.status().message());
  if (codes->size() != items.size()) {
    return ProtocolError("BATCH_PUT reply has " + std::to_string(codes->size()) + " statuses for " +
                         std::to_string(items.size()) + " items");
  }
  for (StatusCode& c : *codes) c = CodeFromWire(c);
  return codes;
}

Result<std::vector<GetItem>> Client::BatchGet(std::span<const std::string> keys) {
  if (keys.empty()) return std::vector<GetItem>{};
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  auto conn = impl_->Borrow();
  if (!conn.ok()) return conn.status();
  Impl::Lease lease(impl_.get(), std::move(*conn));
  Socket& socket = lease.socket();

  std::string body = protocol::EncodeKeyList(keys);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto h = impl_->Exchange(lease, Opcode::kBatchGet, 0, iov);
  if (!h.ok()) return h.status();
  // The values are bounded by max_batch_bytes; the framing around them is not
  // counted there, so allow for it.
  const uint64_t max_body =
      impl_->max_batch_bytes() + 4 + keys.size() * protocol::kBatchGetItemHeaderSize;
  uint64_t remaining = h->body_len;
  if (remaining > max_body || remaining < 4) {
    return ProtocolError("BATCH_GET reply of " + std::to_string(remaining) + " bytes");
  }
  uint32_t count = 0;
  CTX_RETURN_IF_ERROR(socket.RecvExact(&count, sizeof(count)));
  remaining -= 4;
  if (count != keys.size()) {
    return ProtocolError("BATCH_GET reply has " + std::to_string(count) + " items for " +
                         std::to_string(keys.size()) + " keys");
  }
  std::vector<GetItem> items(count);
  for (GetItem& item : items) {
    std::array<uint8_t, protocol::kBatchGetItemHeaderSize> raw;
    if (remaining < raw.size()) return ProtocolError("BATCH_GET reply truncated");
    CTX_RETURN_IF_ERROR(socket.RecvExact(raw.data(), raw.size()));
    remaining -= raw.size();
    protocol::BatchGetItemHeader ih = protocol::DecodeBatchGetItemHeader(raw);
    item.code = CodeFromWire(ih.status);
    if (ih.status != StatusCode::kOk) continue;  // no value bytes follow
    if (ih.value_len > remaining || ih.value_len > impl_->max_value_bytes()) {
      return ProtocolError("BATCH_GET item of " + std::to_string(ih.value_len) + " bytes");
    }
    item.value.resize(ih.value_len);
    CTX_RETURN_IF_ERROR(socket.RecvExact(item.value.data(), item.value.size()));
    remaining -= ih.value_len;
    if (impl_->options.verify_checksums && Xxh3(item.value.data(), item.value.size()) != ih.xxh3) {
      item.code = StatusCode::kCorrupt;
      item.value.clear();
    }
  }
  if (remaining != 0) return ProtocolError("BATCH_GET reply has trailing bytes");
  lease.MarkClean();
  return items;
}

Result<std::vector<bool>> Client::BatchExists(std::span<const std::string> keys) {
  if (keys.empty()) return std::vector<bool>{};
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  auto reply = impl_->KeyListCall(Opcode::kBatchExists, keys, 4 + keys.size());
  if (!reply.ok()) return reply.status();
  ByteReader r(*reply);
  uint32_t count = r.Get<uint32_t>();
  if (!r.ok() || count != keys.size() || r.remaining() != count) {
    return ProtocolError("BATCH_EXISTS reply does not match the " + std::to_string(keys.size()) +
                         " keys asked");
  }
  std::vector<bool> present(count);
  for (uint32_t i = 0; i < count; ++i) present[i] = r.Get<uint8_t>() != 0;
  return present;
}

Result<uint32_t> Client::MatchPrefix(std::span<const std::string> keys) {
  if (keys.empty()) return 0u;
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  auto reply = impl_->KeyListCall(Opcode::kMatchPrefix, keys, 4);
  if (!reply.ok()) return reply.status();
  ByteReader r(*reply);
  uint32_t matched = r.Get<uint32_t>();
  if (!r.ok() || matched > keys.size()) {
    return ProtocolError("MATCH_PREFIX reply of " + std::to_string(matched) + " for " +
                         std::to_string(keys.size()) + " keys");
  }
  return matched;
}

Status Client::Flush() {
  std::array<iovec, 1> iov{};
  return impl_->Call(Opcode::kFlush, 0, iov, 0).status();
}

Result<std::string> Client::StatsJson() {
  std::array<iovec, 1> iov{};
  return impl_->Call(Opcode::kStats, 0, iov, kMaxStatsBodyBytes);
}

}  // namespace ctxstore
