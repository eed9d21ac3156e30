#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_io.h"
#include "protocol/admin_bodies.h"
#include "protocol/shm_bodies.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/namespace_bodies.h"
#include "protocol/put_body.h"
#include "protocol/read_ops.h"

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
  for (uint8_t op = 1; op <= 21; ++op) {
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

  for (uint8_t op : {uint8_t{0}, uint8_t{29}, uint8_t{255}}) {
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
  // PUT: key prefix, checksum, the largest put-options block, the largest value.
  const uint64_t put_max = 2 + kMaxKeyBytes + 8 + kMaxPutOptionsBytes + 1000;
  EXPECT_EQ(check(Opcode::kPut, put_max), StatusCode::kOk);
  EXPECT_EQ(check(Opcode::kPut, put_max + 1), StatusCode::kTooLarge);
  EXPECT_EQ(check(Opcode::kBatchPut, 50000), StatusCode::kOk);
  EXPECT_EQ(check(Opcode::kBatchPut, 50001), StatusCode::kTooLarge);
  for (Opcode op :
       {Opcode::kHello,     Opcode::kGet,         Opcode::kExists,      Opcode::kDelete,
        Opcode::kBatchGet,  Opcode::kBatchExists, Opcode::kMatchPrefix, Opcode::kFlush,
        Opcode::kStats,     Opcode::kRelease,     Opcode::kStat,        Opcode::kList,
        Opcode::kPin,       Opcode::kUnpin,       Opcode::kDeleteGroup, Opcode::kNsCreate,
        Opcode::kNsSet,     Opcode::kNsList,      Opcode::kNsDelete,    Opcode::kTokenCreate,
        Opcode::kTokenList, Opcode::kTokenRevoke, Opcode::kShmRegister, Opcode::kShmUnregister,
        Opcode::kShmPut,    Opcode::kShmGet}) {
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

TEST(MessagesTest, HelloCarriesATokenAfterTheNamespace) {
  HelloRequest req;
  req.client_name = "c";
  req.token = "ctx_0123456789abcdef_secret";
  // Without a namespace, an empty one is sent so that the token has its place.
  auto r = DecodeHelloRequest(EncodeHelloRequest(req));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->namespace_name, "");
  EXPECT_EQ(r->token, req.token);
  req.namespace_name = "tenant-a";
  r = DecodeHelloRequest(EncodeHelloRequest(req));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->namespace_name, "tenant-a");
  EXPECT_EQ(r->token, req.token);
  std::string body = EncodeHelloRequest(req);
  EXPECT_EQ(DecodeHelloRequest(body.substr(0, body.size() - 1)).status().code(),
            StatusCode::kInvalid);
}

TEST(MessagesTest, HelloNamespaceIsOptional) {
  HelloRequest req;
  req.client_name = "w";
  // No namespace: the pre-namespace encoding, byte for byte.
  std::string old_body = EncodeHelloRequest(req);
  EXPECT_EQ(old_body.size(), 2 + 2 + 1u);
  auto d = DecodeHelloRequest(old_body);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->namespace_name, "");

  req.namespace_name = "tenant-a";
  std::string body = EncodeHelloRequest(req);
  EXPECT_EQ(body, old_body + EncodeString("tenant-a"));
  d = DecodeHelloRequest(body);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->client_name, "w");
  EXPECT_EQ(d->namespace_name, "tenant-a");

  EXPECT_EQ(DecodeHelloRequest(body + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeHelloRequest(body.substr(0, body.size() - 1)).status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(DecodeHelloRequest(old_body + "\x01").status().code(), StatusCode::kInvalid);
}

TEST(MessagesTest, PutOptionsRoundTrip) {
  PutOptionsBlock o;
  o.ttl_ms = 3'600'000;
  o.put_flags = kPutFlagChain;
  o.group = "session-7";
  o.parent = std::string("p\0arent", 7);
  o.meta = R"({"dtype":"bf16"})";
  std::string enc = EncodePutOptions(o);
  EXPECT_EQ(enc.size(), 8 + 1 + 2 + o.group.size() + 2 + o.parent.size() + 2 + o.meta.size());
  // The value follows the block in a PUT body: it is not part of the block.
  size_t consumed = 0;
  auto d = DecodePutOptions(enc + "value bytes", &consumed);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(consumed, enc.size());
  EXPECT_EQ(d->ttl_ms, o.ttl_ms);
  EXPECT_EQ(d->put_flags, o.put_flags);
  EXPECT_EQ(d->group, o.group);
  EXPECT_EQ(d->parent, o.parent);
  EXPECT_EQ(d->meta, o.meta);

  auto empty = DecodePutOptions(EncodePutOptions({}), &consumed);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(consumed, 8 + 1 + 6u);
  EXPECT_TRUE(empty->group.empty() && empty->parent.empty() && empty->meta.empty());

  // The largest block is exactly kMaxPutOptionsBytes.
  PutOptionsBlock big;
  big.group = std::string(kMaxGroupBytes, 'g');
  big.parent = std::string(kMaxKeyBytes, 'p');
  big.meta = std::string(kMaxMetaBytes, 'm');
  std::string big_enc = EncodePutOptions(big);
  EXPECT_EQ(big_enc.size(), kMaxPutOptionsBytes);
  ASSERT_TRUE(DecodePutOptions(big_enc, &consumed).ok());
  EXPECT_EQ(consumed, kMaxPutOptionsBytes);
}

TEST(MessagesTest, PutOptionsRejectsBadBlocks) {
  size_t consumed = 0;
  auto code = [&consumed](const PutOptionsBlock& o) {
    return DecodePutOptions(EncodePutOptions(o), &consumed).status().code();
  };
  PutOptionsBlock o;
  o.group = std::string(kMaxGroupBytes + 1, 'g');
  EXPECT_EQ(code(o), StatusCode::kTooLarge);
  o = {};
  o.parent = std::string(kMaxKeyBytes + 1, 'p');
  EXPECT_EQ(code(o), StatusCode::kTooLarge);
  o = {};
  o.meta = std::string(kMaxMetaBytes + 1, 'm');
  EXPECT_EQ(code(o), StatusCode::kTooLarge);
  o = {};
  o.put_flags = 0x80;  // unknown bit
  EXPECT_EQ(code(o), StatusCode::kInvalid);

  o = {};
  o.meta = "abc";
  std::string enc = EncodePutOptions(o);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_EQ(DecodePutOptions(enc.substr(0, n), &consumed).status().code(), StatusCode::kInvalid)
        << n;
  }
}

