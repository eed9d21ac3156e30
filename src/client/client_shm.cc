// Client: the shared-memory path (ctxstore/shared_memory.h). A call whose
// bytes lie inside registered memory sends SHM_GET or SHM_PUT naming the
// region, offset and length; the server copies the value, and no value
// byte crosses the socket. Each pooled connection registers the memory on
// its first such call (SHM_REGISTER, the memfd passed with the frame).
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <string>

#include "client/client_impl.h"
#include "protocol/shm_bodies.h"

namespace ctxstore {

Status Client::Register(std::shared_ptr<SharedMemory> memory) {
  if (memory == nullptr) return Status::Invalid("no shared memory to register");
  if (impl_->options.unix_path.empty()) {
    return Status::Unsupported(
        "shared memory needs a Unix-socket connection (a unix:///PATH address)");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& m : impl_->shared) {
    if (m->id() == memory->id()) return Status::Ok();
  }
  impl_->shared.push_back(std::move(memory));
  return Status::Ok();
}

void Client::Unregister(const SharedMemory& memory) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::erase_if(impl_->shared, [&](const auto& m) { return m->id() == memory.id(); });
}

std::shared_ptr<SharedMemory> Client::Impl::SharedFor(const void* data, size_t len) {
  // Register refuses clients off a Unix socket: their calls skip the lock.
  if (options.unix_path.empty()) return nullptr;
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& m : shared) {
    if (m->Contains(data, len)) return m;
  }
  return nullptr;
}

Result<uint32_t> Client::Impl::RegionOn(Borrowed& borrowed, const SharedMemory& memory) {
  auto& regions = borrowed.conn().regions;
  if (auto it = regions.find(memory.id()); it != regions.end()) return it->second;
  const std::string body = protocol::EncodeShmRegister(memory.bytes().size());
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto h = Exchange(borrowed, Opcode::kShmRegister, 0, iov, memory.fd());
  if (!h.ok()) return h.status();
  std::array<char, 4> reply;
  if (h->body_len != reply.size()) {
    return ProtocolError("SHM_REGISTER reply of " + std::to_string(h->body_len) + " bytes");
  }
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(reply.data(), reply.size()));
  auto id = protocol::DecodeRegionId(std::string_view(reply.data(), reply.size()));
  if (!id.ok()) return id.status();
  regions[memory.id()] = *id;
  return *id;
}

Result<size_t> Client::Impl::ShmGetInto(std::string_view key, const SharedMemory& memory,
                                        std::span<uint8_t> buffer) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  auto conn = Borrow();
  if (!conn.ok()) return conn.status();
  Borrowed borrowed(this, std::move(*conn));
  auto region = RegionOn(borrowed, memory);
  if (!region.ok()) return region.status();
  const protocol::ShmRange range{*region, static_cast<uint64_t>(buffer.data() - memory.bytes().data()),
                                 buffer.size()};
  const std::string body = protocol::EncodeShmGet(key, range);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = CallOn(borrowed, Opcode::kShmGet, 0, iov, protocol::kShmGetReplySize);
  if (!reply.ok()) return reply.status();
  auto r = protocol::DecodeShmGetReply(*reply);
  if (!r.ok() || r->value_len > buffer.size()) {
    return ProtocolError("SHM_GET reply of a value of " +
                         std::to_string(r.ok() ? r->value_len : 0) + " bytes for " +
                         std::to_string(buffer.size()));
  }
  return static_cast<size_t>(r->value_len);
}

Status Client::Impl::ShmPut(std::string_view key, const SharedMemory& memory,
                            std::span<const uint8_t> value, const PutOptions& opts) {
  CTX_RETURN_IF_ERROR(protocol::ValidateKey(key));
  if (value.size() > max_value_bytes()) {
    return Status::TooLarge("value of " + std::to_string(value.size()) +
                            " bytes exceeds the server's limit of " +
                            std::to_string(max_value_bytes()));
  }
  auto block = PutOptionsChecked(opts, /*batch=*/false);
  if (!block.ok()) return block.status();
  auto conn = Borrow();
  if (!conn.ok()) return conn.status();
  Borrowed borrowed(this, std::move(*conn));
  auto region = RegionOn(borrowed, memory);
  if (!region.ok()) return region.status();
  const protocol::ShmRange range{*region, static_cast<uint64_t>(value.data() - memory.bytes().data()),
                                 value.size()};
  const std::string body =
      protocol::EncodeShmPut(key, range, block->has_value() ? &**block : nullptr);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return CallOn(borrowed, Opcode::kShmPut, PutFlags(opts, /*batch=*/false, /*checksum=*/false),
                iov, 0)
      .status();
}

}  // namespace ctxstore

