#include "test_helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "protocol/messages.h"

namespace ctxstore::testing {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// --- RawConn -----------------------------------------------------------------

RawConn::RawConn(uint16_t port) {
  fd_ = ConnectLoopback(port);
  connected_ = fd_ >= 0;
}

RawConn::RawConn(const std::string& unix_path) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, unix_path.data(), std::min(unix_path.size(), sizeof(addr.sun_path) - 1));
  if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
  connected_ = fd_ >= 0;
}

void RawConn::SendFrameWithFds(protocol::Opcode op, std::string_view body,
                               const std::vector<int>& fds, uint16_t flags) {
  protocol::FrameHeader h;
  h.opcode = op;
  h.flags = flags;
  h.request_id = ++next_id_;
  h.body_len = body.size();
  auto head = protocol::EncodeHeader(h);
  std::string frame(reinterpret_cast<const char*>(head.data()), head.size());
  frame.append(body);
  iovec iov{frame.data(), frame.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<size_t>(fds.size(), 1)));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
  if (n > 0 && static_cast<size_t>(n) < frame.size()) {
    SendAll(fd_, frame.data() + n, frame.size() - static_cast<size_t>(n));
  }
}

RawConn::~RawConn() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConn::Send(std::string_view bytes) {
  if (fd_ >= 0) SendAll(fd_, bytes.data(), bytes.size());
}

void RawConn::SendFrame(protocol::Opcode op, std::string_view body, uint16_t flags,
                        uint64_t body_len_override) {
  protocol::FrameHeader h;
  h.opcode = op;
  h.flags = flags;
  h.request_id = ++next_id_;
  h.body_len = body_len_override == ~0ull ? body.size() : body_len_override;
  auto head = protocol::EncodeHeader(h);
  Send(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
  Send(body);
}

void RawConn::Hello(const std::string& token, const std::string& namespace_name) {
  protocol::HelloRequest hello;
  hello.token = token;
  hello.namespace_name = namespace_name;
  SendFrame(protocol::Opcode::kHello, protocol::EncodeHelloRequest(hello));
  auto r = ReadReply();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->header.status, StatusCode::kOk) << r->body;
}

std::optional<RawConn::Reply> RawConn::ReadReply(int timeout_ms) {
  protocol::HeaderBytes raw;
  if (!RecvExact(raw.data(), raw.size(), timeout_ms)) return std::nullopt;
  Reply r;
  auto d = protocol::DecodeHeader(raw);
  r.header = d.header;
  // Replies echo the request's opcode, even an unknown one.
  bool framed =
      d.error == protocol::HeaderError::kNone || d.error == protocol::HeaderError::kUnknownOpcode;
  if (!framed || r.header.body_len > (64u << 20)) return std::nullopt;
  r.body.resize(r.header.body_len);
  if (!RecvExact(r.body.data(), r.body.size(), timeout_ms)) return std::nullopt;
  return r;
}

bool RawConn::ClosedByPeer(int timeout_ms) {
  char c;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  return ::recv(fd_, &c, 1, 0) <= 0;
}

bool RawConn::DrainUntilClosed(int timeout_ms, size_t* received) {
  const int64_t deadline_ns = NowNs() + int64_t{timeout_ms} * 1'000'000;
  char buf[4096];
  size_t total = 0;
  for (;;) {
    const int64_t left_ms = (deadline_ns - NowNs()) / 1'000'000;
    pollfd p{fd_, POLLIN, 0};
    if (left_ms <= 0 || ::poll(&p, 1, static_cast<int>(left_ms)) <= 0) break;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (received != nullptr) *received = total;
      return true;
    }
    total += static_cast<size_t>(n);
  }
  if (received != nullptr) *received = total;
  return false;
}

