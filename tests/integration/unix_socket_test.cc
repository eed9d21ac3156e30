// `serve --unix PATH` through the real server binary: every kind of request
// over the Unix socket beside TCP, the peer's credentials in audit lines,
// tenancy as on TCP, the socket file's mode and its removal at stop, stale
// files replaced and live ones refused, and the CLI's unix:/// address.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::Describe;
using ::ctxstore::testing::RunCli;
using ::ctxstore::testing::ServerOptions;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;
using ::ctxstore::testing::TempDir;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Leaves a socket file with nobody listening: what a killed server leaves.
void MakeStaleSocket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  ::close(fd);
}

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.extra_args = {"--unix", SocketPath(), "--unix-mode", "0600"};
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    if (server_) StopAndReport(*server_);
  }
  std::string SocketPath() const { return dir_.path() + "/ctx.sock"; }

  Result<std::unique_ptr<Client>> ConnectUnix(const std::string& token,
                                              const std::string& ns = "") {
    ClientOptions o;
    EXPECT_TRUE(ParseServerAddress("unix://" + SocketPath(), &o).ok());
    o.token = token;
    o.namespace_name = ns;
    o.max_idle_connections = 2;
    return Client::Connect(o);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(UnixSocketTest, ServesEveryKindOfRequestBesideTcp) {
  EXPECT_NE(server_->log().find("and unix://" + SocketPath()), std::string::npos)
      << server_->log();
  auto client = ConnectUnix(server_->admin_token());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Client& c = **client;
  EXPECT_GT(c.server_info().max_value_bytes, 0u);

  // A value larger than the socket buffers, so that it takes many reads.
  const std::string big = ::ctxstore::testing::RandomBytes(3 << 20, 7);
  ASSERT_TRUE(c.Put("big", big).ok());
  auto got = c.Get("big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == big);
  std::string into(4 << 20, '\0');
  auto n = c.GetInto("big", {reinterpret_cast<uint8_t*>(into.data()), into.size()});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, big.size());

  std::vector<PutItem> items;
  const std::vector<std::string> keys = {"c0", "c1", "c2"};
  for (const auto& k : keys) items.push_back({k, {reinterpret_cast<const uint8_t*>(k.data()), 2}});
  PutOptions chain;
  chain.chain = true;
  auto put = c.BatchPut(items, chain);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  const std::vector<std::string> chain_keys = {"c0", "c1", "c2", "c3"};
  auto match = c.MatchPrefix(chain_keys);
  ASSERT_TRUE(match.ok()) << match.status().ToString();
  EXPECT_EQ(*match, 3u);
  auto batch = c.BatchGet(keys);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[2].value, "c2");
  EXPECT_TRUE(c.Delete("big", /*sync=*/true).ok());
  EXPECT_EQ(c.Exists("big").status().code(), StatusCode::kNotFound);

  // The same objects over TCP: one store behind both listeners.
  ClientOptions tcp;
  tcp.port = server_->port();
  tcp.token = server_->admin_token();
  auto over_tcp = Client::Connect(tcp);
  ASSERT_TRUE(over_tcp.ok()) << over_tcp.status().ToString();
  auto len = (*over_tcp)->Exists("c1");
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 2u);
}

TEST_F(UnixSocketTest, AuditLinesNameThePeersProcessAndUser) {
  auto refused = ConnectUnix("ctx_not-a-real-token");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthorized);
  std::ifstream in(server_->data_dir() + "/audit.log");
  const std::string want = "unix pid=" + std::to_string(::getpid()) +
                           " uid=" + std::to_string(::getuid()) +
                           " gid=" + std::to_string(::getgid());
  bool found = false;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "auth_failure") {
      EXPECT_EQ(j.value("peer", ""), want) << line;
      found = true;
    }
  }
  EXPECT_TRUE(found) << "no auth_failure line in the audit log";
}

