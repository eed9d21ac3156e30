// HELLO through the service layer: authentication (good, bad, revoked
// tokens), the namespace rules, the protocol version, and what a session
// remembers (namespace, writer, leases across a HELLO into another
// namespace).
#include <gtest/gtest.h>

#include "protocol/read_ops.h"
#include "service/key_ops.h"
#include "service_test_util.h"

namespace ctxstore::service::test {
namespace {

using protocol::HelloRequest;

HelloRequest HelloWith(std::string token, std::string ns = "", std::string client = "unit") {
  HelloRequest hello;
  hello.client_name = std::move(client);
  hello.namespace_name = std::move(ns);
  hello.token = std::move(token);
  return hello;
}

TEST_F(ServiceTest, HelloWithAGoodTokenFixesItsNamespaceAndWriter) {
  Open();
  auto session = NewSession();
  EXPECT_FALSE(session->authenticated());
  auto reply = Hello(*service_, *session, HelloWith(write_token_));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->version, protocol::kVersion);
  EXPECT_EQ(reply->max_value_bytes, engine_options.max_value_bytes) << "the engine's limit";
  EXPECT_EQ(reply->max_batch_keys, service_->limits().max_batch_keys);
  EXPECT_EQ(reply->server_version, kServerVersion);
  EXPECT_TRUE(session->authenticated());
  EXPECT_FALSE(session->closing());
  EXPECT_EQ(session->namespace_id(), tenant_id_) << "no name: the token's namespace";
  EXPECT_EQ(session->writer(), session->principal().token_id) << "provenance is the token";
  EXPECT_EQ(session->principal().role, TokenRole::kWrite);

