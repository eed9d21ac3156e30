#include "ctxstore/client.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "client/socket.h"
#include "common/hash.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace ctxstore {
namespace {

using client::Socket;
using protocol::FrameHeader;
using protocol::Opcode;

// Error-message bodies are short text; anything longer is not worth reading.
constexpr uint64_t kMaxErrorBodyBytes = 64 * 1024;
// STATS is a flat JSON object of a few dozen fields; this is generous.
constexpr uint64_t kMaxStatsBodyBytes = 16 * 1024 * 1024;
// HELLO reply: fixed fields plus a key-encoded version string.
constexpr uint64_t kMaxHelloBodyBytes = 2 + 8 + 4 + 8 + 2 + 65535;
// One object's info: a handful of fixed fields and strings of at most 64 KiB.
constexpr uint64_t kMaxStatBodyBytes = 512 * 1024;
// A LIST page holds at most 1000 objects; their strings are bounded by the
// server's limits (keys, groups 512 bytes, meta 4 KiB), far below this.
constexpr uint64_t kMaxListBodyBytes = 64 * 1024 * 1024;
// NS_LIST: a JSON array of small objects.
constexpr uint64_t kMaxNamespaceListBodyBytes = 16 * 1024 * 1024;
// The GET reply with kFlagExt: u64 xxh3, u16 meta_len (then meta and value).
constexpr size_t kGetExtReplyPrefix = 10;

iovec Iov(const void* data, size_t len) {
  return iovec{const_cast<void*>(data), len};
}

// Status codes this library knows; anything else from the wire is a server bug.
StatusCode CodeFromWire(StatusCode code) {
  return static_cast<uint16_t>(code) <= static_cast<uint16_t>(StatusCode::kInternal)
             ? code
             : StatusCode::kInternal;
}

Status ProtocolError(const std::string& what) {
  return Status::Internal("protocol error: " + what);
}

struct Connection {
  std::unique_ptr<Socket> socket;
  uint64_t next_request_id = 1;
};

}  // namespace

struct Client::Impl {
  ClientOptions options;
  ServerInfo info;

  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mu

  uint64_t max_value_bytes() const {
    return info.max_value_bytes != 0 ? info.max_value_bytes : protocol::Limits{}.max_value_bytes;
  }
  uint32_t max_batch_keys() const {
    return info.max_batch_keys != 0 ? info.max_batch_keys : protocol::Limits{}.max_batch_keys;
  }
  uint64_t max_batch_bytes() const {
    return info.max_batch_bytes != 0 ? info.max_batch_bytes : protocol::Limits{}.max_batch_bytes;
  }

