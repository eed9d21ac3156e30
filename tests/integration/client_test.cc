// ctxstore::Client against the real server process.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;

using ::ctxstore::testing::RandomBytes;

std::span<uint8_t> AsBytes(std::string& s) {
  return {reinterpret_cast<uint8_t*>(s.data()), s.size()};
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    ClientOptions options;
    options.port = server_.port();
    options.token = server_.admin_token();
    auto client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }
  void TearDown() override {
    client_.reset();
    StopAndReport(server_);
  }

  ServerProcess server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, HelloFillsServerInfo) {
  const ServerInfo& info = client_->server_info();
  EXPECT_EQ(info.protocol_version, 1);
  EXPECT_GT(info.max_value_bytes, 0u);
  EXPECT_GT(info.max_batch_keys, 0u);
  EXPECT_GT(info.max_batch_bytes, 0u);
}

TEST_F(ClientTest, PutGetRoundTripOf4MiB) {
  std::string value = RandomBytes(4 << 20, 1);
  ASSERT_TRUE(client_->Put("big", value).ok());
  auto got = client_->Get("big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), value.size());
  EXPECT_TRUE(*got == value);
}

// The server hashes large values in 256 KiB pieces as they arrive: sizes
// around and between piece boundaries must store the same checksum as a
// one-shot hash (the client verifies it on GET).
TEST_F(ClientTest, ValuesAroundHashPieceBoundariesRoundTrip) {
  const size_t piece = 256 << 10;
  for (size_t len : {piece - 1, piece, piece + 1, 3 * piece + 77, size_t{3 << 20} + 5}) {
    std::string key = "piece-" + std::to_string(len);
    std::string value = RandomBytes(len, len);
    ASSERT_TRUE(client_->Put(key, value).ok()) << len;
    auto got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << len << ": " << got.status().ToString();
    EXPECT_TRUE(*got == value) << len;
  }
}

TEST_F(ClientTest, PutIfAbsentKeepsTheFirstValue) {
  ASSERT_TRUE(client_->Put("k", "first").ok());
  Status st = client_->Put("k", "second");
  EXPECT_EQ(st.code(), StatusCode::kExists) << st.ToString();
  auto got = client_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "first");
}

TEST_F(ClientTest, OverwriteReplaces) {
  ASSERT_TRUE(client_->Put("k", "first").ok());
  PutOptions opts;
  opts.overwrite = true;
  Status st = client_->Put("k", "second, longer", opts);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto got = client_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "second, longer");
}

TEST_F(ClientTest, SyncPutAndDelete) {
  PutOptions opts;
  opts.sync = true;
  Status st = client_->Put("durable", "value", opts);
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = client_->Delete("durable", /*sync=*/true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(client_->Exists("durable").status().code(), StatusCode::kNotFound);
}

TEST_F(ClientTest, ZeroLengthValue) {
  Status st = client_->Put("empty", std::string_view());
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto got = client_->Get("empty");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->empty());
  auto size = client_->Exists("empty");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 0u);
}

TEST_F(ClientTest, GetIntoExactAndTooSmallBuffers) {
  std::string value = RandomBytes(100000, 2);
  ASSERT_TRUE(client_->Put("k", value).ok());

  std::string exact(value.size(), '\0');
  auto n = client_->GetInto("k", AsBytes(exact));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, value.size());
  EXPECT_TRUE(exact == value);

  std::string larger(value.size() + 10, 'x');
  n = client_->GetInto("k", AsBytes(larger));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, value.size());
  EXPECT_TRUE(larger.compare(0, value.size(), value) == 0);

  std::string small(value.size() - 1, '\0');
  n = client_->GetInto("k", AsBytes(small));
  EXPECT_EQ(n.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(n.status().message().find(std::to_string(value.size())), std::string::npos)
      << n.status().message();

  // The rest of the value was drained: the (pooled) connection still works.
  for (int i = 0; i < 3; ++i) {
    auto got = client_->Get("k");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == value);
  }
  EXPECT_EQ(client_->GetInto("absent", AsBytes(exact)).status().code(), StatusCode::kNotFound);
}

TEST_F(ClientTest, ExistsReturnsTheSize) {
  ASSERT_TRUE(client_->Put("k", std::string(12345, 'v')).ok());
  auto size = client_->Exists("k");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 12345u);
  EXPECT_EQ(client_->Exists("absent").status().code(), StatusCode::kNotFound);
}