namespace ctxstore {

Result<std::vector<GetIntoResult>> Client::Impl::ShmBatchGetInto(
    std::span<const GetIntoItem> items) {
  std::vector<std::shared_ptr<SharedMemory>> memories;
  for (const GetIntoItem& item : items) {
    auto m = SharedFor(item.buffer.data(), item.buffer.size());
    if (m == nullptr) return std::vector<GetIntoResult>{};  // the socket path, then
    memories.push_back(std::move(m));
  }
  if (items.size() > max_batch_keys()) {
    return Status::TooLarge("batch of " + std::to_string(items.size()) +
                            " keys exceeds the limit of " + std::to_string(max_batch_keys()));
  }
  for (const GetIntoItem& item : items) CTX_RETURN_IF_ERROR(protocol::ValidateKey(item.key));
  auto conn = Borrow();
  if (!conn.ok()) return conn.status();
  Borrowed borrowed(this, std::move(*conn));
  // Every request in one write: header and body per item.
  std::vector<std::string> frames(items.size());
  std::vector<uint64_t> ids(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    auto region = RegionOn(borrowed, *memories[i]);
    if (!region.ok()) return region.status();
    const protocol::ShmRange range{
        *region, static_cast<uint64_t>(items[i].buffer.data() - memories[i]->bytes().data()),
        items[i].buffer.size()};
    const std::string body = protocol::EncodeShmGet(items[i].key, range);
    FrameHeader h;
    h.opcode = Opcode::kShmGet;
    h.request_id = ids[i] = borrowed.conn().next_request_id++;
    h.body_len = body.size();
    const protocol::HeaderBytes head = protocol::EncodeHeader(h);
    frames[i].assign(reinterpret_cast<const char*>(head.data()), head.size());
    frames[i] += body;
  }
  std::vector<iovec> iov;
  for (const std::string& f : frames) iov.push_back(Iov(f.data(), f.size()));
  CTX_RETURN_IF_ERROR(borrowed.socket().SendAll(iov));
  std::vector<GetIntoResult> results(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    auto h = RecvReplyHeader(borrowed, Opcode::kShmGet, ids[i]);
    if (!h.ok()) return h.status();
    if (h->status != StatusCode::kOk) {
      // The item's error; its message is read so that the next reply follows.
      if (h->body_len > client::kMaxErrorBodyBytes) return ProtocolError("SHM_GET error reply");
      std::string message(h->body_len, '\0');
      CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(message.data(), message.size()));
      results[i].code = h->status;
      continue;
    }
    std::array<char, protocol::kShmGetReplySize> body;
    if (h->body_len != body.size()) return ProtocolError("SHM_GET reply of the wrong size");
    CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(body.data(), body.size()));
    auto r = protocol::DecodeShmGetReply(std::string_view(body.data(), body.size()));
    if (!r.ok() || r->value_len > items[i].buffer.size()) {
      return ProtocolError("SHM_GET reply of a value larger than its range");
    }
    results[i].length = r->value_len;
  }
  borrowed.MarkClean();
  return results;
}

void Client::Impl::SizesOfTooLarge(std::span<const GetIntoItem> items,
                                     std::vector<GetIntoResult>* results) {
  for (size_t i = 0; i < items.size(); ++i) {
    if ((*results)[i].code != StatusCode::kTooLarge || (*results)[i].length != 0) continue;
    const std::string body = protocol::EncodeKey(items[i].key);
    std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
    auto reply = Call(Opcode::kExists, 0, iov, 8);
    if (!reply.ok()) continue;  // gone meanwhile: the size stays unknown (0)
    auto len = protocol::DecodeU64(*reply);
    if (len.ok()) (*results)[i].length = *len;
  }
}

}  // namespace ctxstore
