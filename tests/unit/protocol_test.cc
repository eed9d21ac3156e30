#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace ctxstore::protocol {
namespace {

DecodedHeader Decode(const HeaderBytes& b) {
  return DecodeHeader(std::span<const uint8_t, kHeaderSize>(b));
}

TEST(FrameTest, HeaderRoundTrip) {
  FrameHeader h;
  h.opcode = Opcode::kBatchGet;
  h.flags = kFlagSync | kFlagOverwrite;
  h.request_id = 0x0123456789abcdefull;
  h.body_len = 0xfedcba9876543210ull;
  h.status = StatusCode::kCorrupt;
  HeaderBytes b = EncodeHeader(h);
  // The wire layout is fixed: magic spells CTXS, reserved bytes are zero.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 4), "CTXS");
  EXPECT_EQ(b[4], kVersion);
  EXPECT_EQ(b[5], static_cast<uint8_t>(Opcode::kBatchGet));
  EXPECT_EQ(b[8], 0xef);  // little-endian request_id
  EXPECT_EQ(b[24], static_cast<uint8_t>(StatusCode::kCorrupt));
  for (size_t i = 26; i < kHeaderSize; ++i) EXPECT_EQ(b[i], 0) << i;

  DecodedHeader d = Decode(b);
  EXPECT_EQ(d.error, HeaderError::kNone);
  EXPECT_EQ(d.raw_opcode, static_cast<uint8_t>(Opcode::kBatchGet));
  EXPECT_EQ(d.header.magic, kMagic);
  EXPECT_EQ(d.header.version, kVersion);
  EXPECT_EQ(d.header.opcode, Opcode::kBatchGet);
  EXPECT_EQ(d.header.flags, h.flags);
  EXPECT_EQ(d.header.request_id, h.request_id);
  EXPECT_EQ(d.header.body_len, h.body_len);
  EXPECT_EQ(d.header.status, StatusCode::kCorrupt);
}

TEST(FrameTest, EveryKnownOpcodeRoundTrips) {
  for (uint8_t op = 1; op <= 11; ++op) {
    FrameHeader h;
    h.opcode = static_cast<Opcode>(op);
    DecodedHeader d = Decode(EncodeHeader(h));
    EXPECT_EQ(d.error, HeaderError::kNone) << int(op);
    EXPECT_EQ(d.header.opcode, h.opcode);
    EXPECT_NE(OpcodeName(h.opcode), "UNKNOWN");
  }
}

TEST(FrameTest, DetectsBadMagicVersionAndOpcode) {
  FrameHeader h;
  h.opcode = Opcode::kGet;
  HeaderBytes good = EncodeHeader(h);

  HeaderBytes bad_magic = good;
  bad_magic[0] ^= 0xff;
  bad_magic[4] = 9;  // magic is checked first: framing is lost
  EXPECT_EQ(Decode(bad_magic).error, HeaderError::kBadMagic);

  HeaderBytes bad_version = good;
  bad_version[4] = kVersion + 1;
  bad_version[5] = 200;
  EXPECT_EQ(Decode(bad_version).error, HeaderError::kBadVersion);

  for (uint8_t op : {uint8_t{0}, uint8_t{12}, uint8_t{255}}) {
    HeaderBytes bad_op = good;
    bad_op[5] = op;
    DecodedHeader d = Decode(bad_op);
    EXPECT_EQ(d.error, HeaderError::kUnknownOpcode) << int(op);
    EXPECT_EQ(d.raw_opcode, op);
    EXPECT_FALSE(IsKnownOpcode(op));
  }
}

TEST(FrameTest, CheckBodyLengthPerOpcode) {
  Limits limits;
  limits.max_value_bytes = 1000;
  limits.max_batch_bytes = 50000;
  limits.max_small_body_bytes = 300;
  auto check = [&limits](Opcode op, uint64_t len) {
    FrameHeader h;
    h.opcode = op;
    h.body_len = len;
    return CheckBodyLength(h, limits).code();
  };
  // PUT: key prefix plus the largest value.
  const uint64_t put_max = 2 + kMaxKeyBytes + 1000;
  EXPECT_EQ(check(Opcode::kPut, put_max), StatusCode::kOk);
  EXPECT_EQ(check(Opcode::kPut, put_max + 1), StatusCode::kTooLarge);
  EXPECT_EQ(check(Opcode::kBatchPut, 50000), StatusCode::kOk);
  EXPECT_EQ(check(Opcode::kBatchPut, 50001), StatusCode::kTooLarge);
  for (Opcode op :
       {Opcode::kHello, Opcode::kGet, Opcode::kExists, Opcode::kDelete, Opcode::kBatchGet,
        Opcode::kBatchExists, Opcode::kMatchPrefix, Opcode::kFlush, Opcode::kStats}) {
    EXPECT_EQ(check(op, 300), StatusCode::kOk) << OpcodeName(op);
    EXPECT_EQ(check(op, 301), StatusCode::kTooLarge) << OpcodeName(op);
  }
  EXPECT_EQ(check(Opcode::kGet, UINT64_MAX), StatusCode::kTooLarge);
}

TEST(FrameTest, ValidateKey) {
  EXPECT_EQ(ValidateKey("").code(), StatusCode::kInvalid);
  EXPECT_TRUE(ValidateKey("k").ok());
  EXPECT_TRUE(ValidateKey(std::string(512, 'k')).ok());
  EXPECT_EQ(ValidateKey(std::string(513, 'k')).code(), StatusCode::kTooLarge);
  EXPECT_TRUE(ValidateKey(std::string("\0\xff", 2)).ok());  // keys are any bytes
}

TEST(MessagesTest, KeyRoundTrip) {
  std::string body = EncodeKey("chunk/42");
  EXPECT_EQ(body.size(), PutPrefixSize("chunk/42"));
  auto k = DecodeKey(body);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, "chunk/42");
  EXPECT_EQ(DecodeKey(body + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeKey(body.substr(0, body.size() - 1)).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeKey(EncodeKey("")).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeKey(EncodeKey(std::string(513, 'k'))).status().code(), StatusCode::kTooLarge);
}

TEST(MessagesTest, KeyListRoundTrip) {
  std::vector<std::string> keys = {"a", std::string(512, 'b'), std::string("\0c", 2)};
  std::string body = EncodeKeyList(std::span<const std::string>(keys));
  auto decoded = DecodeKeyList(body, 3);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 3u);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*decoded)[i], keys[i]);

  std::vector<std::string_view> views = {"x", "yz"};
  std::string body2 = EncodeKeyList(std::span<const std::string_view>(views));
  auto d2 = DecodeKeyList(body2, 10);  // views into body2
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(*d2, views);

  auto empty = DecodeKeyList(EncodeKeyList(std::span<const std::string_view>()), 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(MessagesTest, KeyListRejectsBadBodies) {
  std::vector<std::string_view> keys = {"one", "two"};
  std::string body = EncodeKeyList(std::span<const std::string_view>(keys));
  EXPECT_EQ(DecodeKeyList(body + "!", 10).status().code(), StatusCode::kInvalid);  // trailing
  EXPECT_EQ(DecodeKeyList(body, 1).status().code(), StatusCode::kTooLarge);        // too many keys
  EXPECT_EQ(DecodeKeyList(body.substr(0, body.size() - 1), 10).status().code(),
            StatusCode::kInvalid);  // truncated
  EXPECT_EQ(DecodeKeyList("", 10).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeKeyList("\x01\x00", 10).status().code(), StatusCode::kInvalid);

  // A count far beyond what the body can hold fails before allocating.
  std::string huge;
  ByteWriter w(&huge);
  w.Put(uint32_t{1000});
  w.PutShortString("k");
  EXPECT_EQ(DecodeKeyList(huge, 5000).status().code(), StatusCode::kInvalid);

  std::vector<std::string> empty_key = {"a", ""};
  EXPECT_EQ(
      DecodeKeyList(EncodeKeyList(std::span<const std::string>(empty_key)), 10).status().code(),
      StatusCode::kInvalid);
  std::vector<std::string> long_key = {std::string(513, 'x')};
  EXPECT_EQ(
      DecodeKeyList(EncodeKeyList(std::span<const std::string>(long_key)), 10).status().code(),
      StatusCode::kTooLarge);
}

TEST(MessagesTest, HelloRoundTrip) {
  HelloRequest req;
  req.client_name = "vllm-worker-3";
  auto r = DecodeHelloRequest(EncodeHelloRequest(req));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, kVersion);
  EXPECT_EQ(r->client_name, "vllm-worker-3");
  EXPECT_EQ(DecodeHelloRequest(EncodeHelloRequest(req) + "x").status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(DecodeHelloRequest("\x01").status().code(), StatusCode::kInvalid);

  HelloReply rep;
  rep.max_value_bytes = 256ull << 20;
  rep.max_batch_keys = 1024;
  rep.max_batch_bytes = 1ull << 30;
  rep.server_version = "ctxstore 0.1.0";
  std::string body = EncodeHelloReply(rep);
  auto d = DecodeHelloReply(body);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->version, kVersion);
  EXPECT_EQ(d->max_value_bytes, rep.max_value_bytes);
  EXPECT_EQ(d->max_batch_keys, rep.max_batch_keys);
  EXPECT_EQ(d->max_batch_bytes, rep.max_batch_bytes);
  EXPECT_EQ(d->server_version, rep.server_version);
  EXPECT_EQ(DecodeHelloReply(body.substr(0, 10)).status().code(), StatusCode::kInvalid);
}

