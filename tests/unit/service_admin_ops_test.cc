// Namespace and token administration through the service layer:
// NS_CREATE, NS_SET, NS_LIST, NS_DELETE, TOKEN_CREATE, TOKEN_LIST,
// TOKEN_REVOKE, typed and through the native table.
#include <gtest/gtest.h>

#include "protocol/admin_bodies.h"
#include "protocol/namespace_bodies.h"
#include "service/namespace_ops.h"
#include "service/token_ops.h"
#include "service_test_util.h"

namespace ctxstore::service::test {
namespace {

using protocol::Opcode;

TEST_F(ServiceTest, NamespaceCreateSetListDelete) {
  Open();
  auto admin = SessionWith(admin_token_);
  NativeReply created =
      Call(*admin, Opcode::kNsCreate, R"({"name":"t2","quota_bytes":4096,"priority":2})");
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  auto ns = engine_->GetNamespace("t2");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->config.quota_bytes, 4096u);
  EXPECT_EQ(ns->config.priority, 2);
  EXPECT_EQ(Call(*admin, Opcode::kNsCreate, R"({"name":"t2"})").status.code(), StatusCode::kExists);

  // NS_SET changes only the fields it names.
  ASSERT_TRUE(Call(*admin, Opcode::kNsSet, R"({"name":"t2","max_ttl_ms":1000})").status.ok());
  ns = engine_->GetNamespace("t2");
  EXPECT_EQ(ns->config.quota_bytes, 4096u);
  EXPECT_EQ(ns->config.max_ttl_ms, 1000u);
  EXPECT_EQ(Call(*admin, Opcode::kNsSet, R"({"name":"nope"})").status.code(),
            StatusCode::kNotFound);

  NativeReply list = Call(*admin, Opcode::kNsList, "");
  ASSERT_TRUE(list.status.ok());
  auto namespaces = protocol::DecodeNamespaceList(list.body);
  ASSERT_TRUE(namespaces.ok()) << list.body;
  bool found = false;
  for (const NamespaceInfo& entry : *namespaces) {
    if (entry.name == "t2") {
      found = true;
      EXPECT_EQ(entry.config.quota_bytes, 4096u);
      EXPECT_EQ(entry.config.max_ttl_ms, 1000u);
      EXPECT_EQ(entry.id, ns->id);
    }
  }
  EXPECT_TRUE(found) << list.body;

  EXPECT_EQ(Call(*admin, Opcode::kNsDelete, protocol::EncodeString("default")).status.code(),
            StatusCode::kInvalid);
  ASSERT_TRUE(Call(*admin, Opcode::kNsDelete, protocol::EncodeString("t2")).status.ok());
  EXPECT_EQ(engine_->GetNamespace("t2").status().code(), StatusCode::kNotFound);
  const std::string audit = AuditText();
  for (const char* event : {"namespace_create", "namespace_set", "namespace_delete"}) {
    EXPECT_NE(audit.find(event), std::string::npos) << event;
  }
}

TEST_F(ServiceTest, BadNamespaceRequestsChangeNothing) {
  Open();
  auto admin = SessionWith(admin_token_);
  auto message = [&](std::string_view body) {
    return Call(*admin, Opcode::kNsSet, body).status.message();
  };
  EXPECT_EQ(message("[]"), "body is not a JSON object");
  EXPECT_EQ(message(R"({"quota_bytes":1})"), "missing \"name\"");
  EXPECT_EQ(message(R"({"name":1})"), "\"name\" must be a string");
  EXPECT_EQ(message(R"({"name":"tenant","quota_bytes":-1})"),
            "\"quota_bytes\" must be a non-negative integer");
  EXPECT_EQ(message(R"({"name":"tenant","priority":8})"), "\"priority\" must be 0..7");
  EXPECT_EQ(message(R"({"name":"tenant","require_model_fingerprint":1})"),
            "\"require_model_fingerprint\" must be true or false");
  EXPECT_EQ(message(R"({"name":"tenant","color":"red"})"), "unknown field \"color\"");
  EXPECT_EQ(
      message(R"({"name":"tenant","encryption_key":"nope"})").find("nope") != std::string::npos,
      true);
  EXPECT_EQ(engine_->GetNamespace("tenant")->config.quota_bytes, 0u);
}

TEST_F(ServiceTest, TokensAreCreatedListedAndRevoked) {
  Open();
  auto admin = SessionWith(admin_token_);
  protocol::TokenCreateRequest req{"read", "tenant", "ci"};
  NativeReply created = Call(*admin, Opcode::kTokenCreate, protocol::EncodeTokenCreateRequest(req));
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  auto reply = protocol::DecodeTokenCreateReply(created.body);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->info.role, "read");
  EXPECT_EQ(reply->info.namespace_name, "tenant");
  EXPECT_EQ(reply->info.label, "ci");
  // The new token works at HELLO.
  auto reader = SessionWith(reply->token);
  EXPECT_EQ(reader->namespace_id(), tenant_id_);

  auto admin_token = CreateToken(*service_, *admin, {"admin", "", ""});
  ASSERT_TRUE(admin_token.ok());
  EXPECT_EQ(admin_token->info.namespace_name, "*");
  auto missing = CreateToken(*service_, *admin, {"write", "nope", ""});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "namespace 'nope' does not exist");
  EXPECT_EQ(Call(*admin, Opcode::kTokenCreate, R"({"role":"root"})").status.message(),
            "role must be read, write or admin");

  NativeReply list = Call(*admin, Opcode::kTokenList, "");
  ASSERT_TRUE(list.status.ok());
  auto tokens = protocol::DecodeTokenList(list.body);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 6u) << "four from the fixture, two here";
  EXPECT_EQ(list.body.find(reply->token), std::string::npos) << "never a secret";

  NativeReply revoked = Call(*admin, Opcode::kTokenRevoke, protocol::EncodeString(reply->info.id));
  ASSERT_TRUE(revoked.status.ok());
  EXPECT_EQ(RevokeToken(*service_, *admin, reply->info.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(ListTokens(*service_).size(), 5u);
  const std::string audit = AuditText();
  EXPECT_NE(audit.find("token_create"), std::string::npos);
  EXPECT_NE(audit.find("token_revoke"), std::string::npos);
  EXPECT_EQ(audit.find(reply->token), std::string::npos) << "never a secret in the audit log";
}

}  // namespace
}  // namespace ctxstore::service::test
