// `serve --redis-listen` through the real server binary, driven by hiredis
// (Debian's libhiredis 0.14, as a C client would drive it): values from 0
// bytes to 4 MiB through the large-argument path, a pipeline of mixed
// commands, the same objects read over the native protocol, AUTH and
// tenancy, and hostile input that must cost only its own connection. These
// run in every pass, sanitizers included; the Python suite
// (tests/python/test_redis_*.py) covers each command's replies against
// redis-server itself.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::RandomBytes;
using ::ctxstore::testing::ServerOptions;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

uint16_t RedisPort(const ServerProcess& server) {
  std::smatch m;
  const std::string log = server.log();
  if (!std::regex_search(log, m, std::regex("redis: listening on 127\\.0\\.0\\.1:(\\d+)"))) {
    return 0;
  }
  return static_cast<uint16_t>(std::stoi(m[1]));
}

Context Connect(uint16_t port) {
  timeval timeout{10, 0};
  Context c(redisConnectWithTimeout("127.0.0.1", port, timeout));
  EXPECT_TRUE(c != nullptr && c->err == 0) << (c ? c->errstr : "no context");
  if (c) redisSetTimeout(c.get(), timeout);
  return c;
}

Reply Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data())));
}

std::string Text(const Reply& r) {
  if (!r) return "<no reply>";
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r->str, r->len);
    case REDIS_REPLY_ERROR:
      return std::string("-").append(r->str, r->len);  // (not "-" + string: g++ 12 -Wrestrict)
    case REDIS_REPLY_INTEGER:
      return std::string(":").append(std::to_string(r->integer));
    case REDIS_REPLY_NIL:
      return "<nil>";
    default:
      return "<type " + std::to_string(r->type) + ">";
  }
}

class RedisFrontEndTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra) {
    ServerOptions o;
    o.memory = "128MiB";
    o.extra_args = std::move(extra);
    o.extra_args.push_back("--redis-listen");
    o.extra_args.push_back("127.0.0.1:0");
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
    port_ = RedisPort(*server_);
    ASSERT_NE(port_, 0) << server_->log();
  }
  void TearDown() override {
    if (server_) StopAndReport(*server_);
  }
  Result<std::unique_ptr<Client>> Native(const std::string& token = {}) {
    ClientOptions o;
    o.port = server_->port();
    o.token = token;
    return Client::Connect(o);
  }

  std::unique_ptr<ServerProcess> server_;
  uint16_t port_ = 0;
};

TEST_F(RedisFrontEndTest, ValuesOfEverySizeRoundTripAndAreNativeObjects) {
  StartServer({"--no-auth"});
  Context c = Connect(port_);
  auto native = Native();
  ASSERT_TRUE(native.ok()) << native.status().ToString();
  // Around the 32 KiB line where arguments stop being buffered and go
  // straight into the arena, and a 4 MiB KV chunk.
  const size_t sizes[] = {0, 1, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 1 << 20, 4 << 20};
  for (size_t size : sizes) {
    const std::string key = "v" + std::to_string(size);
    const std::string value = RandomBytes(size, size + 7);
    EXPECT_EQ(Text(Command(c.get(), {"SET", key, value})), "OK") << size;
    Reply got = Command(c.get(), {"GET", key});
    ASSERT_TRUE(got && got->type == REDIS_REPLY_STRING) << size << ": " << Text(got);
    EXPECT_TRUE(std::string(got->str, got->len) == value) << size;
    auto over_native = (*native)->Get(key);
    ASSERT_TRUE(over_native.ok()) << over_native.status().ToString();
    EXPECT_TRUE(*over_native == value) << size;
  }
  // And the other way: put natively, read over RESP.
  const std::string value = RandomBytes(100000, 3);
  ASSERT_TRUE((*native)->Put("from-native", value).ok());
  Reply got = Command(c.get(), {"GET", "from-native"});
  ASSERT_TRUE(got && got->type == REDIS_REPLY_STRING);
  EXPECT_TRUE(std::string(got->str, got->len) == value);
}

