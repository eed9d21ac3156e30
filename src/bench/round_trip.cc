#include "bench/round_trip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "bench/resp_client.h"

namespace ctxstore::bench {
namespace {

constexpr size_t kRequestBytes = 40;

// Both ends of one connection; closed on destruction.
struct SocketPair {
  int client = -1;
  int server = -1;
  ~SocketPair() {
    if (client >= 0) ::close(client);
    if (server >= 0) ::close(server);
  }
};

Status Errno(const char* what) {
  return Status::Unavailable(std::string(what) + ": " + std::strerror(errno));
}

Status ConnectTcpPair(SocketPair* pair) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status st = Errno("listen on loopback");
    ::close(listener);
    return st;
  }
  Result<int> client = ConnectLoopback(ntohs(addr.sin_port));  // Nagle off, as the harness's clients
  if (!client.ok()) {
    ::close(listener);
    return client.status();
  }
  pair->client = *client;
  pair->server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  if (pair->server < 0) return Errno("accept on loopback");
  int one = 1;
  ::setsockopt(pair->server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return Status::Ok();
}

// Reads and writes back until the peer closes.
void Echo(int fd) {
  std::array<char, 4096> buf;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) return;
    if (::write(fd, buf.data(), static_cast<size_t>(n)) != n) return;
  }
}

Result<uint64_t> OneRoundTrip(int fd) {
  std::array<char, kRequestBytes> buf{};
  if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) {
    return Errno("write");
  }
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n <= 0) return n == 0 ? Status::Unavailable("echo closed") : Errno("read");
    got += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

LoadResult MeasureBareRoundTrip(const BenchContext& ctx, bool over_unix) {
  SocketPair pair;
  Status st = Status::Ok();
  if (over_unix) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      st = Errno("socketpair");
    } else {
      pair.client = fds[0];
      pair.server = fds[1];
    }
  } else {
    st = ConnectTcpPair(&pair);
  }
  if (!st.ok()) {
    LoadResult failed;
    failed.errors = 1;
    failed.first_error = st.ToString();
    return failed;
  }
  std::thread echo(Echo, pair.server);
  LoadSpec spec{1, ctx.cell_duration_ms, 0, 1};
  LoadResult r = RunLoad(spec, [&pair](uint32_t, uint64_t) { return OneRoundTrip(pair.client); });
  ::shutdown(pair.client, SHUT_WR);  // the echo thread reads EOF and returns
  echo.join();
  return r;
}

}  // namespace ctxstore::bench