ObjectInfo SampleInfo() {
  ObjectInfo i;
  i.key = "prefix/0001";
  i.namespace_id = 7;
  i.value_len = 1ull << 33;
  i.value_xxh3 = 0x0123456789abcdefull;
  i.created_ms = 1'700'000'000'000ull;
  i.expires_ms = 1'700'000'060'000ull;
  i.in_dram = true;
  i.durable = true;
  i.pinned = true;
  i.pin_expires_ms = 1'700'000'120'000ull;
  i.leases = 3;
  i.lease_expires_ms = 1'700'000'030'000ull;
  // (Assigned from std::string: g++ 12 at -O3 reports a false -Wrestrict
  // for a one-character literal here.)
  i.group = std::string(1, 'g');
  i.parent = "prefix/0000";
  i.writer = "vllm-worker-3";
  i.meta = std::string("\x00\x01", 2);
  return i;
}

void ExpectSameInfo(const ObjectInfo& a, const ObjectInfo& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.namespace_id, b.namespace_id);
  EXPECT_EQ(a.value_len, b.value_len);
  EXPECT_EQ(a.value_xxh3, b.value_xxh3);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.expires_ms, b.expires_ms);
  EXPECT_EQ(ObjectStateBits(a), ObjectStateBits(b));
  EXPECT_EQ(a.pin_expires_ms, b.pin_expires_ms);
  EXPECT_EQ(a.leases, b.leases);
  EXPECT_EQ(a.lease_expires_ms, b.lease_expires_ms);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.parent, b.parent);
  EXPECT_EQ(a.writer, b.writer);
  EXPECT_EQ(a.meta, b.meta);
}

TEST(MessagesTest, ObjectInfoRoundTrip) {
  ObjectInfo info = SampleInfo();
  std::string enc;
  EncodeObjectInfo(info, &enc);
  auto d = DecodeObjectInfo(std::string_view(enc));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ExpectSameInfo(*d, info);

  // The reader form reads one and stops there.
  std::string two = enc + enc;
  ByteReader r(two);
  ExpectSameInfo(DecodeObjectInfo(r), info);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), enc.size());
  ExpectSameInfo(DecodeObjectInfo(r), info);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(MessagesTest, ObjectInfoFlagsTravelAsOneStateByte) {
  ObjectInfo info = SampleInfo();
  EXPECT_EQ(ObjectStateBits(info), kObjectStateInDram | kObjectStateDurable | kObjectStatePinned);
  info.on_flash = info.pin_dram = info.orphan = info.sealed = true;
  EXPECT_EQ(ObjectStateBits(info), 0x7f);
  std::string enc;
  EncodeObjectInfo(SampleInfo(), &enc);
  // key (2 + 11), namespace_id, value_len, value_xxh3, created_ms, expires_ms
  const size_t state_offset = 2 + 11 + 4 + 8 + 8 + 8 + 8;
  EXPECT_EQ(static_cast<uint8_t>(enc[state_offset]),
            kObjectStateInDram | kObjectStateDurable | kObjectStatePinned);
  // A bit this version does not know (a newer server's) is ignored.
  enc[state_offset] = static_cast<char>(0x80 | kObjectStateOnFlash);
  auto d = DecodeObjectInfo(std::string_view(enc));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->on_flash);
  EXPECT_FALSE(d->in_dram || d->durable || d->pinned || d->pin_dram || d->orphan || d->sealed);
}

TEST(MessagesTest, ObjectInfoRejectsBadBodies) {
  std::string enc;
  EncodeObjectInfo(SampleInfo(), &enc);
  EXPECT_EQ(DecodeObjectInfo(std::string_view(enc + "x")).status().code(), StatusCode::kInvalid);
  for (size_t n : {size_t{0}, size_t{5}, enc.size() - 1}) {
    EXPECT_EQ(DecodeObjectInfo(std::string_view(enc).substr(0, n)).status().code(),
              StatusCode::kInvalid)
        << n;
    ByteReader r(std::string_view(enc).substr(0, n));
    DecodeObjectInfo(r);
    EXPECT_FALSE(r.ok()) << n;
  }

  auto code = [](const ObjectInfo& i) {
    std::string b;
    EncodeObjectInfo(i, &b);
    return DecodeObjectInfo(std::string_view(b)).status().code();
  };
  ObjectInfo i = SampleInfo();
  i.key = "";
  EXPECT_EQ(code(i), StatusCode::kInvalid);
  i = SampleInfo();
  i.key = std::string(kMaxKeyBytes + 1, 'k');
  EXPECT_EQ(code(i), StatusCode::kTooLarge);
  i = SampleInfo();
  i.group = std::string(kMaxGroupBytes + 1, 'g');
  EXPECT_EQ(code(i), StatusCode::kTooLarge);
  i = SampleInfo();
  i.meta = std::string(kMaxMetaBytes + 1, 'm');
  EXPECT_EQ(code(i), StatusCode::kTooLarge);

  // An over-limit field fails the reader form too, though every byte is there.
  std::string b;
  EncodeObjectInfo(i, &b);
  ByteReader r(b);
  DecodeObjectInfo(r);
  EXPECT_FALSE(r.ok());
}

