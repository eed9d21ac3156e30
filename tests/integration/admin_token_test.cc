// The admin token's life through the server binary: the first start writes
// DATA_DIR/admin.token; a store that still has an admin token keeps it
// across restarts; a store with no admin token left (all revoked, tenants'
// tokens still there) issues a new one at its next start, and the revoked
// ones stay refused (docs/security.md, "Deploying").
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using testing::ServerProcess;
using testing::StopAndReport;

Result<std::unique_ptr<Client>> ConnectWith(const ServerProcess& server, const std::string& token,
                                            const std::string& ns = "") {
  ClientOptions o;
  o.port = server.port();
  o.token = token;
  o.namespace_name = ns;
  o.max_idle_connections = 1;
  return Client::Connect(o);
}

size_t AuditEvents(const std::string& data_dir, const std::string& event) {
  std::ifstream in(data_dir + "/audit.log");
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
    if (j.is_object() && j.value("event", "") == event) ++n;
  }
  return n;
}

// The id of a token: the 16 hex digits after "ctx_".
std::string IdOf(const std::string& token) {
  return token.substr(4, 16);
}

TEST(AdminToken, IsReissuedOnlyWhenNoAdminTokenIsLeft) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  const std::string first = server.admin_token();
  ASSERT_FALSE(first.empty());
  std::string second, tenant;
  {
    auto admin = ConnectWith(server, first);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    auto created = (*admin)->CreateToken("admin", "", "second admin");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    second = created->token;
    ASSERT_TRUE((*admin)->CreateNamespace("tenant").ok());
    auto t = (*admin)->CreateToken("write", "tenant", "a tenant");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tenant = t->token;
  }
  // An admin token is left: no new one, whichever was revoked.
  {
    auto admin = ConnectWith(server, second);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->RevokeToken(IdOf(first)).ok());
  }
  ASSERT_TRUE(server.Restart()) << server.log();
  EXPECT_EQ(server.admin_token(), first) << "admin.token rewritten while an admin token was left";
  EXPECT_EQ(AuditEvents(server.data_dir(), "admin_token_created"), 1u);
  EXPECT_EQ(ConnectWith(server, first).status().code(), StatusCode::kUnauthorized);

  // The last admin token revokes itself; the tenant's token remains.
  {
    auto admin = ConnectWith(server, second);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->RevokeToken(IdOf(second)).ok());
    EXPECT_EQ((*admin)->StatsJson().status().code(), StatusCode::kUnauthorized)
        << "a revoked token still works on its connection";
  }
  ASSERT_TRUE(server.Restart()) << server.log();
  const std::string third = server.admin_token();
  ASSERT_FALSE(third.empty());
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  EXPECT_EQ(AuditEvents(server.data_dir(), "admin_token_created"), 2u);
  auto admin = ConnectWith(server, third);
  ASSERT_TRUE(admin.ok()) << "the new admin token does not work: " << admin.status().ToString();
  EXPECT_TRUE((*admin)->StatsJson().ok());
  auto tokens = (*admin)->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  size_t admins = 0;
  for (const TokenInfo& t : *tokens) admins += t.role == "admin";
  EXPECT_EQ(admins, 1u);
  EXPECT_EQ(tokens->size(), 2u) << "the new admin token and the tenant's";
  for (const std::string& revoked : {first, second}) {
    EXPECT_EQ(ConnectWith(server, revoked).status().code(), StatusCode::kUnauthorized);
  }
  auto t = ConnectWith(server, tenant, "tenant");
  ASSERT_TRUE(t.ok()) << "the tenant's token was lost: " << t.status().ToString();
  EXPECT_TRUE((*t)->Put("k", "v").ok());
  // The new token stays: another restart keeps it.
  ASSERT_TRUE(server.Restart()) << server.log();
  EXPECT_EQ(server.admin_token(), third);
  StopAndReport(server);
}

}  // namespace
}  // namespace ctxstore