TEST(MessagesTest, StatusListRoundTrip) {
  std::vector<StatusCode> codes = {StatusCode::kOk, StatusCode::kExists, StatusCode::kNoSpace,
                                   StatusCode::kIoError};
  std::string body = EncodeStatusList(codes);
  EXPECT_EQ(body.size(), 4 + 2 * codes.size());
  auto d = DecodeStatusList(body);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, codes);
  EXPECT_EQ(DecodeStatusList(body + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeStatusList(body.substr(0, body.size() - 1)).status().code(),
            StatusCode::kInvalid);
  auto none = DecodeStatusList(EncodeStatusList({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(MessagesTest, BatchGetItemHeaderRoundTrip) {
  std::string enc =
      EncodeBatchGetItemHeader(StatusCode::kNotFound, 123456789012ull, 0xdeadbeefcafef00dull);
  ASSERT_EQ(enc.size(), kBatchGetItemHeaderSize);
  std::span<const uint8_t, kBatchGetItemHeaderSize> bytes(
      reinterpret_cast<const uint8_t*>(enc.data()), kBatchGetItemHeaderSize);
  BatchGetItemHeader h = DecodeBatchGetItemHeader(bytes);
  EXPECT_EQ(h.status, StatusCode::kNotFound);
  EXPECT_EQ(h.value_len, 123456789012ull);
  EXPECT_EQ(h.xxh3, 0xdeadbeefcafef00dull);
}

TEST(MessagesTest, BatchPutItemHeaderLayout) {
  std::string enc = EncodeBatchPutItemHeader("key1", 4096);
  ASSERT_EQ(enc.size(), 2 + 4 + 8u);
  ByteReader r(enc);
  EXPECT_EQ(r.GetShortString(), "key1");
  EXPECT_EQ(r.Get<uint64_t>(), 4096u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(MessagesTest, ByteReaderFailsOnOverrun) {
  ByteReader r(std::string_view("\x05\x00ab", 4));
  EXPECT_EQ(r.GetShortString(), "");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.Get<uint32_t>(), 0u);
}

}  // namespace
}  // namespace ctxstore::protocol
