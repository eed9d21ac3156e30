// Client: the reads. GET into a string, into the caller's buffer, or into
// memory the caller provides once the length is known; BATCH_GET into
// strings or straight into the caller's buffers. Every value is received
// from the socket exactly once, into where it ends up, and its XXH3 is
// checked there (ClientOptions::verify_checksums).
#include <sys/uio.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "client/client_impl.h"
#include "common/hash.h"
#include "ctxstore/client.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/read_ops.h"

namespace ctxstore {
namespace {

std::string DoesNotFit(uint64_t value_len, size_t buffer_len) {
  return "value of " + std::to_string(value_len) + " bytes does not fit in a buffer of " +
         std::to_string(buffer_len) + " bytes";
}

}  // namespace

// Sends GET and reads the reply up to the value: the caller receives the
// value itself wherever it wants it.
Result<Client::Impl::GetReplyPrefix> Client::Impl::StartGet(Borrowed& borrowed,
                                                            std::string_view key) {
  std::string prefix = protocol::EncodeKey(key);
  std::array<iovec, 2> iov{iovec{}, Iov(prefix.data(), prefix.size())};
  auto h = Exchange(borrowed, Opcode::kGet, 0, iov);
  if (!h.ok()) return h.status();
  // Never allocate a length the server's own limits rule out.
  if (h->body_len < protocol::GetReplyHeadSize(/*ext=*/false) ||
      h->body_len - protocol::GetReplyHeadSize(/*ext=*/false) > max_value_bytes()) {
    return ProtocolError("GET reply of " + std::to_string(h->body_len) + " bytes");
  }
  protocol::GetReplyHeadBytes head;
  const size_t head_size = protocol::GetReplyHeadSize(/*ext=*/false);
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(head.data(), head_size));
  GetReplyPrefix r;
  r.value_len = h->body_len - head_size;
  r.xxh3 = protocol::DecodeGetReplyHead(head, /*ext=*/false).xxh3;
  return r;
}

Result<std::string> Client::Get(std::string_view key) {
  std::string value;
  auto n = GetInto(key, [&value](uint64_t value_len) -> Result<std::span<uint8_t>> {
    value.resize(value_len);
    return std::span<uint8_t>(reinterpret_cast<uint8_t*>(value.data()), value.size());
  });
  if (!n.ok()) return n.status();
  return value;
}

Result<size_t> Client::GetInto(std::string_view key, std::span<uint8_t> buffer) {
  if (auto memory = impl_->SharedFor(buffer.data(), buffer.size())) {
    return impl_->ShmGetInto(key, *memory, buffer);
  }
  return GetInto(key, [buffer](uint64_t value_len) -> Result<std::span<uint8_t>> {
    if (value_len > buffer.size()) return Status::TooLarge(DoesNotFit(value_len, buffer.size()));
    return buffer;
  });
}

Result<size_t> Client::GetInto(std::string_view key, const BufferProvider& provide) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  auto conn = impl_->Borrow();
  if (!conn.ok()) return conn.status();
  Impl::Borrowed borrowed(impl_.get(), std::move(*conn));
  auto r = impl_->StartGet(borrowed, key);
  if (!r.ok()) return r.status();
  auto buffer = provide(r->value_len);
  if (buffer.ok() && buffer->size() < r->value_len) {
    buffer = Status::Internal("the buffer provided holds " + std::to_string(buffer->size()) +
                              " bytes, not the " + std::to_string(r->value_len) + " asked");
  }
  if (!buffer.ok()) {
    // Drain the value so that the connection stays usable.
    CTX_RETURN_IF_ERROR(borrowed.socket().Discard(r->value_len));
    borrowed.MarkClean();
    return buffer.status();
  }
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(buffer->data(), r->value_len));
  borrowed.MarkClean();
  if (impl_->options.verify_checksums && Xxh3(buffer->data(), r->value_len) != r->xxh3) {
    return Status::Corrupt("checksum mismatch on the value of " + std::string(key));
  }
  return static_cast<size_t>(r->value_len);
}

