// The context ops through the service layer: STAT, LIST, PIN, UNPIN and
// DELETE_GROUP, typed and through the native table.
#include <gtest/gtest.h>

#include "protocol/messages.h"
#include "service/context_ops.h"
#include "service_test_util.h"

namespace ctxstore::service::test {
namespace {

using protocol::Opcode;

engine::WriteOptions InGroup(std::string group, std::string meta = "") {
  engine::WriteOptions o;
  o.group = std::move(group);
  o.meta = std::move(meta);
  o.writer = "writer-1";
  return o;
}

TEST_F(ServiceTest, StatDescribesOneObject) {
  Open();
  auto session = SessionWith(write_token_);
  Store(*session, "k", "value", InGroup("g", "{\"dtype\":\"bf16\"}"));
  auto info = Stat(*service_, *session, "k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "k");
  EXPECT_EQ(info->namespace_id, tenant_id_);
  EXPECT_EQ(info->value_len, 5u);
  EXPECT_EQ(info->value_xxh3, Xxh3("value", 5));
  EXPECT_TRUE(info->in_dram);
  EXPECT_EQ(info->group, "g");
  EXPECT_EQ(info->writer, "writer-1");
  EXPECT_EQ(info->meta, "{\"dtype\":\"bf16\"}");
  EXPECT_EQ(Stat(*service_, *session, "absent").status().code(), StatusCode::kNotFound);

  NativeReply reply = Call(*session, Opcode::kStat, protocol::EncodeKey("k"));
  ASSERT_TRUE(reply.status.ok());
  auto wire = protocol::DecodeObjectInfo(std::string_view(reply.body));
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->group, "g");
}

TEST_F(ServiceTest, ListPagesThroughTheNamespace) {
  Open();
  auto session = SessionWith(write_token_);
  for (const char* k : {"a/1", "a/2", "a/3", "b/1"}) Store(*session, k, "v", InGroup("g"));
  ListOptions req;
  req.prefix = "a/";
  req.limit = 2;
  auto page = List(*service_, *session, req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].key, "a/1");
  EXPECT_EQ(page->next_cursor, "a/2");
  req.cursor = page->next_cursor;
  NativeReply reply = Call(*session, Opcode::kList, protocol::EncodeListRequest(req));
  ASSERT_TRUE(reply.status.ok());
  auto rest = protocol::DecodeListReply(reply.body);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].key, "a/3");
  EXPECT_EQ(rest->next_cursor, "");

  for (uint32_t bad : {0u, engine::kMaxListLimit + 1}) {
    req.limit = bad;
    auto refused = List(*service_, *session, req);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalid);
    EXPECT_EQ(refused.status().message(), "LIST limit must be 1..1000");
  }
  // Another namespace sees none of them.
  auto other = SessionWith(other_write_token_);
  req.limit = 10;
  req.cursor.clear();
  EXPECT_TRUE(List(*service_, *other, req)->items.empty());
}

TEST_F(ServiceTest, PinAndUnpinKeysAndGroups) {
  Open();
  auto session = SessionWith(write_token_);
  Store(*session, "k", "v");
  Store(*session, "g1", "v", InGroup("g"));
  Store(*session, "g2", "v", InGroup("g"));
  auto pinned = Pin(*service_, *session, {false, "k", 0, false});
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_EQ(*pinned, 1u);
  EXPECT_EQ(Pin(*service_, *session, {false, "absent", 0, false}).status().code(),
            StatusCode::kNotFound);
  NativeReply group =
      Call(*session, Opcode::kPin, protocol::EncodePinRequest({true, "g", 60'000, true}));
  ASSERT_TRUE(group.status.ok()) << group.status.ToString();
  EXPECT_EQ(protocol::DecodeU64(group.body).value(), 2u);
  EXPECT_TRUE(engine_->Stat(tenant_id_, "g1")->pin_dram);

  EXPECT_TRUE(Unpin(*service_, *session, {false, "k", 0, false}).ok());
  EXPECT_EQ(Unpin(*service_, *session, {false, "k", 0, false}).code(), StatusCode::kNotFound);
  NativeReply unpin = Call(*session, Opcode::kUnpin, protocol::EncodeUnpinRequest(true, "g"));
  EXPECT_TRUE(unpin.status.ok());
  EXPECT_FALSE(engine_->Stat(tenant_id_, "g1")->pinned);
  EXPECT_EQ(Call(*session, Opcode::kPin, "\x02").status.code(), StatusCode::kInvalid);
}

TEST_F(ServiceTest, DeleteGroupDeletesItsObjectsAndIsAudited) {
  Open();
  auto session = SessionWith(write_token_);
  Store(*session, "g1", "v", InGroup("g"));
  Store(*session, "g2", "v", InGroup("g"));
  Store(*session, "x", "v", InGroup("h"));
  NativeReply reply = Call(*session, Opcode::kDeleteGroup, protocol::EncodeString("g"));
  ASSERT_TRUE(reply.status.ok());
  EXPECT_EQ(protocol::DecodeU64(reply.body).value(), 2u);
  EXPECT_EQ(engine_->Exists(tenant_id_, "g1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(engine_->Exists(tenant_id_, "x").ok());
  EXPECT_NE(AuditText().find("\"event\":\"delete_group\""), std::string::npos);
  for (const std::string& bad : {std::string(), std::string(kMaxGroupBytes + 1, 'g')}) {
    auto refused = DeleteGroup(*service_, *session, bad);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalid);
    EXPECT_EQ(refused.status().message(), "group must be 1..512 bytes");
  }
}

}  // namespace
}  // namespace ctxstore::service::test
