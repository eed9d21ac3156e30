// Access tokens in the engine's catalog (add, revoke, persistence, the
// namespace's deletion revoking its tokens) and the server's token checks
// (hash comparison, malformed tokens, the role each op needs).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "server/loopback.h"
#include "service/auth.h"
#include "service/op_table.h"

namespace ctxstore::engine {
namespace {

using test_util::OpenOrNull;
using test_util::ReadWholeFile;
using test_util::TempDir;

EngineOptions SmallOptions(const TempDir& dir) {
  EngineOptions o;
  o.data_dir = dir.data_dir();
  o.memory_bytes = 4 * kMiB;
  o.disk_bytes = 16 * kMiB;
  o.segment_bytes = 1 * kMiB;
  return o;
}

AccessToken Token(std::string id, TokenRole role, uint32_t ns) {
  AccessToken t;
  t.id = std::move(id);
  t.secret_hash = std::string(kTokenHashBytes, 'a');
  t.role = role;
  t.namespace_id = ns;
  t.label = "test";
  t.created_ms = 1234;
  return t;
}

TEST(AccessTokenTest, CatalogKeepsTokensAcrossRestarts) {
  TempDir dir;
  auto engine = OpenOrNull(SmallOptions(dir));
  ASSERT_NE(engine, nullptr);
  auto ns = engine->CreateNamespace("tenant", {});
  ASSERT_TRUE(ns.ok());
  const uint64_t epoch0 = engine->access_epoch();
  ASSERT_TRUE(engine->AddToken(Token("00000000000000aa", TokenRole::kAdmin, kAllNamespaces)).ok());
  ASSERT_TRUE(engine->AddToken(Token("00000000000000bb", TokenRole::kWrite, *ns)).ok());
  ASSERT_TRUE(engine->AddToken(Token("00000000000000cc", TokenRole::kRead, *ns)).ok());
  EXPECT_EQ(engine->access_epoch(), epoch0) << "adding takes nothing away";
  EXPECT_EQ(engine->AddToken(Token("00000000000000aa", TokenRole::kRead, *ns)).code(),
            StatusCode::kExists);
  EXPECT_EQ(engine->AddToken(Token("00000000000000dd", TokenRole::kRead, 999)).code(),
            StatusCode::kNotFound);
  // Malformed records are refused before they reach the catalog.
  EXPECT_EQ(engine->AddToken(Token("short", TokenRole::kRead, *ns)).code(), StatusCode::kInvalid);
  EXPECT_EQ(engine->AddToken(Token("00000000000000EE", TokenRole::kRead, *ns)).code(),
            StatusCode::kInvalid);
  EXPECT_EQ(engine->AddToken(Token("00000000000000ee", TokenRole::kAdmin, *ns)).code(),
            StatusCode::kInvalid);
  EXPECT_EQ(engine->AddToken(Token("00000000000000ee", TokenRole::kRead, kAllNamespaces)).code(),
            StatusCode::kInvalid);

  ASSERT_TRUE(engine->RevokeToken("00000000000000cc").ok());
  EXPECT_GT(engine->access_epoch(), epoch0);
  EXPECT_EQ(engine->RevokeToken("00000000000000cc").code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine->Close().ok());
  engine.reset();

  engine = OpenOrNull(SmallOptions(dir));
  ASSERT_NE(engine, nullptr);
  auto tokens = engine->ListTokens();
  ASSERT_EQ(tokens.size(), 2u);
  auto writer = engine->FindToken("00000000000000bb");
  ASSERT_TRUE(writer.has_value());
  EXPECT_EQ(writer->role, TokenRole::kWrite);
  EXPECT_EQ(writer->namespace_id, *ns);
  EXPECT_EQ(writer->label, "test");
  EXPECT_EQ(writer->created_ms, 1234u);
  EXPECT_FALSE(engine->FindToken("00000000000000cc").has_value());

  // Deleting the namespace revokes its tokens, durably.
  const uint64_t epoch1 = engine->access_epoch();
  ASSERT_TRUE(engine->DeleteNamespace("tenant").ok());
  EXPECT_GT(engine->access_epoch(), epoch1);
  EXPECT_FALSE(engine->FindToken("00000000000000bb").has_value());
  ASSERT_TRUE(engine->Close().ok());
  engine.reset();
  engine = OpenOrNull(SmallOptions(dir));
  ASSERT_NE(engine, nullptr);
  ASSERT_EQ(engine->ListTokens().size(), 1u);
  EXPECT_TRUE(engine->FindToken("00000000000000aa").has_value());
}

TEST(AccessTokenTest, ServerIssuesAndChecksTokens) {
  TempDir dir;
  auto engine = OpenOrNull(SmallOptions(dir));
  ASSERT_NE(engine, nullptr);
  auto ns = engine->CreateNamespace("tenant", {});
  ASSERT_TRUE(ns.ok());
  auto issued = service::IssueToken(engine.get(), TokenRole::kRead, *ns, "reader");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->token.size(), service::kTokenChars);

