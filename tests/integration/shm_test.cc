// The shared-memory path (SHM_REGISTER, SHM_GET, SHM_PUT over `serve
// --unix`) through the real server binary: values copied through a
// client's memfd with no value bytes on the socket (the server's counters
// prove the path was taken), tenants kept apart, and clients that lie about
// their memory (a memfd smaller than declared, unsealed, not a memfd at all,
// no fd, ranges outside the region, too many fds, memory unmapped after
// registering): each refused cleanly, nothing written outside the range,
// the server alive after.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "ctxstore/shared_memory.h"
#include "protocol/shm_bodies.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::RandomBytes;
using ::ctxstore::testing::RawConn;
using ::ctxstore::testing::ServerOptions;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StatsOf;
using ::ctxstore::testing::StopAndReport;
using ::ctxstore::testing::TempDir;
using protocol::Opcode;

// A memfd of `bytes` with the given seals (F_SEAL_SHRINK is what the server requires).
int MakeMemfd(size_t bytes, int seals) {
  int fd = ::memfd_create("shm-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(bytes)), 0);
  if (seals != 0) {
    EXPECT_EQ(::fcntl(fd, F_ADD_SEALS, seals), 0);
  }
  return fd;
}

class ShmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.extra_args = {"--unix", SocketPath()};
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override { StopAndReport(*server_); }
  std::string SocketPath() const { return dir_.path() + "/ctx.sock"; }

  std::unique_ptr<Client> ConnectUnix(const std::string& token, const std::string& ns = "") {
    ClientOptions o;
    o.unix_path = SocketPath();
    o.token = token;
    o.namespace_name = ns;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  // A raw Unix connection after a HELLO with the admin token.
  std::unique_ptr<RawConn> RawAdmin() {
    auto raw = std::make_unique<RawConn>(SocketPath());
    EXPECT_TRUE(raw->connected());
    raw->Hello(server_->admin_token());
    return raw;
  }
  // REGISTER of `declared` bytes with these fds; the reply.
  RawConn::Reply Register(RawConn& raw, uint64_t declared, const std::vector<int>& fds) {
    raw.SendFrameWithFds(Opcode::kShmRegister, protocol::EncodeShmRegister(declared), fds);
    auto r = raw.ReadReply();
    EXPECT_TRUE(r.has_value()) << "no reply to SHM_REGISTER";
    return r.value_or(RawConn::Reply{});
  }
  uint64_t Stat(const char* name) {
    auto admin = ConnectUnix(server_->admin_token());
    return admin ? StatsOf(*admin).value(name, uint64_t{0}) : 0;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ShmTest, ValuesMoveThroughSharedMemoryNotTheSocket) {
  auto client = ConnectUnix(server_->admin_token());
  ASSERT_NE(client, nullptr);
  auto memory = SharedMemory::Create(16 << 20);
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  ASSERT_TRUE(client->Register(*memory).ok());
  std::span<uint8_t> bytes = (*memory)->bytes();
  const std::string value = RandomBytes(4 << 20, 11);
  std::memcpy(bytes.data(), value.data(), value.size());

  ASSERT_TRUE(client->Put("v", bytes.subspan(0, value.size())).ok());
  std::span<uint8_t> into = bytes.subspan(8 << 20, 5 << 20);
  auto n = client->GetInto("v", into);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_EQ(*n, value.size());
  EXPECT_EQ(std::memcmp(into.data(), value.data(), value.size()), 0);
  EXPECT_EQ(Stat("shm_puts"), 1u);
  EXPECT_EQ(Stat("shm_gets"), 1u);
  EXPECT_EQ(Stat("shm_regions"), 1u) << "one region, registered on the one connection used";

  // A batch into shared memory: SHM_GETs pipelined, each value copied by the server.
  const std::vector<GetIntoItem> items = {{"v", bytes.subspan(8 << 20, 4 << 20)},
                                          {"missing", bytes.subspan(13 << 20, 1 << 20)},
                                          {"v", bytes.subspan(14 << 20, 1 << 20)}};
  auto batch = client->BatchGetInto(items);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ((*batch)[0].code, StatusCode::kOk);
  EXPECT_EQ((*batch)[0].length, value.size());
  EXPECT_EQ((*batch)[1].code, StatusCode::kNotFound);
  EXPECT_EQ((*batch)[2].code, StatusCode::kTooLarge);
  EXPECT_EQ((*batch)[2].length, value.size()) << "the size needed, as the socket path says it";
  EXPECT_EQ(Stat("shm_gets"), 2u);

  // The same object over TCP, byte for byte: one store behind both paths.
  ClientOptions tcp;
  tcp.port = server_->port();
  tcp.token = server_->admin_token();
  auto over_tcp = Client::Connect(tcp);
  ASSERT_TRUE(over_tcp.ok());
  auto got = (*over_tcp)->Get("v");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == value);
  EXPECT_EQ((*over_tcp)->Register(*memory).code(), StatusCode::kUnsupported);

  // Memory not registered goes over the socket, as before.
  std::string plain(value.size(), '\0');
  n = client->GetInto("v", {reinterpret_cast<uint8_t*>(plain.data()), plain.size()});
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(plain == value);
  EXPECT_EQ(Stat("shm_gets"), 2u) << "the socket path counts none";
}

TEST_F(ShmTest, TooSmallARangeIsRefusedWithNothingWritten) {
  auto client = ConnectUnix(server_->admin_token());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Put("big", RandomBytes(100000, 12)).ok());
  auto memory = SharedMemory::Create(1 << 20);
  ASSERT_TRUE(memory.ok());
  ASSERT_TRUE(client->Register(*memory).ok());
  std::span<uint8_t> bytes = (*memory)->bytes();
  std::memset(bytes.data(), 0xAB, bytes.size());
  auto n = client->GetInto("big", bytes.subspan(1000, 50000));
  EXPECT_EQ(n.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(n.status().message().find("value of 100000 bytes"), std::string::npos)
      << n.status().ToString();
  for (uint8_t b : bytes) ASSERT_EQ(b, 0xAB);
  EXPECT_EQ(client->GetInto("missing", bytes.subspan(0, 10)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ShmTest, ATenantReadsOnlyItsOwnObjectsThroughSharedMemory) {
  auto admin = ConnectUnix(server_->admin_token());
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->CreateNamespace("alpha", {}).ok());
  ASSERT_TRUE(admin->CreateNamespace("beta", {}).ok());
  auto alpha_token = admin->CreateToken("write", "alpha", "t");
  auto beta_token = admin->CreateToken("read", "beta", "t");
  ASSERT_TRUE(alpha_token.ok() && beta_token.ok());
  auto alpha = ConnectUnix(alpha_token->token);
  auto beta = ConnectUnix(beta_token->token);
  ASSERT_TRUE(alpha && beta);
  ASSERT_TRUE(alpha->Put("secret", "alpha's bytes").ok());

  auto memory = SharedMemory::Create(1 << 20);
  ASSERT_TRUE(memory.ok());
  ASSERT_TRUE(beta->Register(*memory).ok());
  std::span<uint8_t> bytes = (*memory)->bytes();
  std::memset(bytes.data(), 0x5A, bytes.size());
  EXPECT_EQ(beta->GetInto("secret", bytes.subspan(0, 4096)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(beta->Put("mine", bytes.subspan(0, 16)).code(), StatusCode::kUnauthorized)
      << "a read token writes nothing through shared memory either";
  for (uint8_t b : bytes) ASSERT_EQ(b, 0x5A);

  // Regions belong to the connection that registered them: another one
  // (beta's raw connection) cannot name alpha's region 1.
  RawConn raw(SocketPath());
  raw.Hello(beta_token->token);
  raw.SendFrame(Opcode::kShmGet, protocol::EncodeShmGet("secret", {1, 0, 4096}));
  auto reply = raw.ReadReply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->header.status, StatusCode::kNotFound) << reply->body;
}

TEST_F(ShmTest, LyingAboutTheMemoryIsRefusedCleanly) {
  auto raw = RawAdmin();
  struct Case {
    const char* what;
    int fd;
    uint64_t declared;
    const char* message;
  };
  const int small = MakeMemfd(4096, F_SEAL_SHRINK);
  const int unsealed = MakeMemfd(1 << 20, 0);
  const int readonly = MakeMemfd(1 << 20, F_SEAL_SHRINK | F_SEAL_WRITE);
  const std::string file_path = dir_.path() + "/plain-file";
  const int file = ::open(file_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_EQ(::ftruncate(file, 1 << 20), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  const std::vector<Case> cases = {
      {"more declared than the memfd holds", small, 1 << 20, "holds 4096 bytes, 1048576 declared"},
      {"an unsealed memfd", unsealed, 4096, "F_SEAL_SHRINK"},
      {"a write-sealed memfd", readonly, 4096, "must be writable"},
      // On tmpfs a plain file has seals too (none addable): refused either way.
      {"a regular file", file, 4096, "memfd"},
      {"a pipe", pipe_fds[0], 16, "must be a memfd"},
  };
  for (const Case& c : cases) {
    RawConn::Reply r = Register(*raw, c.declared, {c.fd});
    EXPECT_EQ(r.header.status, StatusCode::kInvalid) << c.what << ": " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << c.what << ": " << r.body;
  }
  RawConn::Reply no_fd = Register(*raw, 4096, {});
  EXPECT_EQ(no_fd.header.status, StatusCode::kInvalid);
  EXPECT_NE(no_fd.body.find("needs a memfd passed"), std::string::npos) << no_fd.body;
  EXPECT_EQ(Stat("shm_refused"), 6u);
  EXPECT_EQ(Stat("shm_regions"), 0u);
  for (int fd : {small, unsealed, readonly, file, pipe_fds[0], pipe_fds[1]}) ::close(fd);
}

TEST_F(ShmTest, RangesOutsideTheRegionAreRefused) {
  auto client = ConnectUnix(server_->admin_token());
  ASSERT_TRUE(client->Put("k", std::string(100, 'k')).ok());
  auto raw = RawAdmin();
  const int fd = MakeMemfd(1 << 20, F_SEAL_SHRINK | F_SEAL_GROW);
  RawConn::Reply reg = Register(*raw, 65536, {fd});  // the first 64 KiB only
  ASSERT_EQ(reg.header.status, StatusCode::kOk) << reg.body;
  const uint32_t region = *protocol::DecodeRegionId(reg.body);
  void* mine = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(mine, MAP_FAILED);
  std::memset(mine, 0xCD, 1 << 20);
  for (const protocol::ShmRange& range :
       {protocol::ShmRange{region, 65536 - 50, 100}, protocol::ShmRange{region, 65536, 1},
        protocol::ShmRange{region, ~0ull - 10, 100}, protocol::ShmRange{region, 10, ~0ull}}) {
    raw->SendFrame(Opcode::kShmGet, protocol::EncodeShmGet("k", range));
    auto r = raw->ReadReply();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->header.status, StatusCode::kInvalid) << range.offset << "+" << range.length;
    EXPECT_NE(r->body.find("outside region"), std::string::npos) << r->body;
  }
  for (size_t i = 0; i < (1u << 20); ++i) {
    ASSERT_EQ(static_cast<uint8_t*>(mine)[i], 0xCD) << "byte " << i << " was written";
  }
  // Inside, the value lands where asked and nowhere else.
  raw->SendFrame(Opcode::kShmGet, protocol::EncodeShmGet("k", {region, 1000, 200}));
  auto ok = raw->ReadReply();
  ASSERT_TRUE(ok.has_value());
  ASSERT_EQ(ok->header.status, StatusCode::kOk) << ok->body;
  EXPECT_EQ(protocol::DecodeShmGetReply(ok->body)->value_len, 100u);
  auto* b = static_cast<uint8_t*>(mine);
  EXPECT_EQ(b[999], 0xCD);
  EXPECT_EQ(b[1000], 'k');
  EXPECT_EQ(b[1099], 'k');
  EXPECT_EQ(b[1100], 0xCD);
  ::munmap(mine, 1 << 20);
  ::close(fd);
}

TEST_F(ShmTest, MemoryUnmappedOrClosedByTheClientStaysSafeForTheServer) {
  auto client = ConnectUnix(server_->admin_token());
  ASSERT_TRUE(client->Put("k", std::string(5000, 'q')).ok());
  auto raw = RawAdmin();
  const int fd = MakeMemfd(1 << 20, F_SEAL_SHRINK);
  RawConn::Reply reg = Register(*raw, 1 << 20, {fd});
  ASSERT_EQ(reg.header.status, StatusCode::kOk) << reg.body;
  const uint32_t region = *protocol::DecodeRegionId(reg.body);
  // Sealed: the client cannot shrink it under the server.
  EXPECT_NE(::ftruncate(fd, 4096), 0);
  EXPECT_EQ(errno, EPERM);
  // A hole punched in it reads as zeros and is refilled on write.
  EXPECT_EQ(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1 << 20), 0);
  ::close(fd);  // and the client lets go of it entirely
  raw->SendFrame(Opcode::kShmGet, protocol::EncodeShmGet("k", {region, 4096, 8192}));
  auto r = raw->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kOk) << r->body;
  raw->SendFrame(Opcode::kShmUnregister, protocol::EncodeRegionId(region));
  r = raw->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kOk);
  raw->SendFrame(Opcode::kShmUnregister, protocol::EncodeRegionId(region));
  r = raw->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kNotFound);
  EXPECT_EQ(Stat("shm_regions"), 0u);
}

TEST_F(ShmTest, TooManyDescriptorsCloseTheConnection) {
  auto raw = RawAdmin();
  std::vector<int> fds;
  for (int i = 0; i < 6; ++i) fds.push_back(MakeMemfd(4096, F_SEAL_SHRINK));
  raw->SendFrameWithFds(Opcode::kShmRegister, protocol::EncodeShmRegister(4096), fds);
  // The first request after the flood is refused and the connection closed.
  raw->SendFrame(Opcode::kExists, protocol::EncodeKey("x"));
  EXPECT_TRUE(raw->DrainUntilClosed(5000)) << "the connection stayed open";
  for (int fd : fds) ::close(fd);
  // The server itself goes on.
  EXPECT_NE(ConnectUnix(server_->admin_token()), nullptr);
}

TEST_F(ShmTest, SharedMemoryOpsOverTcpAreRefused) {
  RawConn raw(server_->port());
  raw.Hello(server_->admin_token());
  raw.SendFrame(Opcode::kShmGet, protocol::EncodeShmGet("k", {1, 0, 10}));
  auto r = raw.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  EXPECT_NE(r->body.find("needs a Unix-socket connection"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace ctxstore
