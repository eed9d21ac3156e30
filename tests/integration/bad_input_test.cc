// Bad input over a real socket: the server answers with an error where it
// can, closes where it must, never crashes, never allocates for a length it
// has not validated, and keeps serving other clients.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/hash.h"
#include "ctxstore/client.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using protocol::FrameHeader;
using protocol::Opcode;
using testing::RawConn;
using testing::ServerProcess;
using testing::StopAndReport;

// The server's admin token, for RawConn::Hello.
std::string g_admin_token;

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::ServerOptions o;
    o.extra_args = {"--idle-timeout", "2s", "--frame-timeout", "1s", "--max-batch-keys", "64"};
    server_ = new ServerProcess(o);
    ASSERT_TRUE(server_->Start());
    g_admin_token = server_->admin_token();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "server did not stop cleanly:\n" << server_->log();
    delete server_;
  }
  void TearDown() override {
    // After every case: the server is alive and serves a normal client.
    ClientOptions o;
    o.port = server_->port();
    o.token = server_->admin_token();
    auto client = Client::Connect(o);
    ASSERT_TRUE(client.ok()) << client.status().ToString() << "\n" << server_->log();
    std::string key =
        "alive/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE((*client)->Put(key, "still serving", {.overwrite = true}).ok());
    auto v = (*client)->Get(key);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, "still serving");
  }
  static ServerProcess* server_;
};
ServerProcess* BadInput::server_ = nullptr;

TEST_F(BadInput, GarbageBytesGetUnsupportedAndClose) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.connected());
  std::mt19937 rng(7);
  std::string junk(4096, '\0');
  for (char& ch : junk) ch = static_cast<char>(rng());
  c.Send(junk);
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kUnsupported);
  EXPECT_EQ(r->header.request_id, 0u);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(BadInput, HttpRequestIsRefused) {
  RawConn c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kUnsupported);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(BadInput, WrongVersionGetsUnsupportedAndClose) {
  RawConn c(server_->port());
  FrameHeader h;
  h.version = 99;
  h.opcode = Opcode::kHello;
  auto head = protocol::EncodeHeader(h);
  c.Send(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kUnsupported);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(BadInput, UnknownOpcodeIsAnsweredAndConnectionStaysUsable) {
  RawConn c(server_->port());
  c.Hello(g_admin_token);
  FrameHeader h;
  h.opcode = static_cast<Opcode>(200);
  h.request_id = 77;
  h.body_len = 5;
  auto head = protocol::EncodeHeader(h);
  c.Send(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
  c.Send("hello");
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kUnsupported);
  EXPECT_EQ(r->header.request_id, 77u);
  c.SendFrame(Opcode::kExists, protocol::EncodeKey("nope"));
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kNotFound);
}