TEST(MessagesTest, ListRequestRoundTrip) {
  ListOptions req;
  req.prefix = "model-a/";
  req.group = "session-1";
  req.cursor = "model-a/0042";
  req.limit = 250;
  std::string enc = EncodeListRequest(req);
  auto d = DecodeListRequest(enc);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->prefix, req.prefix);
  EXPECT_EQ(d->group, req.group);
  EXPECT_EQ(d->cursor, req.cursor);
  EXPECT_EQ(d->limit, 250u);

  // The limit's range is the server's business, not the codec's.
  ListOptions zero;
  zero.limit = 0;
  auto dz = DecodeListRequest(EncodeListRequest(zero));
  ASSERT_TRUE(dz.ok());
  EXPECT_EQ(dz->limit, 0u);
  EXPECT_TRUE(dz->prefix.empty() && dz->group.empty() && dz->cursor.empty());

  EXPECT_EQ(DecodeListRequest(enc + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeListRequest(enc.substr(0, enc.size() - 1)).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeListRequest("").status().code(), StatusCode::kInvalid);
  ListOptions big;
  big.prefix = std::string(kMaxKeyBytes + 1, 'p');
  EXPECT_EQ(DecodeListRequest(EncodeListRequest(big)).status().code(), StatusCode::kTooLarge);
  big = {};
  big.group = std::string(kMaxGroupBytes + 1, 'g');
  EXPECT_EQ(DecodeListRequest(EncodeListRequest(big)).status().code(), StatusCode::kTooLarge);
  big = {};
  big.cursor = std::string(kMaxKeyBytes + 1, 'c');
  EXPECT_EQ(DecodeListRequest(EncodeListRequest(big)).status().code(), StatusCode::kTooLarge);
}