TEST_F(ClientTest, DeleteThenNotFound) {
  ASSERT_TRUE(client_->Put("k", "v").ok());
  ASSERT_TRUE(client_->Delete("k").ok());
  EXPECT_EQ(client_->Get("k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Exists("k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Delete("k").code(), StatusCode::kNotFound);
  // Gone means put-if-absent succeeds again.
  ASSERT_TRUE(client_->Put("k", "again").ok());
  EXPECT_EQ(*client_->Get("k"), "again");
}

TEST_F(ClientTest, BatchPutGetExists) {
  ASSERT_TRUE(client_->Put("b1", "old").ok());
  std::string v0 = RandomBytes(300000, 3), v1 = "new", v2;
  std::vector<PutItem> items = {
      {"b0", {reinterpret_cast<const uint8_t*>(v0.data()), v0.size()}},
      {"b1", {reinterpret_cast<const uint8_t*>(v1.data()), v1.size()}},
      {"b2", {}},
  };
  auto codes = client_->BatchPut(items);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  ASSERT_EQ(codes->size(), 3u);
  EXPECT_EQ((*codes)[0], StatusCode::kOk);
  EXPECT_EQ((*codes)[1], StatusCode::kExists);
  EXPECT_EQ((*codes)[2], StatusCode::kOk);

  std::vector<std::string> keys = {"b0", "missing", "b1", "b2", "also-missing"};
  auto got = client_->BatchGet(keys);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), keys.size());
  EXPECT_EQ((*got)[0].code, StatusCode::kOk);
  EXPECT_TRUE((*got)[0].value == v0);
  EXPECT_EQ((*got)[1].code, StatusCode::kNotFound);
  EXPECT_EQ((*got)[2].code, StatusCode::kOk);
  EXPECT_EQ((*got)[2].value, "old");
  EXPECT_EQ((*got)[3].code, StatusCode::kOk);
  EXPECT_EQ((*got)[3].value, "");
  EXPECT_EQ((*got)[4].code, StatusCode::kNotFound);

  auto present = client_->BatchExists(keys);
  ASSERT_TRUE(present.ok()) << present.status().ToString();
  EXPECT_EQ(*present, (std::vector<bool>{true, false, true, true, false}));

  PutOptions overwrite;
  overwrite.overwrite = true;
  codes = client_->BatchPut(std::span(items).subspan(1, 1), overwrite);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_EQ(*codes, std::vector<StatusCode>{StatusCode::kOk});
  EXPECT_EQ(*client_->Get("b1"), "new");
}

TEST_F(ClientTest, BatchGetIntoReceivesEachValueInItsBuffer) {
  const std::string v0 = RandomBytes(300000, 4), v1 = "small", v2 = RandomBytes(5000, 5);
  ASSERT_TRUE(client_->Put("g0", v0).ok());
  ASSERT_TRUE(client_->Put("g1", v1).ok());
  ASSERT_TRUE(client_->Put("g2", v2).ok());
  std::string b0(v0.size(), '\0'), b1(100, '\0'), b2(v2.size() - 1, '#'), b3(10, '#'), b4;
  const std::vector<GetIntoItem> items = {
      {"g0", AsBytes(b0)}, {"g1", AsBytes(b1)}, {"g2", AsBytes(b2)}, {"missing", AsBytes(b3)},
      {"g1", AsBytes(b4)}};
  auto got = client_->BatchGetInto(items);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), items.size());
  EXPECT_EQ((*got)[0].code, StatusCode::kOk);
  EXPECT_EQ((*got)[0].length, v0.size());
  EXPECT_TRUE(b0 == v0);
  EXPECT_EQ((*got)[1].code, StatusCode::kOk);
  EXPECT_EQ(b1.substr(0, (*got)[1].length), v1);
  // Too small: the size needed is reported and the buffer is left alone.
  EXPECT_EQ((*got)[2].code, StatusCode::kTooLarge);
  EXPECT_EQ((*got)[2].length, v2.size());
  EXPECT_EQ(b2, std::string(v2.size() - 1, '#'));
  EXPECT_EQ((*got)[3].code, StatusCode::kNotFound);
  EXPECT_EQ(b3, std::string(10, '#'));
  EXPECT_EQ((*got)[4].code, StatusCode::kTooLarge) << "an empty buffer holds no value";
  // The drained values left the pooled connection usable.
  auto again = client_->Get("g2");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again == v2);
  EXPECT_TRUE(client_->BatchGetInto({})->empty());
}

