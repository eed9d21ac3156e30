// Helpers for tests that talk to the server below the client library: a raw
// TCP connection that sends arbitrary bytes, a proxy that damages bytes in
// flight, bounded polling and a stopwatch; and an admin client of a test
// server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ctxstore/client.h"
#include "protocol/frame.h"
#include "server_process.h"

namespace ctxstore::testing {

// A raw TCP connection to 127.0.0.1:port, for sending arbitrary bytes and
// reading the frames (or the close) that come back.
class RawConn {
 public:
  explicit RawConn(uint16_t port);
  // A Unix-socket connection to a server started with --unix path.
  explicit RawConn(const std::string& unix_path);
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool connected() const { return connected_; }
  int fd() const { return fd_; }  // for a TLS handshake of the test's own

  // Sends everything it can; stops quietly when the server has closed (the
  // reply, or its absence, is what a test checks).
  void Send(std::string_view bytes);
  // A frame with this body; body_len_override announces another length.
  void SendFrame(protocol::Opcode op, std::string_view body, uint16_t flags = 0,
                 uint64_t body_len_override = ~0ull);
  // A frame whose first byte carries fds (SCM_RIGHTS; Unix sockets only).
  void SendFrameWithFds(protocol::Opcode op, std::string_view body, const std::vector<int>& fds,
                        uint16_t flags = 0);
  // HELLO with token into namespace_name ("" = the token's), asserting OK.
  void Hello(const std::string& token, const std::string& namespace_name = "");

  struct Reply {
    protocol::FrameHeader header;
    std::string body;
  };
  // The next reply, or nullopt when the connection closed or timed out.
  std::optional<Reply> ReadReply(int timeout_ms = 5000);
  // True once the server has closed the connection (EOF or reset) within
  // timeout_ms. Any byte that arrives first makes it false.
  bool ClosedByPeer(int timeout_ms = 5000);
  // Reads (and discards) whatever arrives until the server closes: true when
  // it did within timeout_ms. *received counts the bytes read.
  bool DrainUntilClosed(int timeout_ms, size_t* received = nullptr);

 private:
  bool RecvExact(void* dst, size_t len, int timeout_ms);

  int fd_ = -1;
  bool connected_ = false;
  uint64_t next_id_ = 0;
};

// A TCP proxy on 127.0.0.1 in front of a server, forwarding both ways on a
// thread of its own. Armed, it flips one byte of the next frame going one
// way: the last byte of its body, which for a PUT request and a GET reply is
// the value's last byte. Everything else passes unchanged.
class TamperProxy {
 public:
  enum class Direction { kToServer, kToClient };

  explicit TamperProxy(uint16_t server_port);
  ~TamperProxy();
  TamperProxy(const TamperProxy&) = delete;
  TamperProxy& operator=(const TamperProxy&) = delete;

  uint16_t port() const { return port_; }
  // Damages the next frame that starts going `direction` once this returns
  // (the connection must be idle then: no frame half sent).
  void DamageNextFrame(Direction direction);
  // Frames damaged so far.
  int damaged() const;

 private:
  struct Arm {
    bool armed = false;
    uint64_t seen = 0;  // bytes of the armed frame forwarded so far
    std::string header;
    uint64_t target = ~0ull;  // offset of the byte to flip, once the header is in
  };
  void Loop();
  void Tamper(Direction direction, char* data, size_t len);

  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  uint16_t port_ = 0;
  uint16_t server_port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  Arm arms_[2];      // guarded by mu_
  int damaged_ = 0;  // guarded by mu_
};

// Polls cond every poll_ms until it holds or timeout_ms passes: whether it held.
bool PollUntil(const std::function<bool()>& cond, int timeout_ms, int poll_ms = 20);

// Milliseconds since construction, on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch();
  int64_t ElapsedMs() const;

 private:
  int64_t start_ns_;
};

// An admin client of server in namespace ns ("" = the token's), with one
// idle connection kept; null (and a test failure that shows the server's
// log) when it does not connect.
std::unique_ptr<Client> Connect(const ServerProcess& server, const std::string& ns = "");

// The server's STATS as JSON (an empty object when the call fails, which
// the caller's field lookups then report).
nlohmann::json StatsOf(Client& client);

}  // namespace ctxstore::testing