TEST(MessagesTest, ListReplyRoundTrip) {
  ListPage rep;
  rep.items.push_back(SampleInfo());
  rep.items.push_back(SampleInfo());
  rep.items[1].key = "prefix/0002";
  rep.items[1].meta.clear();
  rep.next_cursor = "prefix/0002";
  std::string enc = EncodeListReply(rep);
  auto d = DecodeListReply(enc);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->items.size(), 2u);
  ExpectSameInfo(d->items[0], rep.items[0]);
  ExpectSameInfo(d->items[1], rep.items[1]);
  EXPECT_EQ(d->next_cursor, rep.next_cursor);

  auto none = DecodeListReply(EncodeListReply({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
  EXPECT_EQ(none->next_cursor, "");

  EXPECT_EQ(DecodeListReply(enc + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeListReply(enc.substr(0, enc.size() - 1)).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeListReply("").status().code(), StatusCode::kInvalid);

  // A count far beyond what the body can hold fails before allocating.
  std::string huge;
  ByteWriter w(&huge);
  w.Put(uint32_t{0xffffffff});
  EncodeObjectInfo(SampleInfo(), &huge);
  w.PutShortString("");
  EXPECT_EQ(DecodeListReply(huge).status().code(), StatusCode::kInvalid);

  ListPage bad;
  bad.items.push_back(SampleInfo());
  bad.items[0].parent = std::string(kMaxKeyBytes + 1, 'p');
  EXPECT_EQ(DecodeListReply(EncodeListReply(bad)).status().code(), StatusCode::kTooLarge);
}

TEST(MessagesTest, PinRoundTrip) {
  PinRequest p;
  p.by_group = true;
  p.name = "session-9";
  p.ttl_ms = 60'000;
  p.dram = true;
  std::string enc = EncodePinRequest(p);
  EXPECT_EQ(enc.size(), 1 + 2 + p.name.size() + 8 + 1);
  auto d = DecodePinRequest(enc);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->by_group);
  EXPECT_EQ(d->name, p.name);
  EXPECT_EQ(d->ttl_ms, p.ttl_ms);
  EXPECT_TRUE(d->dram);

  EXPECT_EQ(DecodePinRequest(enc + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodePinRequest(enc.substr(0, enc.size() - 1)).status().code(), StatusCode::kInvalid);
  std::string bad_bool = enc;
  bad_bool[0] = 2;
  EXPECT_EQ(DecodePinRequest(bad_bool).status().code(), StatusCode::kInvalid);
  bad_bool = enc;
  bad_bool.back() = 7;
  EXPECT_EQ(DecodePinRequest(bad_bool).status().code(), StatusCode::kInvalid);
  p.name = "";
  EXPECT_EQ(DecodePinRequest(EncodePinRequest(p)).status().code(), StatusCode::kInvalid);
  p.name = std::string(kMaxKeyBytes + 1, 'n');
  EXPECT_EQ(DecodePinRequest(EncodePinRequest(p)).status().code(), StatusCode::kTooLarge);
}

TEST(MessagesTest, UnpinRoundTrip) {
  std::string enc = EncodeUnpinRequest(false, "key/1");
  EXPECT_EQ(enc.size(), 1 + 2 + 5u);
  auto d = DecodeUnpinRequest(enc);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->by_group);
  EXPECT_EQ(d->name, "key/1");
  auto g = DecodeUnpinRequest(EncodeUnpinRequest(true, "grp"));
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->by_group);

  EXPECT_EQ(DecodeUnpinRequest(enc + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeUnpinRequest(enc.substr(0, enc.size() - 1)).status().code(),
            StatusCode::kInvalid);
  std::string bad_bool = enc;
  bad_bool[0] = 2;
  EXPECT_EQ(DecodeUnpinRequest(bad_bool).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeUnpinRequest(EncodeUnpinRequest(true, "")).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeUnpinRequest(EncodeUnpinRequest(true, std::string(kMaxKeyBytes + 1, 'n')))
                .status()
                .code(),
            StatusCode::kTooLarge);
}

TEST(MessagesTest, U64AndStringRoundTrip) {
  std::string enc = EncodeU64(0xfedcba9876543210ull);
  ASSERT_EQ(enc.size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), 0x10);  // little-endian
  auto d = DecodeU64(enc);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 0xfedcba9876543210ull);
  EXPECT_EQ(DecodeU64(enc + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeU64(enc.substr(0, 7)).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeU64("").status().code(), StatusCode::kInvalid);

  std::string s = EncodeString("tenant-a");
  EXPECT_EQ(s.size(), 2 + 8u);
  auto ds = DecodeString(s);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(*ds, "tenant-a");
  auto empty = DecodeString(EncodeString(""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(DecodeString(s + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeString(s.substr(0, s.size() - 1)).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeString("\x01").status().code(), StatusCode::kInvalid);
}

// docs/protocol.md's op table: the ops whose OK reply is "empty".
TEST(MessagesTest, OkReplyIsEmptyForExactlyTheOpsWithoutAReplyBody) {
  const std::vector<Opcode> empty = {Opcode::kPut,    Opcode::kDelete,   Opcode::kFlush,
                                     Opcode::kRelease, Opcode::kUnpin,   Opcode::kNsCreate,
                                     Opcode::kNsSet,  Opcode::kNsDelete, Opcode::kTokenRevoke,
                                     Opcode::kShmUnregister, Opcode::kShmPut};
  int with_body = 0;
  for (int op = 0; op <= 255; ++op) {
    if (!IsKnownOpcode(static_cast<uint8_t>(op))) continue;
    const Opcode code = static_cast<Opcode>(op);
    const bool want = std::find(empty.begin(), empty.end(), code) != empty.end();
    EXPECT_EQ(OkReplyIsEmpty(code), want) << OpcodeName(code);
    with_body += want ? 0 : 1;
  }
  EXPECT_EQ(with_body, 17);  // HELLO, GET, EXISTS, the batches, STATS, STAT, LIST, ...
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

// ---- PUT and BATCH_PUT bodies: encoders and incremental parsers ----

// What a parser asked for, piece by piece, fed from `body`.
struct FeedLog {
  std::vector<size_t> asks;
  size_t consumed = 0;
};

template <typename Parser>
Result<ParseStep> FeedFrom(Parser& parser, std::string_view body, FeedLog* log) {
  for (;;) {
    auto step = parser.Next();
    if (!step.ok() || *step != ParseStep::kRead) return step;
    std::span<uint8_t> space = parser.Space();
    EXPECT_LE(space.size(), body.size() - log->consumed) << "asked past the body";
    if (space.size() > body.size() - log->consumed) return Status::Internal("overread");
    std::memcpy(space.data(), body.data() + log->consumed, space.size());
    log->consumed += space.size();
    log->asks.push_back(space.size());
  }
}

PutOptionsBlock SampleOptions() {
  return PutOptionsBlock{60'000, kPutFlagChain, "session-1", "prefix/0", "{\"dtype\":\"bf16\"}"};
}

TEST(PutBodyTest, PlainPrefixIsKeyLengthThenKey) {
  std::string body = EncodePutPrefix("prefix/1", std::nullopt, nullptr) + "the value";
  EXPECT_EQ(body.substr(0, 10), EncodeKey("prefix/1"));
  PutPrefixParser parser(0, body.size());
  FeedLog log;
  auto step = FeedFrom(parser, body, &log);
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_EQ(*step, ParseStep::kDone);
  EXPECT_EQ(log.asks, (std::vector<size_t>{2, 8}));
  EXPECT_EQ(parser.key(), "prefix/1");
  EXPECT_FALSE(parser.xxh3().has_value());
  EXPECT_FALSE(parser.options().has_value());
  EXPECT_EQ(parser.remaining(), 9u) << "the value is the rest";
}

TEST(PutBodyTest, ChecksumAndOptionsRoundTripWithoutTouchingTheValue) {
  const PutOptionsBlock options = SampleOptions();
  std::string prefix = EncodePutPrefix("prefix/1", 0x1122334455667788ull, &options);
  EXPECT_EQ(prefix, EncodeKey("prefix/1") + std::string("\x88\x77\x66\x55\x44\x33\x22\x11", 8) +
                        EncodePutOptions(options));
  // A value much larger than what arrives: the parser stops at the prefix.
  PutPrefixParser parser(kFlagChecksum | kFlagExt, prefix.size() + (1u << 20));
  FeedLog log;
  auto step = FeedFrom(parser, prefix, &log);
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_EQ(log.consumed, prefix.size());
  EXPECT_EQ(parser.remaining(), 1u << 20);
  EXPECT_EQ(parser.key(), "prefix/1");
  EXPECT_EQ(parser.xxh3(), 0x1122334455667788ull);
  ASSERT_TRUE(parser.options().has_value());
  EXPECT_EQ(parser.options()->ttl_ms, options.ttl_ms);
  EXPECT_EQ(parser.options()->put_flags, options.put_flags);
  EXPECT_EQ(parser.options()->group, options.group);
  EXPECT_EQ(parser.options()->parent, options.parent);
  EXPECT_EQ(parser.options()->meta, options.meta);
  for (size_t ask : log.asks) EXPECT_LE(ask, 2 + kMaxKeyBytes + 8 + kMaxPutOptionsBytes);
}

// The error a PUT body gets, and how much of it was left unread.
struct PutError {
  StatusCode code;
  std::string message;
  uint64_t remaining;
};
PutError ParsePutError(std::string_view body, uint16_t flags) {
  PutPrefixParser parser(flags, body.size());
  FeedLog log;
  auto step = FeedFrom(parser, body, &log);
  EXPECT_FALSE(step.ok());
  EXPECT_EQ(log.consumed + parser.remaining(), body.size());
  return {step.status().code(), step.status().message(), parser.remaining()};
}

TEST(PutBodyTest, PrefixErrorsKeepTheirMessagesAndSayWhatIsLeft) {
  PutError e = ParsePutError("k", 0);
  EXPECT_EQ(e.code, StatusCode::kInvalid);
  EXPECT_EQ(e.message, "body too short for a key");
  EXPECT_EQ(e.remaining, 1u);

  e = ParsePutError(std::string("\0\0value", 7), 0);
  EXPECT_EQ(e.message, "bad key length 0");
  e = ParsePutError(std::string("\x01\x02", 2) + std::string(600, 'k'), 0);
  EXPECT_EQ(e.message, "bad key length 513");
  EXPECT_EQ(e.remaining, 600u) << "no byte of an over-long key is read";
  e = ParsePutError(std::string("\x05\x00", 2) + "abc", 0);
  EXPECT_EQ(e.message, "bad key length 5");

  e = ParsePutError(EncodeKey("key") + "1234567", kFlagChecksum);
  EXPECT_EQ(e.code, StatusCode::kInvalid);
  EXPECT_EQ(e.message, "PUT body too short for its checksum");

  e = ParsePutError(EncodeKey("key") + "1234567890", kFlagExt);
  EXPECT_EQ(e.message, "body too short for put options");
}

TEST(PutBodyTest, OptionFieldsOverTheirLimitsAreRefusedBeforeTheyAreRead) {
  PutOptionsBlock big_group = SampleOptions();
  big_group.group = std::string(kMaxGroupBytes + 1, 'g');
  std::string body = EncodePutPrefix("k", std::nullopt, &big_group) + "value";
  PutError e = ParsePutError(body, kFlagExt);
  EXPECT_EQ(e.code, StatusCode::kTooLarge);
  EXPECT_EQ(e.message, "group of 513 bytes exceeds the limit of 512");
  EXPECT_GT(e.remaining, kMaxGroupBytes) << "the group's bytes were never asked for";

  PutOptionsBlock big_parent = SampleOptions();
  big_parent.parent = std::string(kMaxParentBytes + 1, 'p');
  e = ParsePutError(EncodePutPrefix("k", std::nullopt, &big_parent), kFlagExt);
  EXPECT_EQ(e.code, StatusCode::kTooLarge);
  EXPECT_EQ(e.message, "parent of 513 bytes exceeds the limit of 512");

  PutOptionsBlock big_meta = SampleOptions();
  big_meta.meta = std::string(kMaxMetaBytes + 1, 'm');
  e = ParsePutError(EncodePutPrefix("k", std::nullopt, &big_meta), kFlagExt);
  EXPECT_EQ(e.code, StatusCode::kTooLarge);
  EXPECT_EQ(e.message, "meta of 4097 bytes exceeds the limit of 4096");

  PutOptionsBlock bad_flags = SampleOptions();
  bad_flags.put_flags = 0x80;
  e = ParsePutError(EncodePutPrefix("k", std::nullopt, &bad_flags) + "v", kFlagExt);
  EXPECT_EQ(e.code, StatusCode::kInvalid);
  EXPECT_EQ(e.message, "unknown put flags");

  // Cut inside the meta: too short, not too large.
  PutOptionsBlock fine = SampleOptions();
  std::string cut = EncodePutPrefix("k", std::nullopt, &fine);
  e = ParsePutError(cut.substr(0, cut.size() - 1), kFlagExt);
  EXPECT_EQ(e.message, "body too short for put options");
}

TEST(PutBodyTest, EmptyOptionFieldsAndEmptyValues) {
  PutOptionsBlock empty;
  std::string body = EncodePutPrefix("k", std::nullopt, &empty);
  PutPrefixParser parser(kFlagExt, body.size());
  FeedLog log;
  auto step = FeedFrom(parser, body, &log);
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_EQ(parser.remaining(), 0u);
  EXPECT_TRUE(parser.options()->group.empty() && parser.options()->meta.empty());
  for (size_t ask : log.asks) EXPECT_GT(ask, 0u) << "never asks for nothing";
}

TEST(BatchPutBodyTest, ItemsStreamOneAfterAnother) {
  const PutOptionsBlock options = SampleOptions();
  std::string body = EncodeBatchPutHead(3, &options);
  AppendBatchPutItemHeader(&body, "a", 3, 0xaa);
  body += "abc";
  AppendBatchPutItemHeader(&body, "b", 0, 0xbb);
  AppendBatchPutItemHeader(&body, "c", 2, 0xcc);
  body += "xy";
  BatchPutParser parser(kFlagExt | kFlagChecksum, body.size(), 1024);
  FeedLog log;
  std::vector<std::string> keys, values;
  for (;;) {
    auto step = FeedFrom(parser, body, &log);
    ASSERT_TRUE(step.ok()) << step.status().ToString();
    if (*step == ParseStep::kDone) break;
    ASSERT_EQ(*step, ParseStep::kItem);
    EXPECT_EQ(parser.index(), keys.size());
    keys.emplace_back(parser.item().key);
    EXPECT_EQ(parser.item().xxh3, 0xaau + 0x11 * keys.size() - 0x11);
    values.emplace_back(body.substr(log.consumed, parser.item().value_len));
    log.consumed += parser.item().value_len;  // the caller takes the value
  }
  EXPECT_EQ(parser.count(), 3u);
  EXPECT_EQ(parser.options()->group, options.group);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(values, (std::vector<std::string>{"abc", "", "xy"}));
  EXPECT_EQ(log.consumed, body.size());
}

// The first error a BATCH_PUT body gets, items taken as they come.
Status BatchPutError(std::string_view body, uint16_t flags, uint32_t max_items, bool* fatal,
                     uint32_t* items = nullptr) {
  BatchPutParser parser(flags, body.size(), max_items);
  FeedLog log;
  uint32_t n = 0;
  for (;;) {
    auto step = FeedFrom(parser, body, &log);
    if (!step.ok()) {
      *fatal = parser.fatal();
      if (items != nullptr) *items = n;
      EXPECT_EQ(log.consumed + parser.remaining(), body.size());
      return step.status();
    }
    if (*step == ParseStep::kDone) return Status::Ok();
    log.consumed += parser.item().value_len;
    ++n;
  }
}

TEST(BatchPutBodyTest, ErrorsSayWhetherTheRestMayBeSkipped) {
  bool fatal = false;
  Status st = BatchPutError("abc", 0, 16, &fatal);
  EXPECT_EQ(st.message(), "BATCH_PUT body too short");
  EXPECT_FALSE(fatal);

  st = BatchPutError(EncodeBatchPutHead(17, nullptr), 0, 16, &fatal);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
  EXPECT_EQ(st.message(), "batch of 17 items exceeds 16");
  EXPECT_TRUE(fatal) << "a count over the limit closes the connection";

  std::string body = EncodeBatchPutHead(2, nullptr);
  AppendBatchPutItemHeader(&body, "a", 1, std::nullopt);
  body += "x";
  AppendBatchPutItemHeader(&body, "b", 100, std::nullopt);  // longer than what is left
  body += "short";
  uint32_t items = 0;
  st = BatchPutError(body, 0, 16, &fatal, &items);
  EXPECT_EQ(st.message(), "malformed BATCH_PUT item 1");
  EXPECT_FALSE(fatal);
  EXPECT_EQ(items, 1u) << "the item before the bad one was handed out";

  body = EncodeBatchPutHead(1, nullptr);
  AppendBatchPutItemHeader(&body, "a", 1, std::nullopt);
  body += "x";
  st = BatchPutError(body + "extra", 0, 16, &fatal);
  EXPECT_EQ(st.message(), "trailing bytes after BATCH_PUT items");

  st = BatchPutError(EncodeBatchPutHead(1, nullptr) + std::string("\0\0", 2), 0, 16, &fatal);
  EXPECT_EQ(st.message(), "malformed BATCH_PUT item 0") << "a zero-length key";
  st = BatchPutError(EncodeBatchPutHead(1, nullptr) + EncodeKey("a") + "1234567", 0, 16, &fatal);
  EXPECT_EQ(st.message(), "malformed BATCH_PUT item 0") << "no room for the value length";

  PutOptionsBlock big = SampleOptions();
  big.meta = std::string(kMaxMetaBytes + 1, 'm');
  st = BatchPutError(EncodeBatchPutHead(1, &big), kFlagExt, 16, &fatal);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
  EXPECT_FALSE(fatal);

  EXPECT_TRUE(BatchPutError(EncodeBatchPutHead(0, nullptr), 0, 16, &fatal).ok());
}

// ---- read ops: GET head, BATCH_GET, BATCH_EXISTS, MATCH_PREFIX ----

TEST(ReadOpsTest, GetReplyHeadLayout) {
  GetReplyHead head{0x0102030405060708ull, 0x0a0b};
  GetReplyHeadBytes plain = EncodeGetReplyHead(head, /*ext=*/false);
  EXPECT_EQ(GetReplyHeadSize(false), 8u);
  EXPECT_EQ(plain[0], 0x08);
  EXPECT_EQ(plain[7], 0x01);
  EXPECT_EQ(DecodeGetReplyHead(plain, false).xxh3, head.xxh3);
  EXPECT_EQ(DecodeGetReplyHead(plain, false).meta_len, 0) << "no metadata without EXT";

  GetReplyHeadBytes ext = EncodeGetReplyHead(head, /*ext=*/true);
  EXPECT_EQ(GetReplyHeadSize(true), 10u);
  EXPECT_EQ(ext[8], 0x0b);
  EXPECT_EQ(ext[9], 0x0a);
  GetReplyHead back = DecodeGetReplyHead(ext, true);
  EXPECT_EQ(back.xxh3, head.xxh3);
  EXPECT_EQ(back.meta_len, head.meta_len);
}

TEST(ReadOpsTest, BatchGetReplyPieces) {
  std::string out;
  AppendCount(&out, 3);
  ASSERT_EQ(out.size(), kCountSize);
  std::array<uint8_t, kCountSize> count;
  std::memcpy(count.data(), out.data(), kCountSize);
  EXPECT_EQ(DecodeCount(count), 3u);
  AppendBatchGetItemHeader(&out, StatusCode::kNotFound, 12, 34);
  EXPECT_EQ(out.substr(kCountSize), EncodeBatchGetItemHeader(StatusCode::kNotFound, 12, 34));
}

TEST(ReadOpsTest, BatchExistsReplyRoundTrips) {
  std::vector<bool> present = {true, false, false, true};
  std::string body = EncodeBatchExistsReply(present);
  EXPECT_EQ(body, std::string("\x04\0\0\0\x01\0\0\x01", 8));
  auto back = DecodeBatchExistsReply(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, present);
  EXPECT_FALSE(DecodeBatchExistsReply(body.substr(0, 7)).ok());
  EXPECT_FALSE(DecodeBatchExistsReply(body + "x").ok());
  EXPECT_FALSE(DecodeBatchExistsReply("").ok());
}

TEST(ReadOpsTest, MatchPrefixRequestAndReply) {
  std::vector<std::string> keys = {"a", "bb"};
  std::string plain = EncodeMatchPrefixRequest(keys, /*ext=*/false, 5000);
  EXPECT_EQ(plain, EncodeKeyList(keys)) << "no lease time without EXT";
  std::string ext = EncodeMatchPrefixRequest(keys, /*ext=*/true, 5000);
  EXPECT_EQ(ext, EncodeU64(5000) + EncodeKeyList(keys));
  auto req = DecodeMatchPrefixRequest(ext, true, 16);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->lease_ms, 5000u);
  ASSERT_EQ(req->keys.size(), 2u);
  EXPECT_EQ(req->keys[1], "bb");
  auto short_lease = DecodeMatchPrefixRequest("1234567", true, 16);
  EXPECT_EQ(short_lease.status().message(), "MATCH_PREFIX body too short for a lease time");
  EXPECT_EQ(DecodeMatchPrefixRequest(ext, true, 1).status().code(), StatusCode::kTooLarge);

  std::string reply = EncodeMatchPrefixReply(MatchResult{2, 99}, /*ext=*/true);
  EXPECT_EQ(reply.size(), 12u);
  auto back = DecodeMatchPrefixReply(reply, true);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->matched, 2u);
  EXPECT_EQ(back->lease_id, 99u);
  EXPECT_EQ(EncodeMatchPrefixReply(MatchResult{2, 99}, false).size(), 4u);
  EXPECT_FALSE(DecodeMatchPrefixReply(reply, false).ok()) << "trailing bytes";
  EXPECT_FALSE(DecodeMatchPrefixReply(reply.substr(0, 4), true).ok());
}

// ---- admin bodies: STATS and TOKEN_* ----

TEST(AdminBodiesTest, StatsReplyIsAFlatObjectInNameOrder) {
  std::vector<StatsField> fields = {
      {"puts", 7}, {"objects", 3}, {"recovered_from_checkpoint", 1, /*is_bool=*/true}};
  std::string body = EncodeStatsReply(fields);
  EXPECT_EQ(body, "{\"objects\":3,\"puts\":7,\"recovered_from_checkpoint\":true}");
  auto back = DecodeStatsReply(body);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].name, "objects");
  EXPECT_EQ((*back)[2].value, 1u);
  EXPECT_FALSE(DecodeStatsReply("[]").ok());
  EXPECT_FALSE(DecodeStatsReply("{\"x\":-1}").ok());
}

TEST(AdminBodiesTest, TokenCreateRequestChecksInAFixedOrder) {
  TokenCreateRequest req{"write", "tenant", "ci"};
  std::string body = EncodeTokenCreateRequest(req);
  EXPECT_EQ(body, "{\"label\":\"ci\",\"namespace\":\"tenant\",\"role\":\"write\"}");
  auto back = DecodeTokenCreateRequest(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->role, "write");
  EXPECT_EQ(back->namespace_name, "tenant");
  EXPECT_EQ(back->label, "ci");
  EXPECT_EQ(EncodeTokenCreateRequest({"admin", "", ""}), "{\"role\":\"admin\"}");

  auto message = [](std::string_view json) {
    return DecodeTokenCreateRequest(json).status().message();
  };
  EXPECT_EQ(message("[1]"), "body is not a JSON object");
  EXPECT_EQ(message("{\"role\":1}"), "\"role\" must be a string");
  EXPECT_EQ(message("{\"role\":\"root\"}"), "role must be read, write or admin");
  EXPECT_EQ(message("{\"role\":\"read\",\"ns\":\"x\"}"), "unknown field \"ns\"");
  EXPECT_EQ(message("{\"namespace\":\"t\"}"), "missing \"role\"");
  EXPECT_EQ(message("{\"role\":\"read\"}"), "read and write tokens need a namespace");
  EXPECT_EQ(message("{\"role\":\"write\",\"namespace\":\"*\"}"),
            "read and write tokens need a namespace");
  EXPECT_EQ(message("{\"role\":\"admin\",\"namespace\":\"t\"}"),
            "admin tokens are valid in every namespace: give no namespace");
  EXPECT_TRUE(DecodeTokenCreateRequest("{\"role\":\"admin\",\"namespace\":\"*\"}").ok());
  std::string long_label = "{\"role\":\"admin\",\"label\":\"" + std::string(129, 'l') + "\"}";
  EXPECT_EQ(message(long_label), "labels are at most 128 bytes");
}

TEST(AdminBodiesTest, TokenRepliesRoundTrip) {
  TokenInfoWire info{"00000000000000aa", "read", "tenant", "ci", 1234};
  TokenCreateReply created{info, "ctx_secret"};
  std::string body = EncodeTokenCreateReply(created);
  EXPECT_EQ(body,
            "{\"created_ms\":1234,\"id\":\"00000000000000aa\",\"label\":\"ci\","
            "\"namespace\":\"tenant\",\"role\":\"read\",\"token\":\"ctx_secret\"}");
  auto back = DecodeTokenCreateReply(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->info.id, info.id);
  EXPECT_EQ(back->token, "ctx_secret");
  EXPECT_EQ(
      DecodeTokenCreateReply("{\"id\":\"x\"}").status().message().rfind("malformed token entry", 0),
      0u);
  std::string no_token = body;
  no_token.replace(no_token.find("\"token\""), 7, "\"tokem\"");
  EXPECT_EQ(DecodeTokenCreateReply(no_token).status().message(), "TOKEN_CREATE without a token");

  std::vector<TokenInfoWire> tokens = {info, {"00000000000000bb", "admin", "*", "", 5}};
  auto list = DecodeTokenList(EncodeTokenList(tokens));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].namespace_name, "*");
  EXPECT_EQ(DecodeTokenList("{}").status().message(), "TOKEN_LIST reply is not an array");
}