// End-to-end integrity: a value whose bytes do not match the checksum sent
// with it (kFlagChecksum) is refused and nothing is stored.
TEST_F(BadInput, ValuesThatDoNotMatchTheirChecksumAreNotStored) {
  RawConn c(server_->port());
  c.Hello(g_admin_token);
  const std::string value = "bytes as the client computed them";
  const uint64_t sum = Xxh3(value.data(), value.size());
  auto put = [&](const std::string& key, uint64_t xxh3, const std::string& v) {
    std::string body = protocol::EncodeKey(key) + protocol::EncodeU64(xxh3) + v;
    c.SendFrame(Opcode::kPut, body, protocol::kFlagChecksum);
    auto r = c.ReadReply();
    return r ? r->header.status : StatusCode::kUnavailable;
  };
  auto exists = [&](const std::string& key) {
    c.SendFrame(Opcode::kExists, protocol::EncodeKey(key));
    auto r = c.ReadReply();
    return r ? r->header.status : StatusCode::kUnavailable;
  };
  std::string damaged = value;
  damaged[3] ^= 0x20;
  EXPECT_EQ(put("sum/damaged", sum, damaged), StatusCode::kCorrupt);
  EXPECT_EQ(exists("sum/damaged"), StatusCode::kNotFound);
  EXPECT_EQ(put("sum/wrong-sum", sum + 1, value), StatusCode::kCorrupt);
  EXPECT_EQ(exists("sum/wrong-sum"), StatusCode::kNotFound);
  // A large value is hashed while it is received: the same check.
  const std::string big(3 << 20, 'v');
  EXPECT_EQ(put("sum/big", Xxh3(big.data(), big.size()) ^ 1, big), StatusCode::kCorrupt);
  EXPECT_EQ(exists("sum/big"), StatusCode::kNotFound);
  EXPECT_EQ(put("sum/big", Xxh3(big.data(), big.size()), big), StatusCode::kOk);
  EXPECT_EQ(put("sum/ok", sum, value), StatusCode::kOk);
  c.SendFrame(Opcode::kGet, protocol::EncodeKey("sum/ok"));
  auto got = c.ReadReply();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->header.status, StatusCode::kOk);
  EXPECT_EQ(got->body, protocol::EncodeU64(sum) + value);  // the stored checksum, then the bytes

  // BATCH_PUT: one checksum per item, one status per item.
  std::string body;
  const uint32_t count = 3;
  body.append(reinterpret_cast<const char*>(&count), 4);
  body += protocol::EncodeBatchPutItemHeader("sum/b0", value.size(), sum) + value;
  body += protocol::EncodeBatchPutItemHeader("sum/b1", damaged.size(), sum) + damaged;
  body += protocol::EncodeBatchPutItemHeader("sum/b2", value.size(), sum) + value;
  c.SendFrame(Opcode::kBatchPut, body, protocol::kFlagChecksum);
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->header.status, StatusCode::kOk);
  auto codes = protocol::DecodeStatusList(r->body);
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(*codes,
            (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kCorrupt, StatusCode::kOk}));
  EXPECT_EQ(exists("sum/b1"), StatusCode::kNotFound);

  // A PUT too short to hold its checksum: INVALID, and the connection goes on.
  c.SendFrame(Opcode::kPut, protocol::EncodeKey("sum/short") + "1234", protocol::kFlagChecksum);
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  EXPECT_EQ(exists("sum/ok"), StatusCode::kOk);
}

TEST_F(BadInput, RequestBeforeHelloIsInvalid) {
  RawConn c(server_->port());
  c.SendFrame(Opcode::kGet, protocol::EncodeKey("k"));
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
}

TEST_F(BadInput, HugeLengthIsRefusedWithoutAllocating) {
  // 1 TiB PUT and 1 PiB GET bodies: refused from the header alone.
  for (Opcode op : {Opcode::kPut, Opcode::kGet, Opcode::kBatchPut}) {
    RawConn c(server_->port());
    c.Hello(g_admin_token);
    c.SendFrame(op, "", 0, op == Opcode::kPut ? (1ull << 40) : (1ull << 50));
    auto r = c.ReadReply();
    ASSERT_TRUE(r.has_value()) << protocol::OpcodeName(op);
    EXPECT_EQ(r->header.status, StatusCode::kTooLarge) << protocol::OpcodeName(op);
    EXPECT_TRUE(c.ClosedByPeer());
  }
}

TEST_F(BadInput, MalformedBodiesAreInvalidAndConnectionStaysUsable) {
  RawConn c(server_->port());
  c.Hello(g_admin_token);
  // key_len says 300 but the body holds 3 bytes.
  std::string bad_key(
      "\x2c\x01"
      "abc",
      5);
  c.SendFrame(Opcode::kGet, bad_key);
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  // Empty key.
  c.SendFrame(Opcode::kExists, std::string("\0\0", 2));
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  // Key list with a count larger than the body.
  c.SendFrame(Opcode::kMatchPrefix, std::string("\xff\x00\x00\x00", 4));
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->header.status, StatusCode::kOk);
  // PUT whose key length runs past the body.
  c.SendFrame(Opcode::kPut, std::string("\x10\x00"
                                        "ab",
                                        4));
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  // Unknown flag bits.
  c.SendFrame(Opcode::kExists, protocol::EncodeKey("k"), 0x8000);
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  // Still usable.
  c.SendFrame(Opcode::kExists, protocol::EncodeKey("k"));
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kNotFound);
}

