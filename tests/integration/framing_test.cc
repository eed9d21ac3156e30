// Requests arrive split and joined in any way TCP allows: several frames in
// one segment (a pipelining client), a frame dribbled in pieces of a few
// bytes, a PUT whose header, prefix and first value bytes come together. The
// server reads small pieces through a read-ahead buffer and large values
// straight into the arena (server/read_ahead.h); whatever the split, every
// request gets its own answer, in order, and every value is stored byte for
// byte.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/put_body.h"
#include "protocol/read_ops.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using protocol::Opcode;
using testing::RawConn;
using testing::ServerProcess;

class Framing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(testing::ServerOptions{});
    ASSERT_TRUE(server_->Start());
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "server did not stop cleanly:\n" << server_->log();
    delete server_;
  }
  static ServerProcess* server_;
};
ServerProcess* Framing::server_ = nullptr;

// One encoded request frame.
std::string Frame(Opcode op, const std::string& body, uint64_t request_id) {
  protocol::FrameHeader h;
  h.opcode = op;
  h.request_id = request_id;
  h.body_len = body.size();
  const protocol::HeaderBytes head = protocol::EncodeHeader(h);
  return std::string(reinterpret_cast<const char*>(head.data()), head.size()) + body;
}

std::string Value(size_t size, uint32_t seed) {
  std::string v(size, '\0');
  std::mt19937 rng(seed);
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

// A pipeline of PUTs (values from 0 bytes to well past the read-ahead's
// size), GETs of each, and EXISTS of a missing key, with the replies it
// must get: (request id, status, the value a GET returns).
struct Pipeline {
  std::string bytes;
  struct Expect {
    uint64_t id;
    StatusCode status;
    std::optional<std::string> value;
  };
  std::vector<Expect> replies;
};

Pipeline MakePipeline(const std::string& prefix) {
  Pipeline p;
  uint64_t id = 100;
  const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 10000, 65536, 300000};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    const std::string key = prefix + std::to_string(i);
    const std::string value = Value(sizes[i], static_cast<uint32_t>(i + 1));
    p.bytes +=
        Frame(Opcode::kPut, protocol::EncodePutPrefix(key, std::nullopt, nullptr) + value, ++id);
    p.replies.push_back({id, StatusCode::kOk, std::nullopt});
    p.bytes += Frame(Opcode::kGet, protocol::EncodeKey(key), ++id);
    p.replies.push_back({id, StatusCode::kOk, value});
  }
  p.bytes += Frame(Opcode::kExists, protocol::EncodeKey(prefix + "missing"), ++id);
  p.replies.push_back({id, StatusCode::kNotFound, std::nullopt});
  return p;
}

void ExpectReplies(RawConn& conn, const Pipeline& p) {
  for (const Pipeline::Expect& want : p.replies) {
    auto r = conn.ReadReply(10000);
    ASSERT_TRUE(r.has_value()) << "no reply to request " << want.id;
    EXPECT_EQ(r->header.request_id, want.id);
    ASSERT_EQ(r->header.status, want.status) << "request " << want.id << ": " << r->body;
    if (want.value) {
      const size_t head = protocol::GetReplyHeadSize(false);
      ASSERT_EQ(r->body.size(), head + want.value->size()) << "request " << want.id;
      EXPECT_TRUE(r->body.compare(head, std::string::npos, *want.value) == 0)
          << "request " << want.id << ": value differs";
    }
  }
}

TEST_F(Framing, ManyRequestsInOneWriteAreEachAnsweredInOrder) {
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.connected());
  conn.Hello(server_->admin_token());
  const Pipeline p = MakePipeline("joined/");
  conn.Send(p.bytes);  // the server's replies fit its socket buffers meanwhile
  ExpectReplies(conn, p);
}

TEST_F(Framing, RequestsSplitAtEveryKindOfBoundaryAreReadWhole) {
  std::mt19937 rng(7);
  for (const int max_piece : {1, 7, 61, 4099}) {
    const Pipeline p = MakePipeline("split" + std::to_string(max_piece) + "/");
    RawConn conn(server_->port());
    ASSERT_TRUE(conn.connected());
    conn.Hello(server_->admin_token());
    // Pieces of 1..max_piece bytes, each its own send (TCP_NODELAY): the
    // server sees headers, prefixes and values cut anywhere. The 1-byte
    // pass is kept to the first requests: a byte per segment is slow.
    const size_t limit = max_piece == 1 ? 3000 : p.bytes.size();
    size_t at = 0;
    while (at < limit) {
      const size_t n = std::min<size_t>(1 + rng() % max_piece, p.bytes.size() - at);
      conn.Send(std::string_view(p.bytes).substr(at, n));
      at += n;
    }
    conn.Send(std::string_view(p.bytes).substr(at));
    ExpectReplies(conn, p);
  }
}

TEST_F(Framing, APutAndTheNextRequestInOneSegmentLeaveTheConnectionInStep) {
  // The read-ahead takes the PUT's header, prefix and the first bytes of
  // its value, and here also the start of the next frame: the value must
  // end where its length says and the next frame be read from there.
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.connected());
  conn.Hello(server_->admin_token());
  const std::string value = Value(2000, 99);
  std::string bytes =
      Frame(Opcode::kPut, protocol::EncodePutPrefix("step/a", std::nullopt, nullptr) + value, 1);
  bytes += Frame(Opcode::kGet, protocol::EncodeKey("step/a"), 2);
  bytes += Frame(Opcode::kExists, protocol::EncodeKey("step/a"), 3);
  conn.Send(bytes);
  Pipeline expect;
  expect.replies = {{1, StatusCode::kOk, std::nullopt},
                    {2, StatusCode::kOk, value},
                    {3, StatusCode::kOk, std::nullopt}};
  ExpectReplies(conn, expect);
}

}  // namespace
}  // namespace ctxstore