// ---- namespace bodies ----

TEST(NamespaceBodiesTest, RequestsCarryOnlyTheSettingsTheyName) {
  NamespaceSpec spec;
  spec.quota_bytes = 4096;
  spec.require_model_fingerprint = true;
  std::string body = EncodeNamespaceRequest("tenant", spec);
  EXPECT_EQ(body, R"({"name":"tenant","quota_bytes":4096,"require_model_fingerprint":true})");
  auto req = DecodeNamespaceRequest(body);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->name, "tenant");
  EXPECT_EQ(req->spec.quota_bytes, 4096u);
  EXPECT_EQ(req->spec.require_model_fingerprint, true);
  EXPECT_FALSE(req->spec.priority.has_value()) << "left out: left alone";

  auto message = [](std::string_view json) {
    return DecodeNamespaceRequest(json).status().message();
  };
  EXPECT_EQ(message("[]"), "body is not a JSON object");
  EXPECT_EQ(message(R"({"quota_bytes":1})"), "missing \"name\"");
  EXPECT_EQ(message(R"({"name":7})"), "\"name\" must be a string");
  EXPECT_EQ(message(R"({"name":"t","priority":8})"), "\"priority\" must be 0..7");
  EXPECT_EQ(message(R"({"name":"t","max_ttl_ms":1.5})"),
            "\"max_ttl_ms\" must be a non-negative integer");
  EXPECT_EQ(message(R"({"name":"t","colour":1})"), "unknown field \"colour\"");
}