TEST_F(UnixSocketTest, TenancyHoldsAsOnTcp) {
  auto admin = ConnectUnix(server_->admin_token());
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->CreateNamespace("alpha", {}).ok());
  ASSERT_TRUE((*admin)->CreateNamespace("beta", {}).ok());
  auto alpha_writer = (*admin)->CreateToken("write", "alpha", "t");
  auto beta_reader = (*admin)->CreateToken("read", "beta", "t");
  ASSERT_TRUE(alpha_writer.ok() && beta_reader.ok());

  auto alpha = ConnectUnix(alpha_writer->token);
  ASSERT_TRUE(alpha.ok()) << alpha.status().ToString();
  ASSERT_TRUE((*alpha)->Put("secret", "alpha's").ok());
  auto beta = ConnectUnix(beta_reader->token);
  ASSERT_TRUE(beta.ok());
  EXPECT_EQ((*beta)->Get("secret").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*beta)->Put("mine", "x").code(), StatusCode::kUnauthorized) << "a read token";
  auto into_alpha = ConnectUnix(beta_reader->token, "alpha");
  ASSERT_FALSE(into_alpha.ok());
  EXPECT_EQ(into_alpha.status().code(), StatusCode::kUnauthorized);
}

TEST_F(UnixSocketTest, TheSocketFileHasItsModeAndGoesAtStop) {
  struct stat st {};
  ASSERT_EQ(::stat(SocketPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_FALSE(Exists(SocketPath())) << "the socket file outlived the server";
  server_.reset();
}

TEST_F(UnixSocketTest, ALiveServersSocketIsRefusedAndAStaleOneReplaced) {
  ServerOptions second;
  second.extra_args = {"--unix", SocketPath()};
  second.ready_timeout_ms = 5000;
  ServerProcess rival(second);
  EXPECT_FALSE(rival.Start()) << "a second server took a live socket";
  EXPECT_NE(rival.log().find("another server is listening there"), std::string::npos)
      << rival.log();
  rival.Stop();
  EXPECT_TRUE(ConnectUnix(server_->admin_token()).ok()) << "the first server lost its socket";

  // Killed, the server leaves its socket file; the next start replaces it.
  server_->Kill9();
  ASSERT_TRUE(Exists(SocketPath()));
  ASSERT_TRUE(server_->Start());
  EXPECT_TRUE(ConnectUnix(server_->admin_token()).ok());

  const std::string stale = dir_.path() + "/stale.sock";
  MakeStaleSocket(stale);
  ServerOptions third;
  third.extra_args = {"--unix", stale};
  ServerProcess replacing(third);
  ASSERT_TRUE(replacing.Start()) << replacing.log();
  StopAndReport(replacing);
}

TEST_F(UnixSocketTest, AFileThatIsNotASocketIsLeftAlone) {
  const std::string path = dir_.path() + "/not-a-socket";
  { std::ofstream(path) << "keep me"; }
  ServerOptions o;
  o.extra_args = {"--unix", path};
  o.ready_timeout_ms = 5000;
  ServerProcess other(o);
  EXPECT_FALSE(other.Start());
  EXPECT_NE(other.log().find("a file that is not a socket is there"), std::string::npos)
      << other.log();
  other.Stop();
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "keep me");
}

TEST_F(UnixSocketTest, TheCliTakesAUnixAddress) {
  const std::string server = "unix://" + SocketPath();
  auto put = RunCli({"put", "--server", server, "--data-dir", server_->data_dir(), "cli-key", "-"},
                    "cli value");
  ASSERT_EQ(put.exit_code, 0) << Describe(put);
  auto get = RunCli({"get", "--server", server, "--data-dir", server_->data_dir(), "cli-key"});
  ASSERT_EQ(get.exit_code, 0) << Describe(get);
  EXPECT_EQ(get.out, "cli value");
  auto bad = RunCli({"get", "--server", "unix://relative", "k"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("unix:///ABSOLUTE/PATH"), std::string::npos) << Describe(bad);
}

}  // namespace
}  // namespace ctxstore