TEST_F(BadInput, NamespaceFieldsOfTheWrongTypeAreInvalid) {
  RawConn c(server_->port());
  c.Hello(g_admin_token);
  const std::vector<std::string> bodies = {
      R"({"name":"typed","encryption_key":7})",
      R"({"name":"typed","encryption_key":null})",
      R"({"name":"typed","priority":"4"})",
      R"({"name":"typed","require_model_fingerprint":1})",
      // Longer than any key name (64 bytes): refused before it is looked up.
      R"({"name":"typed","encryption_key":")" + std::string(65, 'k') + "\"}",
      // No such key loaded.
      R"({"name":"typed","encryption_key":"nope"})",
  };
  for (const std::string& body : bodies) {
    c.SendFrame(Opcode::kNsCreate, body);
    auto r = c.ReadReply();
    ASSERT_TRUE(r.has_value()) << body;
    EXPECT_EQ(r->header.status, StatusCode::kInvalid) << body << ": " << r->body;
    if (body.find(std::string(65, 'k')) != std::string::npos) {
      EXPECT_NE(r->body.find("at most 64 bytes"), std::string::npos) << r->body;
    }
  }
  c.SendFrame(Opcode::kNsList, "");
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->header.status, StatusCode::kOk);
  EXPECT_EQ(r->body.find("typed"), std::string::npos) << "a refused NS_CREATE created: " << r->body;
}

TEST_F(BadInput, BatchPutItemWithoutItsLengthStoresNothing) {
  RawConn c(server_->port());
  c.Hello(g_admin_token);
  uint32_t count = 1;
  // One item: a key, then the body ends where its u64 value length should be.
  c.SendFrame(Opcode::kBatchPut,
              std::string(reinterpret_cast<const char*>(&count), 4) + protocol::EncodeKey("nolen"));
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid);
  c.SendFrame(Opcode::kExists, protocol::EncodeKey("nolen"));
  r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kNotFound) << "an empty value was stored";
}

TEST_F(BadInput, BatchOverTheLimit) {
  std::vector<std::string> keys(65, "k");
  {
    RawConn c(server_->port());
    c.Hello(g_admin_token);
    c.SendFrame(Opcode::kBatchExists, protocol::EncodeKeyList(keys));
    auto r = c.ReadReply();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->header.status, StatusCode::kTooLarge);
  }
  {
    RawConn c(server_->port());
    c.Hello(g_admin_token);
    uint32_t count = 65;
    c.SendFrame(Opcode::kBatchPut, std::string(reinterpret_cast<const char*>(&count), 4) + "xxxx");
    auto r = c.ReadReply();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->header.status, StatusCode::kTooLarge);
    EXPECT_TRUE(c.ClosedByPeer());
  }
}

TEST_F(BadInput, TruncatedFramesAndAbruptCloses) {
  for (int cut : {1, 10, 31, 40}) {
    RawConn c(server_->port());
    c.Hello(g_admin_token);
    std::string put = protocol::EncodeKey("trunc") + std::string(100, 'v');
    FrameHeader h;
    h.opcode = Opcode::kPut;
    h.body_len = put.size();
    auto head = protocol::EncodeHeader(h);
    std::string frame(reinterpret_cast<const char*>(head.data()), head.size());
    frame += put;
    c.Send(frame.substr(0, static_cast<size_t>(cut)));
  }  // closed mid-frame
  ClientOptions o;
  o.port = server_->port();
  o.token = server_->admin_token();
  auto client = Client::Connect(o);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Exists("trunc").status().code(), StatusCode::kNotFound)
      << "a partial value became visible";
}

// A second HELLO may move a connection to another namespace; the leases it
// took in the first one end then, rather than hold their objects (and the
// namespace's max_leased_objects) until they run out.
TEST_F(BadInput, HelloIntoAnotherNamespaceEndsTheConnectionsLeases) {
  ClientOptions o;
  o.port = server_->port();
  o.token = server_->admin_token();
  o.namespace_name = "lease-moves";
  o.max_idle_connections = 1;
  {
    auto admin = Client::Connect(ClientOptions{.port = o.port, .token = o.token});
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)->CreateNamespace("lease-moves", {.max_leased_objects = 1}).ok());
  }
  auto client = Client::Connect(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Put("k", "v").ok());

  RawConn c(server_->port());
  c.Hello(g_admin_token, "lease-moves");
  std::string body(sizeof(uint64_t), '\0');
  const uint64_t lease_ms = 60'000;
  std::memcpy(body.data(), &lease_ms, sizeof(lease_ms));  // little-endian, as the wire
  const std::vector<std::string> keys = {"k"};
  body += protocol::EncodeKeyList(keys);
  c.SendFrame(Opcode::kMatchPrefix, body, protocol::kFlagExt);
  auto r = c.ReadReply();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->header.status, StatusCode::kOk);
  EXPECT_EQ((*client)->MatchPrefixLease(keys, 60'000).status().code(), StatusCode::kBusy)
      << "the raw connection holds the namespace's one leased object";

  c.Hello(g_admin_token, "default");
  auto leased = (*client)->MatchPrefixLease(keys, 60'000);
  EXPECT_TRUE(leased.ok()) << leased.status().ToString();
}

TEST_F(BadInput, IdleConnectionIsClosed) {
  RawConn c(server_->port());
  c.Hello(g_admin_token);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ClosedByPeer(10000));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(1500));
}