TEST(NamespaceBodiesTest, ListRoundTripsEverySetting) {
  NamespaceInfo a;
  a.id = 3;
  a.name = "tenant";
  a.config.quota_bytes = 1 << 20;
  a.config.priority = 2;
  a.config.encryption_key = "k1";
  a.config.max_pins = 9;
  a.objects = 4;
  a.bytes = 100;
  a.evictions = 1;
  std::vector<NamespaceInfo> list = {NamespaceInfo{}, a};
  list[0].name = "default";
  auto back = DecodeNamespaceList(EncodeNamespaceList(list));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  const NamespaceInfo& b = (*back)[1];
  EXPECT_EQ(b.id, 3u);
  EXPECT_EQ(b.name, "tenant");
  EXPECT_EQ(b.config.quota_bytes, 1u << 20);
  EXPECT_EQ(b.config.priority, 2);
  EXPECT_EQ(b.config.encryption_key, "k1");
  EXPECT_EQ(b.config.max_pins, 9u);
  EXPECT_EQ(b.objects, 4u);
  EXPECT_EQ(b.bytes, 100u);
  EXPECT_EQ(b.evictions, 1u);
  EXPECT_EQ(DecodeNamespaceList("{}").status().message(), "NS_LIST reply is not a JSON array");
  EXPECT_EQ(DecodeNamespaceList(R"([{"name":1}])").status().message(),
            R"(NS_LIST reply has a malformed entry: {"name":1})");
}

}  // namespace
}  // namespace ctxstore::protocol