  auto p = service::Authenticate(*engine, issued->token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->token_id, issued->record.id);
  EXPECT_EQ(p->role, TokenRole::kRead);
  EXPECT_TRUE(p->InNamespace(*ns));
  EXPECT_FALSE(p->InNamespace(kDefaultNamespaceId));
  EXPECT_TRUE(p->Has(TokenRole::kRead));
  EXPECT_FALSE(p->Has(TokenRole::kWrite));

  // The catalog holds the hash, not the secret.
  const std::string catalog = ReadWholeFile(dir.data_dir() + "/CATALOG");
  EXPECT_EQ(catalog.find(issued->token.substr(21)), std::string::npos);
  EXPECT_NE(catalog.find(issued->record.secret_hash), std::string::npos);

  // Every other string fails the same way: a changed secret, a changed id,
  // a truncated or extended token, garbage, nothing.
  std::string changed = issued->token;
  changed[40] = changed[40] == 'a' ? 'b' : 'a';
  std::string other_id = issued->token;
  other_id[5] = other_id[5] == 'a' ? 'b' : 'a';
  for (const std::string& bad :
       {changed, other_id, issued->token.substr(0, 84), issued->token + "0", std::string("x"),
        std::string(), std::string(service::kTokenChars, 'a')}) {
    auto r = service::Authenticate(*engine, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthorized) << bad;
  }
  ASSERT_TRUE(engine->RevokeToken(issued->record.id).ok());
  EXPECT_EQ(service::Authenticate(*engine, issued->token).status().code(),
            StatusCode::kUnauthorized);
}

TEST(AccessTokenTest, FirstStartWritesOneAdminToken) {
  TempDir dir;
  auto engine = OpenOrNull(SmallOptions(dir));
  ASSERT_NE(engine, nullptr);
  auto created = service::EnsureAdminToken(engine.get(), dir.data_dir());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(*created);
  const std::string path = dir.data_dir() + "/admin.token";
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string token = ReadWholeFile(path);
  ASSERT_FALSE(token.empty());
  token.pop_back();  // the newline
  auto p = service::Authenticate(*engine, token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->role, TokenRole::kAdmin);
  EXPECT_TRUE(p->InNamespace(12345));
  // A second start finds it and writes nothing.
  created = service::EnsureAdminToken(engine.get(), dir.data_dir());
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(*created);
  EXPECT_EQ(ReadWholeFile(path), token + "\n");
}

TEST(AccessTokenTest, EveryOpNeedsARole) {
  using protocol::Opcode;
  for (int op = 1; op <= static_cast<int>(protocol::kLastOpcode); ++op) {
    ASSERT_TRUE(protocol::IsKnownOpcode(static_cast<uint8_t>(op)));
    auto role = service::RequiredRole(static_cast<Opcode>(op));
    EXPECT_EQ(role.has_value(), op != static_cast<int>(Opcode::kHello)) << op;
  }
  EXPECT_EQ(service::RequiredRole(Opcode::kGet), TokenRole::kRead);
  EXPECT_EQ(service::RequiredRole(Opcode::kMatchPrefix), TokenRole::kRead);
  EXPECT_EQ(service::RequiredRole(Opcode::kPut), TokenRole::kWrite);
  EXPECT_EQ(service::RequiredRole(Opcode::kDeleteGroup), TokenRole::kWrite);
  EXPECT_EQ(service::RequiredRole(Opcode::kStats), TokenRole::kAdmin);
  EXPECT_EQ(service::RequiredRole(Opcode::kTokenCreate), TokenRole::kAdmin);
  EXPECT_EQ(service::RequiredRole(Opcode::kNsList), TokenRole::kAdmin);
  EXPECT_TRUE(server::IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(server::IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(server::IsLoopbackHost("::1"));
  EXPECT_TRUE(server::IsLoopbackHost("localhost"));
  EXPECT_FALSE(server::IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(server::IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(server::IsLoopbackHost("::"));
}

}  // namespace
}  // namespace ctxstore::engine