// Junk from many connections at once: every one of them is closed by the
// server, none is left hanging, and the server goes on serving (TearDown).
// Junk of a header's length or more with a bad magic or version gets one
// UNSUPPORTED reply and the close right after it (a server that read on
// would answer again); shorter junk waits for the rest of its header until
// the idle timeout (2 s).
TEST_F(BadInput, ManyHostileClientsAtOnce) {
  constexpr int kClients = 32;
  std::atomic<int> closed{0}, refusals_due{0}, refused_once{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([t, &closed, &refusals_due, &refused_once] {
      std::mt19937 rng(static_cast<unsigned>(t));
      RawConn c(server_->port());
      std::string junk(1 + rng() % 2000, '\0');
      for (char& ch : junk) ch = static_cast<char>(rng());
      if (t % 2 == 0) junk.replace(0, 4, "CTXS");  // valid magic, garbage after
      const bool refusal_due = junk.size() >= protocol::kHeaderSize &&
                               (t % 2 == 1 || static_cast<uint8_t>(junk[4]) != protocol::kVersion);
      c.Send(junk);
      std::optional<RawConn::Reply> reply;
      if (refusal_due) {
        refusals_due++;
        reply = c.ReadReply(10000);
      }
      size_t after = 0;
      if (!c.DrainUntilClosed(10000, &after)) return;
      closed++;
      if (reply && reply->header.status == StatusCode::kUnsupported && after == 0) refused_once++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(closed.load(), kClients) << "connections the server left open";
  EXPECT_GT(refusals_due.load(), kClients / 2);
  EXPECT_EQ(refused_once.load(), refusals_due.load())
      << "junk answered other than once with UNSUPPORTED before the close";
}

// Limits against abuse, each with a server of its own.

// A slowloris sender: the frame's bytes trickle in, each well within the
// idle timeout, but the frame as a whole takes longer than --frame-timeout.
// The server closes it at the frame timeout: not before, and not at the
// idle or hello timeouts (30 s here) either. The bound is the timeout plus
// the watchdog's tick and a margin for a loaded machine.
TEST(Limits, SlowClientIsClosed) {
  constexpr int64_t kFrameTimeoutMs = 1000;
  constexpr int64_t kMarginMs = 2000;
  testing::ServerOptions o;
  o.extra_args = {"--frame-timeout", "1s", "--idle-timeout", "30s", "--hello-timeout", "30s"};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  RawConn c(server.port());
  c.Hello(server.admin_token());
  FrameHeader h;
  h.opcode = Opcode::kPut;
  h.body_len = 1 << 20;
  auto head = protocol::EncodeHeader(h);
  testing::Stopwatch frame;
  c.Send(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
  c.Send(protocol::EncodeKey("slow"));
  // Dribble a byte every 100 ms: the frame never completes.
  bool closed = false;
  while (!closed && frame.ElapsedMs() < 3 * (kFrameTimeoutMs + kMarginMs)) {
    c.Send("x");
    closed = c.ClosedByPeer(100);
  }
  const int64_t waited_ms = frame.ElapsedMs();
  ASSERT_TRUE(closed) << "still open after " << waited_ms << " ms";
  EXPECT_GE(waited_ms, kFrameTimeoutMs) << "closed before the frame timeout";
  EXPECT_LE(waited_ms, kFrameTimeoutMs + kMarginMs) << "closed long after the frame timeout";
  StopAndReport(server);
  EXPECT_NE(server.log().find("closing connection: frame timeout"), std::string::npos)
      << server.log();
}

TEST(Limits, ConnectionsThatNeverAuthenticateAreClosedSoon) {
  testing::ServerOptions o;
  o.extra_args = {"--hello-timeout", "400ms", "--idle-timeout", "60s", "--frame-timeout", "60s"};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  RawConn silent(server.port());
  ASSERT_TRUE(silent.connected());
  RawConn authenticated(server.port());
  authenticated.Hello(server.admin_token());
  // Half a frame header, then nothing: the frame timeout is a minute, but
  // the connection has not said HELLO.
  RawConn stalled(server.port());
  stalled.Send(std::string(8, '\0'));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedByPeer(5000));
  EXPECT_TRUE(stalled.ClosedByPeer(5000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  // After a HELLO, only the idle timeout applies.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  authenticated.SendFrame(Opcode::kExists, protocol::EncodeKey("nothing"));
  auto r = authenticated.ReadReply(2000);
  ASSERT_TRUE(r.has_value()) << "an authenticated connection outlives the HELLO timeout";
  EXPECT_EQ(r->header.status, StatusCode::kNotFound);
  StopAndReport(server);
  EXPECT_NE(server.log().find("hello timeout"), std::string::npos) << server.log();
}

TEST(Limits, ConnectionsPastTheMaximumAreClosed) {
  testing::ServerOptions o;
  o.extra_args = {"--max-connections", "3"};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  const std::string token = server.admin_token();
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(std::make_unique<RawConn>(server.port()));
    conns.back()->Hello(token);
  }
  RawConn extra(server.port());
  EXPECT_TRUE(extra.ClosedByPeer(3000)) << "a fourth connection is refused";
  // A slot freed is a slot usable again (the count drops once the server
  // has seen the close).
  conns.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    RawConn again(server.port());
    again.SendFrame(Opcode::kHello, protocol::EncodeHelloRequest({.token = token}));
    auto r = again.ReadReply(1000);
    served = r.has_value() && r->header.status == StatusCode::kOk;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
  conns.clear();
  StopAndReport(server);
  EXPECT_NE(server.log().find("refusing connection"), std::string::npos);
}

TEST(Limits, SlowSendersCannotHoldMoreThanTheInflightBudget) {
  testing::ServerOptions o;
  o.extra_args = {"--max-inflight", "1MiB", "--frame-timeout", "30s"};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  ClientOptions co;
  co.port = server.port();
  co.token = server.admin_token();
  auto client = Client::Connect(co);
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  // A slow sender: 900 KiB announced, half of it sent.
  RawConn slow(server.port());
  slow.Hello(server.admin_token());
  const std::string value(900 << 10, 's');
  const std::string key = protocol::EncodeKey("slow");
  FrameHeader h;
  h.opcode = Opcode::kPut;
  h.request_id = 1;
  h.body_len = key.size() + value.size();
  auto head = protocol::EncodeHeader(h);
  slow.Send(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
  slow.Send(key);
  slow.Send(std::string_view(value).substr(0, value.size() / 2));

  // What fits beside it goes through; what does not answers BUSY, stores
  // nothing, and the connection goes on.
  auto inflight = [&] {
    auto stats = (*client)->StatsJson();
    return stats.ok() ? nlohmann::json::parse(*stats).at("inflight_bytes").get<uint64_t>() : 0;
  };
  for (int attempt = 0; attempt < 200 && inflight() < value.size(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(inflight(), value.size()) << "the server holds the slow PUT's reservation";
  const std::string big(200 << 10, 'b');
  Status st = (*client)->Put("big", big);
  EXPECT_EQ(st.code(), StatusCode::kBusy) << st.ToString();
  EXPECT_EQ((*client)->Exists("big").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE((*client)->Put("small", std::string(10 << 10, 'x')).ok());

  // Once the slow PUT completes, the budget is free again.
  slow.Send(std::string_view(value).substr(value.size() / 2));
  auto r = slow.ReadReply(10000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kOk);
  EXPECT_TRUE((*client)->Put("big", big).ok());
  auto stats = (*client)->StatsJson();
  ASSERT_TRUE(stats.ok());
  auto j = nlohmann::json::parse(*stats);
  EXPECT_GE(j.at("inflight_refused").get<uint64_t>(), 1u) << *stats;
  EXPECT_EQ(j.at("inflight_bytes").get<uint64_t>(), 0u) << *stats;
  StopAndReport(server);
}

}  // namespace
}  // namespace ctxstore