bool RawConn::RecvExact(void* dst, size_t len, int timeout_ms) {
  char* out = static_cast<char*>(dst);
  size_t got = 0;
  while (got < len) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    ssize_t n = ::recv(fd_, out + got, len - got, 0);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

// --- TamperProxy -------------------------------------------------------------

TamperProxy::TamperProxy(uint16_t server_port) : server_port_(server_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_fds_, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("TamperProxy: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

TamperProxy::~TamperProxy() {
  char c = 'x';
  (void)!::write(wake_fds_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void TamperProxy::DamageNextFrame(Direction direction) {
  std::lock_guard<std::mutex> lock(mu_);
  arms_[static_cast<int>(direction)] = Arm{.armed = true};
}

int TamperProxy::damaged() const {
  std::lock_guard<std::mutex> lock(mu_);
  return damaged_;
}

void TamperProxy::Tamper(Direction direction, char* data, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  Arm& a = arms_[static_cast<int>(direction)];
  for (size_t i = 0; i < len && a.armed; ++i, ++a.seen) {
    if (a.header.size() < protocol::kHeaderSize) {
      a.header.push_back(data[i]);
      if (a.header.size() == protocol::kHeaderSize) {
        uint64_t body_len = 0;  // little-endian on the wire, as on every host we run on
        std::memcpy(&body_len, a.header.data() + 16, sizeof(body_len));
        if (body_len == 0) {  // nothing to damage: let it pass
          a = Arm{};
          break;
        }
        a.target = protocol::kHeaderSize + body_len - 1;
      }
      continue;
    }
    if (a.seen == a.target) {
      data[i] = static_cast<char>(data[i] ^ 0x01);
      ++damaged_;
      a = Arm{};
    }
  }
}

void TamperProxy::Loop() {
  // Each client connection and its connection to the server: fds[0] is the
  // client's side, fds[1] the server's.
  std::vector<std::array<int, 2>> pairs;
  std::vector<char> buf(256 << 10);
  for (;;) {
    std::vector<pollfd> fds = {{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p[0], POLLIN, 0});
      fds.push_back({p[1], POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents != 0) break;
    // Only the pairs polled have revents; one accepted now waits for the next poll.
    const size_t polled = pairs.size();
    if (fds[1].revents != 0) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      int server = client >= 0 ? ConnectLoopback(server_port_) : -1;
      if (server >= 0) {
        int one = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pairs.push_back({client, server});
      } else if (client >= 0) {
        ::close(client);
      }
    }
    std::vector<std::array<int, 2>> open;
    for (size_t i = 0; i < pairs.size(); ++i) {
      bool closed = false;
      for (int side = 0; side < 2 && !closed && i < polled; ++side) {
        if (fds[2 + 2 * i + side].revents == 0) continue;
        ssize_t n = ::recv(pairs[i][side], buf.data(), buf.size(), 0);
        // From the client's side (0) a frame goes to the server.
        Direction d = side == 0 ? Direction::kToServer : Direction::kToClient;
        if (n > 0) Tamper(d, buf.data(), static_cast<size_t>(n));
        closed = n <= 0 || !SendAll(pairs[i][1 - side], buf.data(), static_cast<size_t>(n));
      }
      if (closed) {
        ::close(pairs[i][0]);
        ::close(pairs[i][1]);
      } else {
        open.push_back(pairs[i]);
      }
    }
    pairs = std::move(open);
  }
  for (const auto& p : pairs) {
    ::close(p[0]);
    ::close(p[1]);
  }
}

// --- Polling, timing, stats --------------------------------------------------

bool PollUntil(const std::function<bool()>& cond, int timeout_ms, int poll_ms) {
  const int64_t deadline_ns = NowNs() + int64_t{timeout_ms} * 1'000'000;
  while (!cond()) {
    if (NowNs() > deadline_ns) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return true;
}

Stopwatch::Stopwatch() : start_ns_(NowNs()) {}

int64_t Stopwatch::ElapsedMs() const {
  return (NowNs() - start_ns_) / 1'000'000;
}

nlohmann::json StatsOf(Client& client) {
  auto stats = client.StatsJson();
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (!stats.ok()) return nlohmann::json::object();
  return nlohmann::json::parse(*stats);
}

std::unique_ptr<Client> Connect(const ServerProcess& server, const std::string& ns) {
  ClientOptions o;
  o.port = server.port();
  o.token = server.admin_token();
  o.namespace_name = ns;
  o.max_idle_connections = 1;
  auto c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString() << "\n" << server.log();
  return c.ok() ? std::move(*c) : nullptr;
}

}  // namespace ctxstore::testing
