// The native protocol's front end: a TCP listener and one event loop per
// worker thread (standalone Asio, C++20 coroutines). Each accepted
// connection is pinned to one worker and served by a Connection
// (connection.h), which hands its requests to the service layer
// (service/service.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ctxstore/status.h"
#include "engine/engine.h"
#include "protocol/frame.h"
#include "service/counters.h"

namespace asio {
class io_context;
}

namespace ctxstore::service {
class AuditLog;
}

namespace ctxstore::server {

using service::AuditLog;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;                // 0: an ephemeral port (see Server::port())
  // A Unix-domain socket to serve on as well (empty: none), for clients on
  // this machine: no TCP stack in the way, and the peer's pid, uid and gid
  // (SO_PEERCRED) name it in every audit line. Never TLS. A stale socket
  // file (nobody listening) is replaced; a live server's is refused.
  std::string unix_path;
  uint32_t unix_mode = 0660;  // of the socket file: who may connect
  // The Redis front end (docs/compatibility.md): RESP2/RESP3 on its own
  // TCP listener, TLS as the native listener's, the same tokens (AUTH
  // namespace token). Off unless redis_enabled; redis_port 0: any free port
  // (see Server::redis_port()).
  bool redis_enabled = false;
  std::string redis_host = "127.0.0.1";
  uint16_t redis_port = 6379;
  // LMCache's lm:// protocol (docs/compatibility.md). It has no
  // authentication: every connection acts in lm_namespace with a write
  // token's rights, so its listener must be on loopback unless
  // lm_allow_remote. Off unless lm_enabled; lm_port 0: any free port.
  bool lm_enabled = false;
  std::string lm_host = "127.0.0.1";
  uint16_t lm_port = 65432;
  std::string lm_namespace = "default";
  bool lm_allow_remote = false;
  // Bytes of clients' shared memory (SHM_REGISTER) mapped at once, all
  // connections together: address space, not DRAM (the pages are the
  // clients'). Past it a registration answers NO_SPACE.
  uint64_t shm_max_bytes = uint64_t{1} << 40;
  unsigned workers = 0;                // 0: one per core
  protocol::Limits limits;             // max_value_bytes is taken from the engine
  uint64_t idle_timeout_ms = 300'000;  // between requests
  uint64_t frame_timeout_ms = 60'000;  // to receive one whole frame
  // Until a HELLO succeeds, both of the above are at most this: a
  // connection that never authenticates holds a slot only this long.
  uint64_t hello_timeout_ms = 10'000;
  uint32_t max_connections = 4096;
  // Value bytes that PUTs still being received may hold in DRAM at once,
  // all connections together: a PUT reserves its block before its value
  // arrives, so slow senders could otherwise tie up the whole DRAM tier.
  // A PUT past the budget answers BUSY (its value is read and dropped).
  // 0: half the DRAM tier.
  uint64_t max_inflight_bytes = 0;
  // GETs of objects that are only on flash wait for the device on these
  // threads, so that a network thread never blocks on flash (0: it does).
  unsigned flash_read_threads = 8;
  // Every connection authenticates at HELLO with an access token
  // (service/auth.h). Off: every connection may do everything; only for
  // loopback listeners (Start refuses otherwise).
  bool auth = true;
  AuditLog* audit_log = nullptr;  // not owned; null: no audit trail
  // TLS (1.2 or later) on every connection when a certificate is given; a
  // plaintext client fails the handshake. With a client CA, clients must
  // present a certificate it signed (mutual TLS).
  std::string tls_cert_file;  // PEM chain
  std::string tls_key_file;   // PEM private key
  std::string tls_client_ca_file;
};

// Live counters shared by the connections of a server (and shown by STATS).
using ServerCounters = service::Counters;

class Server {
 public:
  Server(engine::Engine* engine, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (TCP, and unix_path when set); afterwards port() is
  // the bound port.
  Status Start();
  uint16_t port() const { return bound_port_; }
  uint16_t redis_port() const { return bound_redis_port_; }  // 0 without the Redis front end
  uint16_t lm_port() const { return bound_lm_port_; }        // 0 without lm://
  // Serves until Stop(); returns when every worker has finished.
  void Run();
  // Thread-safe; closes the listener and every connection.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t bound_port_ = 0;
  uint16_t bound_redis_port_ = 0;
  uint16_t bound_lm_port_ = 0;
};

}  // namespace ctxstore::server
