// The harness's one-thread Redis driver (src/bench/resp_mux.cc): against a
// real redis-server, every value a GET reads is the one a SET sent, byte
// for byte, over several connections at once; a missing key is an error
// that does not stop the connection, a value larger than the buffer breaks
// it. Against a scripted server: a reply dribbled out a byte at a time is
// parsed the same, and a server that hangs up ends the run with errors
// instead of hanging it.
#include "bench/resp_mux.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen.h"
#include "bench/process.h"
#include "bench/resp_client.h"
#include "bench_redis_fixture.h"

namespace ctxstore::bench {
namespace {

std::string_view KeyOf(uint64_t k, std::array<char, 48>& buf) {
  const int len =
      std::snprintf(buf.data(), buf.size(), "m:%llu", static_cast<unsigned long long>(k));
  return std::string_view(buf.data(), static_cast<size_t>(len));
}

using RespMuxTest = RedisServerTest;

TEST_F(RespMuxTest, GetsReadBackWhatSetsWroteOnEveryConnection) {
  constexpr uint32_t kConns = 4;
  // Around the 1 KiB reply-line buffer (a body that arrives with the
  // header, whole or in part) and past the socket buffers.
  for (size_t size : {size_t{1}, size_t{1000}, size_t{1019}, size_t{1024}, size_t{65537},
                      size_t{(2u << 20) + 3}}) {
    SCOPED_TRACE(size);
    std::vector<std::vector<char>> values(kConns, std::vector<char>(size));
    RespMuxSpec set{.port = port_, .op = RespMuxOp::kSet, .value_bytes = size};
    for (uint32_t w = 0; w < kConns; ++w) {
      FillValue(values[w].data(), size, size + w);
      if (size > 8) std::memcpy(values[w].data() + 1, "\r\n$3\r\n", 6);
      set.values.push_back(values[w].data());
    }
    // Connection w writes key w only, so that each key's value is known.
    set.key = [](uint32_t w, uint64_t, std::array<char, 48>& buf) { return KeyOf(w, buf); };
    auto wrote = RunRespMux({.workers = kConns, .duration_ms = 1, .min_ops = 3, .rounds = 1}, set);
    ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
    EXPECT_EQ(wrote->errors, 0u) << wrote->first_error;
    EXPECT_GE(wrote->ops, 3u * kConns);
    EXPECT_EQ(wrote->bytes, wrote->ops * size);

    std::vector<std::vector<char>> got(kConns, std::vector<char>(size));
    RespMuxSpec get{.port = port_, .op = RespMuxOp::kGet, .value_bytes = size};
    for (auto& g : got) get.values.push_back(g.data());
    // Connection w reads key (w + 1) % kConns: another connection's value.
    get.key = [](uint32_t w, uint64_t, std::array<char, 48>& buf) {
      return KeyOf((w + 1) % kConns, buf);
    };
    auto read = RunRespMux({.workers = kConns, .duration_ms = 1, .min_ops = 2, .rounds = 2}, get);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->errors, 0u) << read->first_error;
    EXPECT_GE(read->ops, 4u * kConns);
    for (uint32_t w = 0; w < kConns; ++w) {
      EXPECT_TRUE(got[w] == values[(w + 1) % kConns]) << "connection " << w;
    }
  }
}

TEST_F(RespMuxTest, MissingKeysCountAsErrorsAndOversizeValuesBreakTheConnection) {
  std::vector<char> buf(100);
  RespMuxSpec get{.port = port_, .op = RespMuxOp::kGet, .value_bytes = buf.size()};
  get.values = {buf.data()};
  get.key = [](uint32_t, uint64_t i, std::array<char, 48>& b) { return KeyOf(1000 + i, b); };
  auto missing =
      RunRespMux({.workers = 1, .duration_ms = 1, .max_ops = 5, .min_ops = 5, .rounds = 1}, get);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->ops, 0u);
  EXPECT_EQ(missing->errors, 5u);  // each a reply; the connection went on
  EXPECT_NE(missing->first_error.find("no such key"), std::string::npos) << missing->first_error;

  auto client = RespClient::Connect(port_);
  ASSERT_TRUE(client.ok());
  std::vector<char> big(buf.size() + 1, 'b');
  ASSERT_TRUE((*client)->Set("m:5000", big.data(), big.size()).ok());
  get.key = [](uint32_t, uint64_t, std::array<char, 48>& b) { return KeyOf(5000, b); };
  auto oversize = RunRespMux({.workers = 1, .duration_ms = 1, .min_ops = 5, .rounds = 2}, get);
  ASSERT_TRUE(oversize.ok());
  EXPECT_EQ(oversize->errors, 1u);  // broken: nothing more is sent on it
  EXPECT_NE(oversize->first_error.find("buffer of 100"), std::string::npos)
      << oversize->first_error;
}

// A scripted server on a loopback port: for every GET it reads (a request
// ends at its fifth CRLF), it sends `reply` one byte per write; with
// `hang_up` it closes each connection after its first request instead.
class ScriptedServer {
 public:
  ScriptedServer(std::string reply, bool hang_up) : reply_(std::move(reply)), hang_up_(hang_up) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    int crlfs = 0;
    char c;
    char prev = 0;
    while (recv(fd, &c, 1, 0) == 1) {
      if (prev == '\r' && c == '\n' && ++crlfs % 5 == 0) {
        if (hang_up_) break;
        for (char r : reply_) {
          if (send(fd, &r, 1, MSG_NOSIGNAL) != 1) break;
        }
      }
      prev = c;
    }
    close(fd);
  }

  std::string reply_;
  bool hang_up_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(RespMuxScripted, AReplyInOneBytePiecesIsParsedWhole) {
  ScriptedServer server("$5\r\nhello\r\n", /*hang_up=*/false);
  std::vector<char> buf(5);
  RespMuxSpec get{.port = server.port(), .op = RespMuxOp::kGet, .value_bytes = buf.size()};
  get.values = {buf.data()};
  get.key = [](uint32_t, uint64_t i, std::array<char, 48>& b) { return KeyOf(i, b); };
  auto r = RunRespMux({.workers = 1, .duration_ms = 1, .min_ops = 4, .rounds = 1}, get);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->errors, 0u) << r->first_error;
  EXPECT_EQ(r->ops, 4u);
  EXPECT_EQ(std::string(buf.data(), buf.size()), "hello");
}

TEST(RespMuxScripted, AServerThatHangsUpEndsTheRunWithAnError) {
  ScriptedServer server("", /*hang_up=*/true);
  std::vector<char> buf(5);
  RespMuxSpec get{.port = server.port(), .op = RespMuxOp::kGet, .value_bytes = buf.size()};
  get.values = {buf.data()};
  get.key = [](uint32_t, uint64_t i, std::array<char, 48>& b) { return KeyOf(i, b); };
  auto r = RunRespMux({.workers = 1, .duration_ms = 1, .min_ops = 3, .rounds = 3}, get);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ops, 0u);
  EXPECT_EQ(r->errors, 1u);  // the connection broke once and was not used again
  EXPECT_NE(r->first_error.find("closed the connection"), std::string::npos) << r->first_error;
}

}  // namespace
}  // namespace ctxstore::bench