  // A borrowed connection. It goes back to the pool only when the exchange
  // was marked clean; after any transport or framing error the stream state
  // is unknown, so it is closed instead.
  class Lease {
   public:
    Lease(Impl* impl, std::unique_ptr<Connection> conn) : impl_(impl), conn_(std::move(conn)) {}
    ~Lease() {
      if (clean_ && conn_ != nullptr && conn_->socket->is_open()) impl_->Return(std::move(conn_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& conn() { return *conn_; }
    Socket& socket() { return *conn_->socket; }
    void MarkClean() { clean_ = true; }
    std::unique_ptr<Connection> Release() { return std::move(conn_); }

   private:
    Impl* impl_;
    std::unique_ptr<Connection> conn_;
    bool clean_ = false;
  };

  Result<std::unique_ptr<Connection>> Open(ServerInfo* info_out);
  Result<std::unique_ptr<Connection>> Borrow();
  void Return(std::unique_ptr<Connection> conn);

  // Sends one request. iov[0] is reserved for the header; the body is the
  // rest of iov, written together with the header in one sendmsg.
  Status SendRequest(Lease& lease, Opcode op, uint16_t flags, std::span<iovec> iov,
                     uint64_t* request_id);
  // Receives a reply header and checks that it answers request_id.
  Result<FrameHeader> RecvReplyHeader(Lease& lease, Opcode op, uint64_t request_id);
  // Reads a non-OK reply's message body and turns it into the Status.
  Status ReadError(Lease& lease, const FrameHeader& h);
  // Sends a request and reads the reply header; a non-OK reply becomes the
  // returned Status (its message body consumed).
  Result<FrameHeader> Exchange(Lease& lease, Opcode op, uint16_t flags, std::span<iovec> iov);

  struct GetReplyPrefix {
    uint64_t value_len = 0;
    uint64_t xxh3 = 0;
  };
  Result<GetReplyPrefix> StartGet(Lease& lease, std::string_view key);
  // One request whose OK reply body is small and read whole (at most
  // max_body bytes; more is a protocol error).
  Result<std::string> Call(Opcode op, uint16_t flags, std::span<iovec> iov, uint64_t max_body);
  // Call() on a connection already borrowed.
  Result<std::string> CallOn(Lease& lease, Opcode op, uint16_t flags, std::span<iovec> iov,
                             uint64_t max_body);

  Result<std::string> KeyListCall(Opcode op, std::span<const std::string> keys, uint64_t max_body);
};

Result<std::unique_ptr<Connection>> Client::Impl::Open(ServerInfo* info_out) {
  auto socket = Socket::Connect(options.host, options.port, options.connect_timeout_ms,
                                options.io_timeout_ms);
  if (!socket.ok()) return socket.status();
  auto conn = std::make_unique<Connection>();
  conn->socket = std::move(*socket);

  protocol::HelloRequest hello;
  hello.client_name = options.client_name.substr(0, protocol::kMaxKeyBytes);
  // "" means "default" on the wire; sending it for the default namespace
  // keeps HELLO byte-identical to what servers without namespaces accept.
  if (options.namespace_name != "default") hello.namespace_name = options.namespace_name;
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

Status CheckKeys(std::span<const std::string> keys, uint32_t max_keys) {
  if (keys.size() > max_keys) {
    return Status::TooLarge("batch of " + std::to_string(keys.size()) +
                            " keys exceeds the server's limit of " + std::to_string(max_keys));
  }
  for (const std::string& k : keys) CTX_RETURN_IF_ERROR(protocol::ValidateKey(k));
  return Status::Ok();
}

// Whether a PUT (batch: a BATCH_PUT) needs the put-options block. Without
// one the request is exactly what servers without context semantics accept.
bool NeedsPutOptions(const PutOptions& opts, bool batch) {
  return opts.ttl_ms != 0 || !opts.group.empty() || !opts.parent.empty() || !opts.meta.empty() ||
         (batch && opts.chain);
}

uint16_t PutFlags(const PutOptions& opts, bool batch) {
  return (opts.sync ? protocol::kFlagSync : 0) | (opts.overwrite ? protocol::kFlagOverwrite : 0) |
         (NeedsPutOptions(opts, batch) ? protocol::kFlagExt : 0);
}

Status CheckGroup(std::string_view group) {
  if (group.empty()) return Status::Invalid("empty group name");
  if (group.size() > protocol::kMaxGroupBytes) {
    return Status::TooLarge("group name of " + std::to_string(group.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(protocol::kMaxGroupBytes));
  }
  return Status::Ok();
}

// Strings go on the wire with a u16 length; the server's own limits are far
// lower, so this only keeps the encoding from truncating.
Status CheckShortString(std::string_view what, std::string_view s) {
  if (s.size() > protocol::kMaxKeyBytes) {
    return Status::TooLarge(std::string(what) + " of " + std::to_string(s.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(protocol::kMaxKeyBytes));
  }
  return Status::Ok();
}

// The options block of a PUT or BATCH_PUT, checked against the protocol's
// limits first: the server would refuse the frame only after the client had
// started streaming the value.
Result<std::string> EncodePutOptionsChecked(const PutOptions& opts, bool batch) {
  if (!opts.group.empty()) CTX_RETURN_IF_ERROR(CheckGroup(opts.group));
  if (!opts.parent.empty()) CTX_RETURN_IF_ERROR(protocol::ValidateKey(opts.parent));
  if (opts.meta.size() > protocol::kMaxMetaBytes) {
    return Status::TooLarge("metadata of " + std::to_string(opts.meta.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(protocol::kMaxMetaBytes));
  }
  protocol::PutOptionsBlock block;
  block.ttl_ms = opts.ttl_ms;
  block.put_flags = batch && opts.chain ? protocol::kPutFlagChain : 0;
  block.group = opts.group;
  block.parent = opts.parent;
  block.meta = opts.meta;
  return protocol::EncodePutOptions(block);
}

ObjectInfo FromWire(protocol::ObjectInfoWire&& w) {
  ObjectInfo info;
  info.key = std::move(w.key);
  info.namespace_id = w.namespace_id;
  info.value_len = w.value_len;
  info.value_xxh3 = w.value_xxh3;
  info.created_ms = w.created_ms;
  info.expires_ms = w.expires_ms;
  info.in_dram = (w.state & protocol::kObjectStateInDram) != 0;
  info.on_flash = (w.state & protocol::kObjectStateOnFlash) != 0;
  info.durable = (w.state & protocol::kObjectStateDurable) != 0;
  info.pinned = (w.state & protocol::kObjectStatePinned) != 0;
  info.pin_dram = (w.state & protocol::kObjectStatePinDram) != 0;
  info.orphan = (w.state & protocol::kObjectStateOrphan) != 0;
  info.pin_expires_ms = w.pin_expires_ms;
  info.leases = w.leases;
  info.lease_expires_ms = w.lease_expires_ms;
  info.group = std::move(w.group);
  info.parent = std::move(w.parent);
  info.writer = std::move(w.writer);
  info.meta = std::move(w.meta);
  return info;
}

// NS_CREATE / NS_SET body: only the fields the caller set.
std::string NamespaceSpecJson(std::string_view name, const NamespaceSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = std::string(name);
  if (spec.quota_bytes) j["quota_bytes"] = *spec.quota_bytes;
  if (spec.default_ttl_ms) j["default_ttl_ms"] = *spec.default_ttl_ms;
  if (spec.max_ttl_ms) j["max_ttl_ms"] = *spec.max_ttl_ms;
  if (spec.priority) j["priority"] = *spec.priority;
  // Names that are not UTF-8 are sent with replacement characters; the
  // server refuses them as invalid names anyway.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Reads an unsigned field of an NS_LIST entry; false when present but not a
// non-negative integer. Absent fields (an older server) stay 0.
template <typename T>
bool ReadUnsigned(const nlohmann::json& entry, const char* field, T* out) {
  auto it = entry.find(field);
  if (it == entry.end()) return true;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->template get<int64_t>() >= 0)) {
    return false;
  }
  *out = static_cast<T>(it->template get<uint64_t>());
  return true;
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

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
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
  if (NeedsPutOptions(opts, /*batch=*/false)) {
    auto block = EncodePutOptionsChecked(opts, /*batch=*/false);
    if (!block.ok()) return block.status();
    prefix += *block;
  }
  // Header, prefix and the caller's bytes in one sendmsg: no copy of the value.
  std::array<iovec, 3> iov{iovec{}, Iov(prefix.data(), prefix.size()),
                           Iov(value.data(), value.size())};
  auto reply = impl_->Call(Opcode::kPut, PutFlags(opts, /*batch=*/false), iov, 0);
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

Result<GetWithMetaResult> Client::GetWithMeta(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  auto conn = impl_->Borrow();
  if (!conn.ok()) return conn.status();
  Impl::Lease lease(impl_.get(), std::move(*conn));
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto h = impl_->Exchange(lease, Opcode::kGet, protocol::kFlagExt, iov);
  if (!h.ok()) return h.status();
  if (h->body_len < kGetExtReplyPrefix) {
    return ProtocolError("GET reply of " + std::to_string(h->body_len) + " bytes");
  }
  std::array<uint8_t, kGetExtReplyPrefix> raw;
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(raw.data(), raw.size()));
  protocol::ByteReader r(std::span<const uint8_t>(raw.data(), raw.size()));
  const uint64_t xxh3 = r.Get<uint64_t>();
  const uint16_t meta_len = r.Get<uint16_t>();
  const uint64_t rest = h->body_len - kGetExtReplyPrefix;
  // Never allocate a length the server's own limits rule out.
  if (meta_len > protocol::kMaxMetaBytes || meta_len > rest ||
      rest - meta_len > impl_->max_value_bytes()) {
    return ProtocolError("GET reply of " + std::to_string(h->body_len) + " bytes with " +
                         std::to_string(meta_len) + " bytes of metadata");
  }
  GetWithMetaResult result;
  result.meta.resize(meta_len);
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(result.meta.data(), result.meta.size()));
  result.value.resize(rest - meta_len);
  CTX_RETURN_IF_ERROR(lease.socket().RecvExact(result.value.data(), result.value.size()));
  lease.MarkClean();
  if (impl_->options.verify_checksums && Xxh3(result.value.data(), result.value.size()) != xxh3) {
    return Status::Corrupt("checksum mismatch on the value of " + std::string(key));
  }
  return result;
}

Result<uint64_t> Client::Exists(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto reply = impl_->Call(Opcode::kExists, 0, iov, 8);
  if (!reply.ok()) return reply.status();
  if (reply->size() != 8) return ProtocolError("EXISTS reply of " + std::to_string(reply->size()));
  return protocol::ByteReader(*reply).Get<uint64_t>();
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
  // All item headers live in one string so that the iovecs can point into it
  // once it has stopped growing; values are the caller's spans, never copied.
  std::string headers;
  std::vector<size_t> header_ends;
  header_ends.reserve(items.size() + 1);
  protocol::ByteWriter(&headers).Put(static_cast<uint32_t>(items.size()));
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
    headers += protocol::EncodeBatchPutItemHeader(item.key, item.value.size());
    header_ends.push_back(headers.size());
    body_len += protocol::PutPrefixSize(item.key) + 8 + item.value.size();
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
  auto reply =
      impl_->Call(Opcode::kBatchPut, PutFlags(opts, /*batch=*/true), iov, 4 + 2 * items.size());
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
  protocol::ByteReader r(*reply);
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
  protocol::ByteReader r(*reply);
  uint32_t matched = r.Get<uint32_t>();
  if (!r.ok() || matched > keys.size()) {
    return ProtocolError("MATCH_PREFIX reply of " + std::to_string(matched) + " for " +
                         std::to_string(keys.size()) + " keys");
  }
  return matched;
}

Result<MatchResult> Client::MatchPrefixLease(std::span<const std::string> keys, uint64_t lease_ms) {
  if (keys.empty()) return MatchResult{};
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  std::string body = protocol::EncodeU64(lease_ms);
  body += protocol::EncodeKeyList(keys);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kMatchPrefix, protocol::kFlagExt, iov, 12);
  if (!reply.ok()) return reply.status();
  protocol::ByteReader r(*reply);
  MatchResult result;
  result.matched = r.Get<uint32_t>();
  result.lease_id = r.Get<uint64_t>();
  if (!r.ok() || r.remaining() != 0 || result.matched > keys.size()) {
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
  return FromWire(std::move(*info));
}

Result<ListPage> Client::List(const ListOptions& opts) {
  if (opts.limit == 0 || opts.limit > 1000) {
    return Status::Invalid("list limit " + std::to_string(opts.limit) + " is not in 1..1000");
  }
  CTX_RETURN_IF_ERROR(CheckShortString("prefix", opts.prefix));
  CTX_RETURN_IF_ERROR(CheckShortString("group", opts.group));
  CTX_RETURN_IF_ERROR(CheckShortString("cursor", opts.cursor));
  protocol::ListRequest req;
  req.prefix = opts.prefix;
  req.group = opts.group;
  req.cursor = opts.cursor;
  req.limit = opts.limit;
  std::string body = protocol::EncodeListRequest(req);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kList, 0, iov, kMaxListBodyBytes);
  if (!reply.ok()) return reply.status();
  auto decoded = protocol::DecodeListReply(*reply);
  if (!decoded.ok()) return ProtocolError("LIST reply: " + decoded.status().message());
  if (decoded->items.size() > opts.limit) {
    return ProtocolError("LIST reply has " + std::to_string(decoded->items.size()) +
                         " items for a limit of " + std::to_string(opts.limit));
  }
  ListPage page;
  page.items.reserve(decoded->items.size());
  for (protocol::ObjectInfoWire& w : decoded->items) page.items.push_back(FromWire(std::move(w)));
  page.next_cursor = std::move(decoded->next_cursor);
  return page;
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
  std::string body = NamespaceSpecJson(name, spec);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kNsCreate, 0, iov, 0).status();
}

Status Client::SetNamespace(std::string_view name, const NamespaceSpec& spec) {
  CTX_RETURN_IF_ERROR(CheckShortString("namespace name", name));
  std::string body = NamespaceSpecJson(name, spec);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kNsSet, 0, iov, 0).status();
}

Result<std::vector<NamespaceInfo>> Client::ListNamespaces() {
  std::array<iovec, 1> iov{};
  auto reply = impl_->Call(Opcode::kNsList, 0, iov, kMaxNamespaceListBodyBytes);
  if (!reply.ok()) return reply.status();
  nlohmann::json j = nlohmann::json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return ProtocolError("NS_LIST reply is not a JSON array");
  }
  std::vector<NamespaceInfo> out;
  out.reserve(j.size());
  for (const nlohmann::json& entry : j) {
    NamespaceInfo info;
    bool ok = entry.is_object();
    if (ok) {
      auto name = entry.find("name");
      ok = name != entry.end() && name->is_string();
      if (ok) info.name = name->get<std::string>();
    }
    ok = ok && ReadUnsigned(entry, "id", &info.id) &&
         ReadUnsigned(entry, "quota_bytes", &info.quota_bytes) &&
         ReadUnsigned(entry, "default_ttl_ms", &info.default_ttl_ms) &&
         ReadUnsigned(entry, "max_ttl_ms", &info.max_ttl_ms) &&
         ReadUnsigned(entry, "priority", &info.priority) &&
         ReadUnsigned(entry, "objects", &info.objects) &&
         ReadUnsigned(entry, "bytes", &info.bytes) &&
         ReadUnsigned(entry, "evictions", &info.evictions);
    if (!ok) return ProtocolError("NS_LIST reply has a malformed entry: " + entry.dump());
    out.push_back(std::move(info));
  }
  return out;
}

Status Client::DeleteNamespace(std::string_view name) {
  CTX_RETURN_IF_ERROR(CheckShortString("namespace name", name));
  std::string body = protocol::EncodeString(name);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kNsDelete, 0, iov, 0).status();
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