  // An admin token without a namespace works in "default".
  auto admin = NewSession();
  ASSERT_TRUE(Hello(*service_, *admin, HelloWith(admin_token_)).ok());
  EXPECT_EQ(admin->namespace_id(), engine::kDefaultNamespaceId);
  ASSERT_TRUE(Hello(*service_, *admin, HelloWith(admin_token_, "other")).ok());
  EXPECT_EQ(admin->namespace_id(), other_id_) << "admin tokens go anywhere";
}

TEST_F(ServiceTest, HelloWithABadTokenEndsTheSession) {
  Open();
  for (const std::string& bad :
       {std::string(), std::string("ctx_nope"), std::string(kTokenChars, 'a'),
        write_token_.substr(0, write_token_.size() - 1) +
            (write_token_.back() == '0' ? "1" : "0")}) {
    auto session = NewSession();
    auto reply = Hello(*service_, *session, HelloWith(bad));
    EXPECT_EQ(reply.status().code(), StatusCode::kUnauthorized) << bad;
    EXPECT_TRUE(session->closing()) << "every guess costs a new connection";
    EXPECT_FALSE(session->authenticated());
  }
  EXPECT_EQ(service_->counters().auth_failures.load(), 4u);
  EXPECT_NE(AuditText().find("\"event\":\"auth_failure\""), std::string::npos) << AuditText();
}

TEST_F(ServiceTest, HelloWithARevokedTokenIsRefused) {
  Open();
  auto id = Authenticate(*engine_, read_token_);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(engine_->RevokeToken(id->token_id).ok());
  auto session = NewSession();
  auto reply = Hello(*service_, *session, HelloWith(read_token_));
  EXPECT_EQ(reply.status().code(), StatusCode::kUnauthorized);
  EXPECT_EQ(reply.status().message(), "invalid token");
  EXPECT_TRUE(session->closing());
}

TEST_F(ServiceTest, HelloNamespaceRules) {
  Open();
  // A token of another namespace: the same answer whether it exists or not,
  // and the session stays open for another HELLO.
  for (const char* ns : {"other", "no-such-namespace"}) {
    auto session = NewSession();
    auto reply = Hello(*service_, *session, HelloWith(write_token_, ns));
    EXPECT_EQ(reply.status().code(), StatusCode::kUnauthorized) << ns;
    EXPECT_EQ(reply.status().message(),
              std::string("the token is not valid in namespace '") + ns + "'");
    EXPECT_FALSE(session->closing());
    EXPECT_FALSE(session->authenticated());
    EXPECT_TRUE(Hello(*service_, *session, HelloWith(write_token_, "tenant")).ok());
  }
  EXPECT_EQ(service_->counters().access_denied.load(), 2u);
  // An admin token naming a namespace that does not exist.
  auto admin = NewSession();
  auto reply = Hello(*service_, *admin, HelloWith(admin_token_, "nope"));
  EXPECT_EQ(reply.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reply.status().message(), "namespace 'nope' does not exist");
  EXPECT_FALSE(admin->closing());
  EXPECT_FALSE(admin->authenticated()) << "before a HELLO works, nothing else does";
}

TEST_F(ServiceTest, HelloWithAnotherProtocolVersionEndsTheSession) {
  Open();
  auto session = NewSession();
  HelloRequest hello = HelloWith(admin_token_);
  hello.version = protocol::kVersion + 1;
  auto reply = Hello(*service_, *session, hello);
  EXPECT_EQ(reply.status().code(), StatusCode::kUnsupported);
  EXPECT_TRUE(session->closing());
}

TEST_F(ServiceTest, WithAuthenticationOffTheClientNameIsTheWriter) {
  service_options.auth = false;
  Open();
  auto session = NewSession();
  std::string long_name(300, 'n');
  ASSERT_TRUE(Hello(*service_, *session, HelloWith("", "tenant", long_name)).ok());
  EXPECT_EQ(session->namespace_id(), tenant_id_);
  EXPECT_EQ(session->writer(), long_name.substr(0, kMaxWriterBytes)) << "cut, not refused";
  EXPECT_TRUE(session->principal().Has(TokenRole::kAdmin));
}

TEST_F(ServiceTest, HelloIntoAnotherNamespaceEndsTheSessionsLeases) {
  Open();
  auto session = SessionWith(admin_token_, "tenant");
  Store(*session, "k", "v");
  std::vector<std::string_view> keys = {"k"};
  protocol::MatchPrefixRequest req{60'000, keys};
  auto m = MatchPrefix(*service_, *session, req);
  ASSERT_TRUE(m.ok() && m->lease_id != 0);
  EXPECT_EQ(engine_->Stats().leases, 1u);
  // Again into the same namespace: the lease stays.
  ASSERT_TRUE(Hello(*service_, *session, HelloWith(admin_token_, "tenant")).ok());
  EXPECT_EQ(engine_->Stats().leases, 1u);
  ASSERT_TRUE(Hello(*service_, *session, HelloWith(admin_token_, "other")).ok());
  EXPECT_EQ(engine_->Stats().leases, 0u);
  EXPECT_EQ(session->leases().size(), 0u);
}

TEST_F(ServiceTest, EndingASessionEndsItsLeases) {
  Open();
  {
    auto session = SessionWith(read_token_);
    Store(*session, "k", "v");
    std::vector<std::string_view> keys = {"k"};
    ASSERT_TRUE(MatchPrefix(*service_, *session, {60'000, keys}).ok());
    EXPECT_EQ(engine_->Stats().leases, 1u);
  }
  EXPECT_EQ(engine_->Stats().leases, 0u);
}

TEST_F(ServiceTest, HelloThroughTheNativeTable) {
  Open();
  auto session = NewSession();
  NativeReply bad = Call(*session, protocol::Opcode::kHello, "x");
  EXPECT_EQ(bad.status.code(), StatusCode::kInvalid) << "malformed body";
  EXPECT_FALSE(session->closing());
  NativeReply ok = Call(*session, protocol::Opcode::kHello,
                        protocol::EncodeHelloRequest(HelloWith(read_token_)));
  ASSERT_TRUE(ok.status.ok()) << ok.status.ToString();
  auto reply = protocol::DecodeHelloReply(ok.body);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->server_version, kServerVersion);
}

}  // namespace
}  // namespace ctxstore::service::test