TEST_F(ClientTest, GetIntoAProvidedBufferAsksOnceWithTheLength) {
  const std::string value = RandomBytes(70000, 6);
  ASSERT_TRUE(client_->Put("p", value).ok());
  std::string into;
  int asked = 0;
  auto n = client_->GetInto("p", [&](uint64_t len) -> Result<std::span<uint8_t>> {
    ++asked;
    into.resize(len);
    return AsBytes(into);
  });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(*n, value.size());
  EXPECT_TRUE(into == value);
  // A provider's error fails the call and keeps the connection.
  n = client_->GetInto(
      "p", [](uint64_t) -> Result<std::span<uint8_t>> { return Status::NoSpace("no room"); });
  EXPECT_EQ(n.status().code(), StatusCode::kNoSpace);
  // One that returns less than asked is caught, not overrun.
  std::string short_buffer(10, '\0');
  n = client_->GetInto("p", [&](uint64_t) -> Result<std::span<uint8_t>> {
    return AsBytes(short_buffer);
  });
  EXPECT_EQ(n.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(*client_->Get("p") == value);
  EXPECT_EQ(client_->GetInto("absent", [&](uint64_t) -> Result<std::span<uint8_t>> {
                      ++asked;
                      return AsBytes(into);
                    }).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(asked, 1) << "no provider call for a missing key";
}

TEST_F(ClientTest, MatchPrefixCountsLeadingPresentKeys) {
  ASSERT_TRUE(client_->Put("p0", "a").ok());
  ASSERT_TRUE(client_->Put("p1", "b").ok());
  ASSERT_TRUE(client_->Put("p3", "d").ok());
  std::vector<std::string> keys = {"p0", "p1", "p2", "p3"};
  auto n = client_->MatchPrefix(keys);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  std::vector<std::string> none = {"p2", "p0"};
  EXPECT_EQ(*client_->MatchPrefix(none), 0u);
  std::vector<std::string> all = {"p0", "p1"};
  EXPECT_EQ(*client_->MatchPrefix(all), 2u);
}

TEST_F(ClientTest, Flush) {
  ASSERT_TRUE(client_->Put("k", RandomBytes(1 << 20, 4)).ok());
  Status st = client_->Flush();
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(ClientTest, StatsJsonCountsObjects) {
  for (int i = 0; i < 5; ++i) {
    // Appended, not "s" + to_string: GCC 12 misreads that here (-Wrestrict).
    std::string key = "s";
    key += std::to_string(i);
    ASSERT_TRUE(client_->Put(key, "v").ok());
  }
  auto body = client_->StatsJson();
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  nlohmann::json stats = nlohmann::json::parse(*body, nullptr, false);
  ASSERT_FALSE(stats.is_discarded()) << *body;
  ASSERT_TRUE(stats.is_object()) << *body;
  ASSERT_TRUE(stats.contains("objects")) << *body;
  EXPECT_EQ(stats["objects"].get<uint64_t>(), 5u) << *body;
  // The index's table and its first 1 MiB slab of entries.
  ASSERT_TRUE(stats.contains("index_bytes")) << *body;
  EXPECT_GT(stats["index_bytes"].get<uint64_t>(), uint64_t{1} << 20) << *body;
}

TEST_F(ClientTest, ManyThreadsShareOneClient) {
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOpsPerThread; ++i) {
        char key_buf[32];  // (snprintf: g++ 12 -O3 warns falsely on string concatenation here)
        std::snprintf(key_buf, sizeof(key_buf), "t%d/%d", t, i);
        std::string key = key_buf;
        std::string value = RandomBytes(1000 + (t * 7919 + i * 104729) % 200000, t * 1000 + i);
        Status st = client_->Put(key, value);
        if (!st.ok()) {
          ADD_FAILURE() << key << ": " << st.ToString();
          ++failures;
          continue;
        }
        auto got = client_->Get(key);
        if (!got.ok() || *got != value) {
          ADD_FAILURE() << key << ": " << got.status().ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ClientTest, KeyLimits) {
  std::string key512(512, 'k');
  EXPECT_TRUE(client_->Put(key512, "v").ok());
  EXPECT_EQ(*client_->Get(key512), "v");
  std::string key513(513, 'k');
  EXPECT_EQ(client_->Put(key513, "v").code(), StatusCode::kTooLarge);
  EXPECT_EQ(client_->Get(key513).status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(client_->Put("", "v").code(), StatusCode::kInvalid);
  std::vector<std::string> keys = {"ok", key513};
  EXPECT_EQ(client_->BatchGet(keys).status().code(), StatusCode::kTooLarge);
  // The client still works after the local rejections.
  EXPECT_TRUE(client_->Put("after", "v").ok());
}

TEST(ClientLimits, ValueOverTheServerLimitIsRejectedLocally) {
  testing::ServerOptions server_options;
  server_options.extra_args = {"--max-value", "1MiB"};
  ServerProcess server(server_options);
  ASSERT_TRUE(server.Start());
  ClientOptions options;
  options.port = server.port();
  options.token = server.admin_token();
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_EQ((*client)->server_info().max_value_bytes, 1u << 20);
  std::string value((1 << 20) + 1, 'x');
  EXPECT_EQ((*client)->Put("huge", value).code(), StatusCode::kTooLarge);
  value.pop_back();
  Status st = (*client)->Put("max", value);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto got = (*client)->Get("max");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), value.size());
}

TEST(ClientPool, ConnectionClosedByTheServerWhileIdleIsNotReused) {
  testing::ServerOptions server_options;
  server_options.extra_args = {"--idle-timeout", "300ms"};
  ServerProcess server(server_options);
  ASSERT_TRUE(server.Start());
  ClientOptions options;
  options.port = server.port();
  options.token = server.admin_token();
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Put("k", "v").ok());
  // The server closes the pooled connection; the next call must notice
  // before sending on it instead of failing with kUnavailable.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  Status st = (*client)->Put("k2", "v");
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << server.log();
  auto got = (*client)->Get("k");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
}

TEST(ClientConnect, NothingListeningIsUnavailableQuickly) {
  ClientOptions options;
  options.port = testing::UnusedPort();
  auto start = std::chrono::steady_clock::now();
  auto client = Client::Connect(options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find("connection refused"), std::string::npos)
      << client.status().message();
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(ClientConnect, UnresolvableHostIsUnavailable) {
  ClientOptions options;
  options.host = "no-such-host.invalid";
  auto client = Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
}

TEST(ClientConnect, ServerGoneFailsCallsWithUnavailable) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ClientOptions options;
  options.port = server.port();
  options.token = server.admin_token();
  options.io_timeout_ms = 5000;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Put("k", "v").ok());
  server.Kill9();
  Status st = (*client)->Put("k2", "v");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ((*client)->Get("k").status().code(), StatusCode::kUnavailable);
}

// A listener that takes connections (the kernel's backlog does) and never
// answers; with `partial`, one accepted connection gets 3 bytes of a reply
// header and then nothing. Closed with the object.
class SilentListener {
 public:
  SilentListener(bool unix_socket, bool partial) {
    if (unix_socket) {
      path_ = ::testing::TempDir() + "silent-" + std::to_string(::getpid()) + ".sock";
      ::unlink(path_.c_str());
      fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    } else {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
      socklen_t len = sizeof(addr);
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
    EXPECT_EQ(::listen(fd_, 8), 0);
    if (partial) {
      talker_ = std::thread([this] {
        int conn = ::accept(fd_, nullptr, nullptr);
        if (conn < 0) return;
        char request[64];
        (void)::recv(conn, request, sizeof(request), 0);
        (void)::send(conn, "\x01\x02\x03", 3, MSG_NOSIGNAL);
        while (!done_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ::close(conn);
      });
    }
  }
  ~SilentListener() {
    done_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes a blocked accept
    if (talker_.joinable()) talker_.join();
    ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  ClientOptions Options(uint32_t io_timeout_ms) const {
    ClientOptions o;
    if (path_.empty()) {
      o.port = port_;
    } else {
      o.unix_path = path_;
    }
    o.io_timeout_ms = io_timeout_ms;
    return o;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string path_;
  std::atomic<bool> done_{false};
  std::thread talker_;
};

// The receive timeout holds on blocking sockets (SO_RCVTIMEO) as it did on
// polled ones: a server that never answers HELLO, or stops mid-header,
// fails the connect with Unavailable after io_timeout_ms, not later.
TEST(ClientConnect, SilentOrStalledServerTimesOutTheReceive) {
  for (bool unix_socket : {false, true}) {
    for (bool partial : {false, true}) {
      SilentListener listener(unix_socket, partial);
      const auto start = std::chrono::steady_clock::now();
      auto client = Client::Connect(listener.Options(300));
      const auto elapsed = std::chrono::steady_clock::now() - start;
      ASSERT_FALSE(client.ok()) << "unix " << unix_socket << " partial " << partial;
      EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
      EXPECT_NE(client.status().message().find("timed out after 300 ms"), std::string::npos)
          << client.status().message();
      EXPECT_GE(elapsed, std::chrono::milliseconds(250));
      EXPECT_LT(elapsed, std::chrono::seconds(5));
    }
  }
}

}  // namespace
}  // namespace ctxstore
