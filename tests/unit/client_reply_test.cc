// The client's reply decoding (client/reply.h) on hand-made headers and
// bodies: a reply must answer the request it is read for, an error reply
// becomes the Status it names (an unknown code as kInternal), and a HELLO
// reply of another protocol version is refused.
#include "client/reply.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/messages.h"

namespace ctxstore::client {
namespace {

using protocol::FrameHeader;
using protocol::Opcode;

protocol::HeaderBytes Reply(Opcode op, uint64_t request_id, StatusCode status) {
  FrameHeader h;
  h.opcode = op;
  h.request_id = request_id;
  h.status = status;
  h.body_len = 5;
  return protocol::EncodeHeader(h);
}

TEST(ClientReplyTest, AReplyMustAnswerItsRequest) {
  auto ok = DecodeReplyHeader(Reply(Opcode::kGet, 7, StatusCode::kNotFound), Opcode::kGet, 7);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, StatusCode::kNotFound);
  EXPECT_EQ(ok->body_len, 5u);

  auto other_id = DecodeReplyHeader(Reply(Opcode::kGet, 8, StatusCode::kOk), Opcode::kGet, 7);
  EXPECT_EQ(other_id.status().code(), StatusCode::kInternal);
  EXPECT_NE(other_id.status().message().find("request_id 8"), std::string::npos);
  auto other_op = DecodeReplyHeader(Reply(Opcode::kPut, 7, StatusCode::kOk), Opcode::kGet, 7);
  EXPECT_EQ(other_op.status().code(), StatusCode::kInternal);

  protocol::HeaderBytes bad_magic = Reply(Opcode::kGet, 7, StatusCode::kOk);
  bad_magic[0] ^= 1;
  EXPECT_EQ(DecodeReplyHeader(bad_magic, Opcode::kGet, 7).status().code(), StatusCode::kInternal);
  protocol::HeaderBytes bad_version = Reply(Opcode::kGet, 7, StatusCode::kOk);
  bad_version[4] = 2;
  auto v = DecodeReplyHeader(bad_version, Opcode::kGet, 7);
  EXPECT_NE(v.status().message().find("protocol version 2"), std::string::npos);
}

TEST(ClientReplyTest, AnErrorReplyIsItsStatus) {
  FrameHeader h;
  h.status = StatusCode::kNoSpace;
  h.body_len = 4;
  Status st = DecodeErrorReply(h, "full");
  EXPECT_EQ(st.code(), StatusCode::kNoSpace);
  EXPECT_EQ(st.message(), "full");
  EXPECT_TRUE(ReusableAfterError(h));

  h.status = StatusCode::kKeyUnavailable;
  EXPECT_EQ(DecodeErrorReply(h, "k").code(), StatusCode::kKeyUnavailable);

  h.status = static_cast<StatusCode>(400);  // from a newer (or broken) server
  st = DecodeErrorReply(h, "what");
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(st.message(), "unknown status 400: what");

  h.status = StatusCode::kTooLarge;
  h.body_len = kMaxErrorBodyBytes + 1;
  st = DecodeErrorReply(h, std::nullopt);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
  EXPECT_NE(st.message().find(std::to_string(kMaxErrorBodyBytes + 1) + "-byte"),
            std::string::npos);
  EXPECT_FALSE(ReusableAfterError(h)) << "the server closes after TOO_LARGE";
  h.status = StatusCode::kUnsupported;
  EXPECT_FALSE(ReusableAfterError(h));

  h.status = StatusCode::kOk;
  EXPECT_EQ(DecodeErrorReply(h, "").code(), StatusCode::kInternal) << "never read as success";
}

TEST(ClientReplyTest, HelloReplyGivesTheServersLimits) {
  protocol::HelloReply reply;
  reply.max_value_bytes = 1 << 20;
  reply.max_batch_keys = 17;
  reply.max_batch_bytes = 1 << 24;
  reply.server_version = "ctxstore test";
  auto info = DecodeHelloInfo(protocol::EncodeHelloReply(reply));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->protocol_version, protocol::kVersion);
  EXPECT_EQ(info->max_value_bytes, 1u << 20);
  EXPECT_EQ(info->max_batch_keys, 17u);
  EXPECT_EQ(info->max_batch_bytes, 1u << 24);
  EXPECT_EQ(info->server_version, "ctxstore test");

  reply.version = protocol::kVersion + 1;
  EXPECT_EQ(DecodeHelloInfo(protocol::EncodeHelloReply(reply)).status().code(),
            StatusCode::kUnsupported);
  std::string truncated = protocol::EncodeHelloReply(reply).substr(0, 5);
  EXPECT_EQ(DecodeHelloInfo(truncated).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace ctxstore::client