TEST_F(RedisFrontEndTest, PipelineOfMixedCommandsAnswersInOrder) {
  StartServer({"--no-auth"});
  Context c = Connect(port_);
  constexpr int kRounds = 300;
  const std::string big = RandomBytes(100 * 1024, 11);  // a large argument mid-pipeline
  for (int i = 0; i < kRounds; ++i) {
    const std::string k = std::string("p").append(std::to_string(i));  // (g++ 12 -Wrestrict)
    const std::string v = i % 50 == 0 ? big : "value-" + std::to_string(i);
    redisAppendCommand(c.get(), "SET %b %b", k.data(), k.size(), v.data(), v.size());
    redisAppendCommand(c.get(), "GET %b", k.data(), k.size());
    redisAppendCommand(c.get(), "EXISTS %b nope", k.data(), k.size());
    redisAppendCommand(c.get(), "NOSUCHCOMMAND %b", k.data(), k.size());
  }
  for (int i = 0; i < kRounds; ++i) {
    const std::string v = i % 50 == 0 ? big : "value-" + std::to_string(i);
    redisReply* raw = nullptr;
    ASSERT_EQ(redisGetReply(c.get(), reinterpret_cast<void**>(&raw)), REDIS_OK) << c->errstr;
    EXPECT_EQ(Text(Reply(raw)), "OK");
    ASSERT_EQ(redisGetReply(c.get(), reinterpret_cast<void**>(&raw)), REDIS_OK);
    Reply got(raw);
    EXPECT_TRUE(Text(got) == v) << i;
    ASSERT_EQ(redisGetReply(c.get(), reinterpret_cast<void**>(&raw)), REDIS_OK);
    EXPECT_EQ(Text(Reply(raw)), ":1");
    ASSERT_EQ(redisGetReply(c.get(), reinterpret_cast<void**>(&raw)), REDIS_OK);
    EXPECT_EQ(Text(Reply(raw)).rfind("-ERR unknown command 'NOSUCHCOMMAND'", 0), 0u);
  }
}

TEST_F(RedisFrontEndTest, TokensDecideWhatAConnectionMaySeeAndDo) {
  StartServer({});
  const std::string admin = server_->admin_token();
  ASSERT_FALSE(admin.empty());
  ASSERT_EQ(server_->Cli({"ns", "create", "tenant-a"}).exit_code, 0);
  auto reader = server_->Cli({"token", "create", "--namespace", "tenant-a", "--role", "read"});
  ASSERT_EQ(reader.exit_code, 0) << reader.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(reader.out, m, std::regex("ctx_[0-9a-f_]+")));
  const std::string read_token = m[0];

  Context c = Connect(port_);
  EXPECT_EQ(Text(Command(c.get(), {"GET", "k"})), "-NOAUTH Authentication required.");
  EXPECT_EQ(Text(Command(c.get(), {"PING"})), "PONG");
  EXPECT_EQ(Text(Command(c.get(), {"AUTH", "default", admin})), "OK");
  EXPECT_EQ(Text(Command(c.get(), {"SET", "k", "in-default"})), "OK");

  Context r = Connect(port_);
  EXPECT_EQ(Text(Command(r.get(), {"AUTH", "tenant-a", read_token})), "OK");
  EXPECT_EQ(Text(Command(r.get(), {"GET", "k"})), "<nil>");  // another namespace's key
  EXPECT_EQ(Text(Command(r.get(), {"EXISTS", "k"})), ":0");
  EXPECT_EQ(Text(Command(r.get(), {"SET", "k", "x"})).rfind("-NOPERM", 0), 0u);

  Context bad = Connect(port_);
  EXPECT_EQ(Text(Command(bad.get(), {"AUTH", "ctx_0000000000000000_" + std::string(64, '0')})),
            "-WRONGPASS invalid username-password pair or user is disabled.");
  Reply after = Command(bad.get(), {"PING"});  // the server closed it
  EXPECT_TRUE(after == nullptr || bad->err != 0) << Text(after);
}

// Writes raw bytes on a fresh TCP connection, ends its sending side (the
// server sees the client go) and returns what comes back until the server
// closes the connection (or 5 s pass).
std::string RawExchange(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return "<connect>";
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!::write(fd, bytes.data(), bytes.size());
  ::shutdown(fd, SHUT_WR);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) got.append(buf, n);
  ::close(fd);
  return got;
}

TEST_F(RedisFrontEndTest, HostileInputCostsOnlyItsOwnConnection) {
  StartServer({"--no-auth"});
  Context healthy = Connect(port_);
  EXPECT_EQ(Text(Command(healthy.get(), {"SET", "still", "here"})), "OK");
  EXPECT_EQ(RawExchange(port_, "*1\r\n$-5\r\n"), "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_EQ(RawExchange(port_, "*99999999999\r\n"),
            "-ERR Protocol error: invalid multibulk length\r\n");
  // A bulk far past the largest value: refused before anything is reserved.
  EXPECT_EQ(RawExchange(port_, "*2\r\n$3\r\nGET\r\n$99999999999\r\n"),
            "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_NE(RawExchange(port_, std::string("\x01\x02\xff garbage\r\n", 13)), "");
  // A 4 MiB value announced, 1 KiB sent, then the client goes: nothing stored.
  RawExchange(port_, "*3\r\n$3\r\nSET\r\n$4\r\ngone\r\n$4194304\r\n" + std::string(1024, 'x'));
  EXPECT_EQ(Text(Command(healthy.get(), {"EXISTS", "gone"})), ":0");
  EXPECT_EQ(Text(Command(healthy.get(), {"GET", "still"})), "here");
}

}  // namespace
}  // namespace ctxstore