namespace ctxstore::protocol {
namespace {

// The shared-memory bodies (shm_bodies.h): round trips, and every length
// checked before use.
TEST(ShmBodiesTest, RoundTripAndRefusals) {
  EXPECT_EQ(*DecodeShmRegister(EncodeShmRegister(4 << 20)), 4u << 20);
  EXPECT_EQ(DecodeShmRegister(EncodeShmRegister(0)).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeShmRegister("1234567").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(*DecodeRegionId(EncodeRegionId(7)), 7u);

  const ShmRange range{3, 4096, 1 << 20};
  const std::string get_body = EncodeShmGet("k/1", range);  // the decoded key points into it
  auto get = DecodeShmGet(get_body);
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->key, "k/1");
  EXPECT_EQ(get->range.region_id, 3u);
  EXPECT_EQ(get->range.offset, 4096u);
  EXPECT_EQ(get->range.length, 1u << 20);
  EXPECT_EQ(DecodeShmGet(get_body + "x").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(DecodeShmGet(get_body.substr(0, get_body.size() - 1)).status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(DecodeShmGet(EncodeShmGet("", range)).status().code(), StatusCode::kInvalid);

  PutOptionsBlock options;
  options.ttl_ms = 5000;
  options.group = "session";
  const std::string put_body = EncodeShmPut("k/2", range, &options);
  auto put = DecodeShmPut(put_body, /*ext=*/true);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_TRUE(put->options.has_value());
  EXPECT_EQ(put->options->group, "session");
  EXPECT_EQ(put->options->ttl_ms, 5000u);
  EXPECT_EQ(put->key, "k/2");
  // Options without EXT are trailing bytes; EXT without options is truncated.
  EXPECT_EQ(DecodeShmPut(EncodeShmPut("k/2", range, &options), false).status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(DecodeShmPut(EncodeShmPut("k/2", range, nullptr), true).status().code(),
            StatusCode::kInvalid);

  auto reply = DecodeShmGetReply(EncodeShmGetReply({123, 0xfeed}));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->value_len, 123u);
  EXPECT_EQ(reply->xxh3, 0xfeedu);
}

}  // namespace
}  // namespace ctxstore::protocol
