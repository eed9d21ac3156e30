// Client: connecting and the core key calls (PUT, EXISTS, DELETE,
// BATCH_PUT, BATCH_EXISTS, MATCH_PREFIX, FLUSH, STATS). The reads (GET and
// BATCH_GET in their forms) are in client_get.cc, the pool and the
// request/reply exchange in client_impl.cc, context calls and namespace
// admin in client_context.cc, token admin in client_tokens.cc.
#include "ctxstore/client.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <utility>

#include "client/client_impl.h"
#include "client/socket.h"
#include "common/hash.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/put_body.h"
#include "protocol/read_ops.h"

namespace ctxstore {
namespace {

// STATS is a flat JSON object of a few dozen fields; this is generous.
constexpr uint64_t kMaxStatsBodyBytes = 16 * 1024 * 1024;

}  // namespace

namespace client {

// Whether a PUT (batch: a BATCH_PUT) needs the put-options block. Without
// one the request is exactly what servers without context semantics accept.
static bool NeedsPutOptions(const PutOptions& opts, bool batch) {
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
// started streaming the value. nullopt when the request needs none.
Result<std::optional<protocol::PutOptionsBlock>> PutOptionsChecked(const PutOptions& opts,
                                                                   bool batch) {
  if (!NeedsPutOptions(opts, batch)) return std::optional<protocol::PutOptionsBlock>();
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
  return std::optional<protocol::PutOptionsBlock>(std::move(block));
}

}  // namespace client

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const bool tls = options.tls || !options.tls_ca_file.empty();
  if (tls && !options.unix_path.empty()) {
    return Status::Invalid("TLS is not offered on a Unix socket (" + options.unix_path + ")");
  }
  if (tls) {
    auto context = client::MakeClientTlsContext(options.tls_ca_file, options.tls_cert_file,
                                                options.tls_key_file);
    if (!context.ok()) return context.status();
    impl->tls = std::move(*context);
  } else if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    return Status::Invalid("a TLS client certificate needs TLS (tls or tls_ca_file)");
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
  if (auto memory = impl_->SharedFor(value.data(), value.size())) {
    return impl_->ShmPut(key, *memory, value, opts);
  }
  // Checked here: the server would refuse without reading the body and close,
  // which the client would only see as a broken connection mid-send.
  if (value.size() > impl_->max_value_bytes()) {
    return Status::TooLarge("value of " + std::to_string(value.size()) +
                            " bytes exceeds the server's limit of " +
                            std::to_string(impl_->max_value_bytes()));
  }
  const bool checksum = impl_->options.send_checksums;
  auto block = PutOptionsChecked(opts, /*batch=*/false);
  if (!block.ok()) return block.status();
  std::optional<uint64_t> xxh3;
  if (checksum) xxh3 = Xxh3(value.data(), value.size());
  std::string prefix =
      protocol::EncodePutPrefix(key, xxh3, block->has_value() ? &**block : nullptr);
  // Header, prefix and the caller's bytes in one sendmsg: no copy of the value.
  std::array<iovec, 3> iov{iovec{}, Iov(prefix.data(), prefix.size()),
                           Iov(value.data(), value.size())};
  auto reply = impl_->Call(Opcode::kPut, PutFlags(opts, /*batch=*/false, checksum), iov, 0);
  return reply.status();
}

Status Client::Put(std::string_view key, std::string_view value, const PutOptions& opts) {
  return Put(key, protocol::AsBytes(value), opts);
}

Result<uint64_t> Client::Exists(std::string_view key) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto reply = impl_->Call(Opcode::kExists, 0, iov, 8);
  if (!reply.ok()) return reply.status();
  auto len = protocol::DecodeU64(*reply);
  if (!len.ok()) return ProtocolError("EXISTS reply of " + std::to_string(reply->size()));
  return *len;
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
  auto block = PutOptionsChecked(opts, /*batch=*/true);
  if (!block.ok()) return block.status();
  std::string headers = protocol::EncodeBatchPutHead(static_cast<uint32_t>(items.size()),
                                                     block->has_value() ? &**block : nullptr);
  std::vector<size_t> header_ends;
  header_ends.reserve(items.size() + 1);
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
    const size_t before = headers.size();
    protocol::AppendBatchPutItemHeader(&headers, item.key, item.value.size(), xxh3);
    header_ends.push_back(headers.size());
    body_len += headers.size() - before + item.value.size();
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

Result<std::vector<bool>> Client::BatchExists(std::span<const std::string> keys) {
  if (keys.empty()) return std::vector<bool>{};
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  auto reply = impl_->KeyListCall(Opcode::kBatchExists, keys, 4 + keys.size());
  if (!reply.ok()) return reply.status();
  auto present = protocol::DecodeBatchExistsReply(*reply);
  if (!present.ok() || present->size() != keys.size()) {
    return ProtocolError("BATCH_EXISTS reply does not match the " + std::to_string(keys.size()) +
                         " keys asked");
  }
  return present;
}

Result<uint32_t> Client::MatchPrefix(std::span<const std::string> keys) {
  if (keys.empty()) return 0u;
  CTX_RETURN_IF_ERROR(CheckKeys(keys, impl_->max_batch_keys()));
  auto reply = impl_->KeyListCall(Opcode::kMatchPrefix, keys, 4);
  if (!reply.ok()) return reply.status();
  auto m = protocol::DecodeMatchPrefixReply(*reply, /*ext=*/false);
  const uint32_t matched = m.ok() ? m->matched : 0;
  if (!m.ok() || matched > keys.size()) {
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