Result<std::vector<GetIntoResult>> Client::Impl::BatchGetPlaced(std::span<const std::string> keys,
                                                                const PlaceValue& place) {
  CTX_RETURN_IF_ERROR(CheckKeys(keys, max_batch_keys()));
  auto conn = Borrow();
  if (!conn.ok()) return conn.status();
  Borrowed borrowed(this, std::move(*conn));
  Socket& socket = borrowed.socket();

  std::string body = protocol::EncodeKeyList(keys);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto h = Exchange(borrowed, Opcode::kBatchGet, 0, iov);
  if (!h.ok()) return h.status();
  // The values are bounded by max_batch_bytes; the framing around them is not
  // counted there, so allow for it.
  const uint64_t max_body =
      max_batch_bytes() + protocol::kCountSize + keys.size() * protocol::kBatchGetItemHeaderSize;
  uint64_t remaining = h->body_len;
  if (remaining > max_body || remaining < protocol::kCountSize) {
    return ProtocolError("BATCH_GET reply of " + std::to_string(remaining) + " bytes");
  }
  std::array<uint8_t, protocol::kCountSize> count_bytes;
  CTX_RETURN_IF_ERROR(socket.RecvExact(count_bytes.data(), count_bytes.size()));
  remaining -= count_bytes.size();
  const uint32_t count = protocol::DecodeCount(count_bytes);
  if (count != keys.size()) {
    return ProtocolError("BATCH_GET reply has " + std::to_string(count) + " items for " +
                         std::to_string(keys.size()) + " keys");
  }
  std::vector<GetIntoResult> results(count);
  for (size_t i = 0; i < count; ++i) {
    std::array<uint8_t, protocol::kBatchGetItemHeaderSize> raw;
    if (remaining < raw.size()) return ProtocolError("BATCH_GET reply truncated");
    CTX_RETURN_IF_ERROR(socket.RecvExact(raw.data(), raw.size()));
    remaining -= raw.size();
    protocol::BatchGetItemHeader ih = protocol::DecodeBatchGetItemHeader(raw);
    results[i].code = CodeFromWire(ih.status);
    if (ih.status != StatusCode::kOk) continue;  // no value bytes follow
    if (ih.value_len > remaining || ih.value_len > max_value_bytes()) {
      return ProtocolError("BATCH_GET item of " + std::to_string(ih.value_len) + " bytes");
    }
    remaining -= ih.value_len;
    results[i].length = ih.value_len;
    std::span<uint8_t> dst = place(i, ih.value_len);
    if (dst.size() < ih.value_len) {
      CTX_RETURN_IF_ERROR(socket.Discard(ih.value_len));
      results[i].code = StatusCode::kTooLarge;
      continue;
    }
    CTX_RETURN_IF_ERROR(socket.RecvExact(dst.data(), ih.value_len));
    if (options.verify_checksums && Xxh3(dst.data(), ih.value_len) != ih.xxh3) {
      results[i].code = StatusCode::kCorrupt;
    }
  }
  if (remaining != 0) return ProtocolError("BATCH_GET reply has trailing bytes");
  borrowed.MarkClean();
  return results;
}

Result<std::vector<GetItem>> Client::BatchGet(std::span<const std::string> keys) {
  if (keys.empty()) return std::vector<GetItem>{};
  std::vector<GetItem> items(keys.size());
  auto results = impl_->BatchGetPlaced(keys, [&items](size_t i, uint64_t value_len) {
    items[i].value.resize(value_len);
    return std::span<uint8_t>(reinterpret_cast<uint8_t*>(items[i].value.data()), value_len);
  });
  if (!results.ok()) return results.status();
  for (size_t i = 0; i < items.size(); ++i) {
    items[i].code = (*results)[i].code;
    if (items[i].code != StatusCode::kOk) items[i].value.clear();
  }
  return items;
}

Result<std::vector<GetIntoResult>> Client::BatchGetInto(std::span<const GetIntoItem> items) {
  if (items.empty()) return std::vector<GetIntoResult>{};
  auto shm = impl_->ShmBatchGetInto(items);
  if (!shm.ok()) return shm.status();
  if (!shm->empty()) {
    impl_->SizesOfTooLarge(items, &*shm);
    return shm;
  }
  std::vector<std::string> keys;
  keys.reserve(items.size());
  for (const GetIntoItem& item : items) keys.emplace_back(item.key);
  return impl_->BatchGetPlaced(keys, [items](size_t i, uint64_t value_len) {
    return value_len <= items[i].buffer.size() ? items[i].buffer : std::span<uint8_t>();
  });
}

}  // namespace ctxstore
