// Private to the client library: Client::Impl (the connection pool and the
// request/reply exchange, client_impl.cc) and the helpers the calls share.
// Included only by client_impl.cc, client.cc (core key calls),
// client_context.cc (context calls and namespace admin) and
// client_tokens.cc (token admin).
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/reply.h"
#include "client/socket.h"
#include "client/tls.h"
#include "ctxstore/client.h"
#include "ctxstore/shared_memory.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ctxstore {
namespace client {

// One socket to the server and its request ids, kept in the Client's pool
// between calls (the server's end of it is a server::Connection).
struct PooledConnection {
  std::unique_ptr<Socket> socket;
  uint64_t next_request_id = 1;
  // Shared memory registered on this connection: SharedMemory::id() to the
  // server's region id (regions belong to a connection).
  std::map<uint64_t, uint32_t> regions;
};

inline iovec Iov(const void* data, size_t len) {
  return iovec{const_cast<void*>(data), len};
}

// At most max_keys keys, each a valid key.
Status CheckKeys(std::span<const std::string> keys, uint32_t max_keys);
// A group name of 1..kMaxGroupBytes bytes.
Status CheckGroup(std::string_view group);
// A PUT's (batch: BATCH_PUT's) flags, and its options block checked against
// the protocol's limits (nullopt when the request needs none).
uint16_t PutFlags(const PutOptions& opts, bool batch, bool checksum);
Result<std::optional<protocol::PutOptionsBlock>> PutOptionsChecked(const PutOptions& opts,
                                                                   bool batch);

}  // namespace client

// Shorthands for the files that include this header.
using client::CheckGroup;
using client::CheckKeys;
using client::PutFlags;
using client::PutOptionsChecked;
using client::CodeFromWire;
using client::Iov;
using client::PooledConnection;
using client::ProtocolError;
using client::Socket;
using protocol::FrameHeader;
using protocol::Opcode;

struct Client::Impl {
  ClientOptions options;
  ServerInfo info;
  client::TlsContext tls;  // null: plaintext

  std::mutex mu;
  std::vector<std::unique_ptr<PooledConnection>> idle;  // guarded by mu
  // The process the pooled connections belong to (guarded by mu): after a
  // fork the child's copies of them are dropped, not used (client_impl.cc).
  pid_t owner_pid = ::getpid();

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
  class Borrowed {
   public:
    Borrowed(Impl* impl, std::unique_ptr<PooledConnection> conn)
        : impl_(impl), conn_(std::move(conn)) {}
    ~Borrowed() {
      if (clean_ && conn_ != nullptr && conn_->socket->is_open()) impl_->Return(std::move(conn_));
    }
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    PooledConnection& conn() { return *conn_; }
    Socket& socket() { return *conn_->socket; }
    void MarkClean() { clean_ = true; }
    std::unique_ptr<PooledConnection> Release() { return std::move(conn_); }

   private:
    Impl* impl_;
    std::unique_ptr<PooledConnection> conn_;
    bool clean_ = false;
  };

  Result<std::unique_ptr<PooledConnection>> Open(ServerInfo* info_out);
  Result<std::unique_ptr<PooledConnection>> Borrow();
  void Return(std::unique_ptr<PooledConnection> conn);

  // Sends one request. iov[0] is reserved for the header; the body is the
  // rest of iov, written together with the header in one sendmsg.
  Status SendRequest(Borrowed& borrowed, Opcode op, uint16_t flags, std::span<iovec> iov,
                     uint64_t* request_id, int pass_fd = -1);
  // Receives a reply header and checks that it answers request_id.
  Result<FrameHeader> RecvReplyHeader(Borrowed& borrowed, Opcode op, uint64_t request_id);
  // Reads a non-OK reply's message body and turns it into the Status.
  Status ReadError(Borrowed& borrowed, const FrameHeader& h);
  // Sends a request and reads the reply header; a non-OK reply becomes the
  // returned Status (its message body consumed).
  Result<FrameHeader> Exchange(Borrowed& borrowed, Opcode op, uint16_t flags, std::span<iovec> iov,
                               int pass_fd = -1);

  struct GetReplyPrefix {
    uint64_t value_len = 0;
    uint64_t xxh3 = 0;
  };
  Result<GetReplyPrefix> StartGet(Borrowed& borrowed, std::string_view key);
  // Sends BATCH_GET for keys and reads the reply: for each item found,
  // place(i, value_len) says where its value goes (an empty span: it does
  // not fit, and is drained as kTooLarge). Checksums are verified there.
  using PlaceValue = std::function<std::span<uint8_t>(size_t i, uint64_t value_len)>;
  Result<std::vector<GetIntoResult>> BatchGetPlaced(std::span<const std::string> keys,
                                                    const PlaceValue& place);
  // One request whose OK reply body is small and read whole (at most
  // max_body bytes; more is a protocol error).
  Result<std::string> Call(Opcode op, uint16_t flags, std::span<iovec> iov, uint64_t max_body);
  // Call() on a connection already borrowed.
  Result<std::string> CallOn(Borrowed& borrowed, Opcode op, uint16_t flags, std::span<iovec> iov,
                             uint64_t max_body);

  Result<std::string> KeyListCall(Opcode op, std::span<const std::string> keys, uint64_t max_body);

  // ---- shared memory (client_shm.cc) ----

  // The registered memory holding [data, data + len), or null (then the
  // call goes over the socket).
  std::shared_ptr<SharedMemory> SharedFor(const void* data, size_t len);
  // memory's region id on this connection, registering it first if needed.
  Result<uint32_t> RegionOn(Borrowed& borrowed, const SharedMemory& memory);
  Result<size_t> ShmGetInto(std::string_view key, const SharedMemory& memory,
                            std::span<uint8_t> buffer);
  Status ShmPut(std::string_view key, const SharedMemory& memory,
                std::span<const uint8_t> value, const PutOptions& opts);
  // BatchGetInto when every buffer lies in registered memory (memories[i]
  // holds items[i].buffer): SHM_GETs pipelined on one connection, one
  // round trip. Empty result vector: not every buffer does (use the socket).
  Result<std::vector<GetIntoResult>> ShmBatchGetInto(std::span<const GetIntoItem> items);
  // A TOO_LARGE SHM_GET names the size needed only in its message: each such
  // item's length from an EXISTS, so results say it as the socket path does.
  void SizesOfTooLarge(std::span<const GetIntoItem> items, std::vector<GetIntoResult>* results);

  std::vector<std::shared_ptr<SharedMemory>> shared;  // guarded by mu
};

}  // namespace ctxstore
