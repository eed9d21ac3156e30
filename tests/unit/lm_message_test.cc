// LMCache's lm:// codec (protocol/lm_message.h): the 186-byte request and
// 36-byte reply byte for byte as LMCache's struct.pack writes them (the
// reply's location last), the key's padding, and what is refused.
#include "protocol/lm_message.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ctxstore::protocol {
namespace {

int32_t At(const uint8_t* p, size_t offset) {
  int32_t v;
  std::memcpy(&v, p + offset, 4);
  return v;
}

TEST(LmMessage, RequestLayoutAndPaddedKey) {
  LmRequest r;
  r.command = LmCommand::kPut;
  r.length = 4096;
  r.meta = LmShape{3, 7, 2, {2, 32, 8, 128}};
  r.key = "model@1@0@abc@bf16";
  const LmRequestBytes b = EncodeLmRequest(r);
  EXPECT_EQ(At(b.data(), 0), 1);
  EXPECT_EQ(At(b.data(), 4), 4096);
  EXPECT_EQ(At(b.data(), 8), 3);     // fmt
  EXPECT_EQ(At(b.data(), 12), 7);    // dtype
  EXPECT_EQ(At(b.data(), 16), 2);    // location, before the shape in a request
  EXPECT_EQ(At(b.data(), 20), 2);    // shape0
  EXPECT_EQ(At(b.data(), 32), 128);  // shape3
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()) + 36, 19), r.key + " ");
  EXPECT_EQ(b[185], ' ');
  auto back = DecodeLmRequest(b, 1 << 20);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->key, r.key);
  EXPECT_EQ(back->length, 4096u);
  EXPECT_EQ(back->meta.shape[1], 32);
}

TEST(LmMessage, ReplyPutsTheLocationLast) {
  const LmReplyBytes b = EncodeLmReply(kLmSuccess, 10, LmShape{1, 3, 2, {4, 5, 6, 7}});
  EXPECT_EQ(At(b.data(), 0), 200);
  EXPECT_EQ(At(b.data(), 4), 10);
  EXPECT_EQ(At(b.data(), 16), 4);  // shape0 right after dtype
  EXPECT_EQ(At(b.data(), 28), 7);  // shape3
  EXPECT_EQ(At(b.data(), 32), 2);  // location
}

TEST(LmMessage, RefusedHeaders) {
  LmRequest r;
  r.key = "k";
  LmRequestBytes b = EncodeLmRequest(r);
  const int32_t bad_command = 6;
  std::memcpy(b.data(), &bad_command, 4);
  EXPECT_FALSE(DecodeLmRequest(b, 100).ok());
  r.command = LmCommand::kPut;
  r.length = 101;  // over the max value
  EXPECT_FALSE(DecodeLmRequest(EncodeLmRequest(r), 100).ok());
  r.command = LmCommand::kGet;
  r.length = 0;
  r.key = "";
  EXPECT_FALSE(DecodeLmRequest(EncodeLmRequest(r), 100).ok());  // GET needs a key
  r.command = LmCommand::kHealth;
  EXPECT_TRUE(DecodeLmRequest(EncodeLmRequest(r), 100).ok());
  // NUL padding (struct's own) reads like space padding.
  r.command = LmCommand::kGet;
  r.key = "abc";
  b = EncodeLmRequest(r);
  std::memset(b.data() + 39, 0, kLmKeyBytes - 3);
  EXPECT_EQ(DecodeLmRequest(b, 100)->key, "abc");
}

TEST(LmMessage, MetadataBlob) {
  const LmShape m{6, 3, 1, {1, 2, 3, 4}};
  const std::string blob = EncodeLmMeta(m);
  EXPECT_EQ(blob.size(), kLmMetaBytes);
  EXPECT_EQ(DecodeLmMeta(blob).shape[3], 4);
  EXPECT_EQ(DecodeLmMeta(blob).dtype, 3);
  EXPECT_EQ(DecodeLmMeta("dtype=bf16").fmt, 0);  // another client's blob: zeros
  EXPECT_EQ(DecodeLmMeta("").shape[0], 0);
}

}  // namespace
}  // namespace ctxstore::protocol
