// Authentication, authorization and the audit log, through the real server
// binary: the admin token of the first start, tenant tokens confined to
// their namespace and role, revocation of live connections, the CLI's token
// commands and exit code 4, --no-auth only on loopback, audit.log lines and
// rotation.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::CliResult;
using ::ctxstore::testing::Describe;
using ::ctxstore::testing::RunCli;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;
using ::ctxstore::testing::TempDir;

constexpr int kExitUnauthorized = 4;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The audit log's lines, parsed; a line that is not JSON fails the test.
std::vector<nlohmann::json> AuditLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
    if (j.is_object()) lines.push_back(std::move(j));
  }
  return lines;
}

size_t CountEvents(const std::vector<nlohmann::json>& lines, const std::string& event) {
  size_t n = 0;
  for (const auto& l : lines) n += l.value("event", "") == event;
  return n;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  void TearDown() override { StopAndReport(server_); }

  Result<std::unique_ptr<Client>> Connect(const std::string& token, const std::string& ns = "") {
    ClientOptions o;
    o.port = server_.port();
    o.token = token;
    o.namespace_name = ns;
    o.max_idle_connections = 1;
    return Client::Connect(o);
  }
  std::unique_ptr<Client> Admin() {
    auto c = Connect(server_.admin_token());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::string NewToken(Client& admin, const std::string& role, const std::string& ns) {
    auto t = admin.CreateToken(role, ns, "test");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->token : "";
  }
  std::string AuditPath() const { return server_.data_dir() + "/audit.log"; }

  ServerProcess server_;
};

TEST_F(AuthTest, FirstStartWritesAnAdminTokenReadableByTheOwnerOnly) {
  const std::string path = server_.data_dir() + "/admin.token";
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = server_.admin_token();
  EXPECT_EQ(token.size(), 85u) << token;
  EXPECT_EQ(token.rfind("ctx_", 0), 0u) << token;
  // The catalog keeps a hash, never the token or its secret.
  const std::string catalog = ReadFile(server_.data_dir() + "/CATALOG");
  ASSERT_NE(catalog.find("\"tokens\""), std::string::npos) << catalog;
  EXPECT_EQ(catalog.find(token.substr(21)), std::string::npos) << catalog;
  // A restart keeps the same token (and writes no new one).
  ASSERT_TRUE(server_.Restart());
  EXPECT_EQ(server_.admin_token(), token);
  auto admin = Admin();
  ASSERT_NE(admin, nullptr);
  auto tokens = admin->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].role, "admin");
  EXPECT_EQ((*tokens)[0].namespace_name, "*");
  EXPECT_EQ(token.substr(4, 16), (*tokens)[0].id);
}

TEST_F(AuthTest, MissingOrWrongTokensAreRefusedAndAudited) {
  auto none = Connect("");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthorized) << none.status().ToString();

  std::string wrong = server_.admin_token();
  wrong.back() = wrong.back() == '0' ? '1' : '0';  // right id, wrong secret
  auto bad = Connect(wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthorized);
  auto garbage = Connect("not-a-token");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kUnauthorized);

  auto admin = Admin();
  ASSERT_NE(admin, nullptr);
  auto stats = admin->StatsJson();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(nlohmann::json::parse(*stats).at("auth_failures").get<uint64_t>(), 3u) << *stats;
  auto lines = AuditLines(AuditPath());
  EXPECT_EQ(CountEvents(lines, "auth_failure"), 3u) << ReadFile(AuditPath());
  for (const auto& l : lines) {
    if (l.value("event", "") != "auth_failure") continue;
    EXPECT_TRUE(l.contains("ts") && l.contains("peer") && l.contains("reason")) << l.dump();
  }
}

TEST_F(AuthTest, TenantTokensStayInTheirNamespaceAndRole) {
  auto admin = Admin();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->CreateNamespace("tenant-a").ok());
  ASSERT_TRUE(admin->CreateNamespace("tenant-b").ok());
  const std::string writer_a = NewToken(*admin, "write", "tenant-a");
  const std::string reader_a = NewToken(*admin, "read", "tenant-a");

  // B's objects, written by the admin.
  auto admin_b = Connect(server_.admin_token(), "tenant-b");
  ASSERT_TRUE(admin_b.ok());
  ASSERT_TRUE((*admin_b)->Put("secret", "b's value").ok());

  // No namespace named: the token's own.
  auto a = Connect(writer_a);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE((*a)->Put("k", "a's value").ok());
  EXPECT_EQ((*a)->Get("secret").status().code(), StatusCode::kNotFound);
  auto info = (*a)->Stat("k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->writer, writer_a.substr(4, 16));  // provenance: the token's id

  // Another namespace, existing or not, answers the same.
  for (const char* ns : {"tenant-b", "no-such-namespace", "default"}) {
    auto other = Connect(writer_a, ns);
    ASSERT_FALSE(other.ok()) << ns;
    EXPECT_EQ(other.status().code(), StatusCode::kUnauthorized) << other.status().ToString();
    EXPECT_NE(other.status().message().find("not valid in namespace"), std::string::npos)
        << other.status().ToString();
  }

  // read: reads, matches and lists; no writes. The connection stays usable.
  auto r = Connect(reader_a, "tenant-a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->Put("k2", "x").code(), StatusCode::kUnauthorized);
  auto v = (*r)->Get("k");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, "a's value");
  std::vector<std::string> keys = {"k", "k2"};
  auto matched = (*r)->MatchPrefix(keys);
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, 1u);
  EXPECT_TRUE((*r)->List({}).ok());
  EXPECT_EQ((*r)->Delete("k").code(), StatusCode::kUnauthorized);
  EXPECT_EQ((*r)->Pin("k").status().code(), StatusCode::kUnauthorized);
  EXPECT_EQ((*r)->DeleteGroup("g").status().code(), StatusCode::kUnauthorized);
  EXPECT_EQ((*r)->Flush().code(), StatusCode::kUnauthorized);
  std::vector<PutItem> items = {{"k3", std::span<const uint8_t>()}};
  EXPECT_EQ((*r)->BatchPut(items).status().code(), StatusCode::kUnauthorized);
  EXPECT_TRUE((*r)->Exists("k").ok());

  // Admin ops need admin.
  for (Client* c : {a->get(), r->get()}) {
    EXPECT_EQ(c->StatsJson().status().code(), StatusCode::kUnauthorized);
    EXPECT_EQ(c->ListNamespaces().status().code(), StatusCode::kUnauthorized);
    EXPECT_EQ(c->CreateNamespace("mine").code(), StatusCode::kUnauthorized);
    EXPECT_EQ(c->DeleteNamespace("tenant-b").code(), StatusCode::kUnauthorized);
    EXPECT_EQ(c->ListTokens().status().code(), StatusCode::kUnauthorized);
    EXPECT_EQ(c->CreateToken("admin", "").status().code(), StatusCode::kUnauthorized);
  }
  // Nothing of B's changed.
  auto still = (*admin_b)->Get("secret");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still, "b's value");
  auto stats = admin->StatsJson();
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(nlohmann::json::parse(*stats).at("access_denied").get<uint64_t>(), 20u) << *stats;
  EXPECT_GE(CountEvents(AuditLines(AuditPath()), "denied"), 20u);

  // Bad requests for tokens.
  EXPECT_EQ(admin->CreateToken("write", "").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(admin->CreateToken("admin", "tenant-a").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(admin->CreateToken("owner", "tenant-a").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(admin->CreateToken("read", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(AuthTest, RevocationEndsLiveConnections) {
  auto admin = Admin();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->CreateNamespace("t").ok());
  auto created = admin->CreateToken("write", "t", "to revoke");
  ASSERT_TRUE(created.ok());
  auto tenant = Connect(created->token);
  ASSERT_TRUE(tenant.ok());
  ASSERT_TRUE((*tenant)->Put("k", "v").ok());

  ASSERT_TRUE(admin->RevokeToken(created->info.id).ok());
  EXPECT_EQ(admin->RevokeToken(created->info.id).code(), StatusCode::kNotFound);
  // The open connection fails at its next request, and no new one opens.
  EXPECT_EQ((*tenant)->Get("k").status().code(), StatusCode::kUnauthorized);
  auto again = Connect(created->token);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kUnauthorized);
  auto tokens = admin->ListTokens();
  ASSERT_TRUE(tokens.ok());
  for (const TokenInfo& t : *tokens) EXPECT_NE(t.id, created->info.id);

  // Deleting a namespace revokes its tokens, across restarts too.
  const std::string kept = NewToken(*admin, "read", "t");
  ASSERT_TRUE(server_.Restart());
  auto reader = Connect(kept);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto admin2 = Admin();
  ASSERT_NE(admin2, nullptr);
  ASSERT_TRUE(admin2->DeleteNamespace("t").ok());
  EXPECT_EQ((*reader)->Get("k").status().code(), StatusCode::kUnauthorized);
  ASSERT_TRUE(server_.Restart());
  EXPECT_EQ(Connect(kept).status().code(), StatusCode::kUnauthorized);

  auto lines = AuditLines(AuditPath());
  EXPECT_EQ(CountEvents(lines, "token_create"), 2u) << ReadFile(AuditPath());
  EXPECT_EQ(CountEvents(lines, "token_revoke"), 1u);
  EXPECT_EQ(CountEvents(lines, "namespace_create"), 1u);
  EXPECT_EQ(CountEvents(lines, "namespace_delete"), 1u);
  EXPECT_EQ(CountEvents(lines, "admin_token_created"), 1u);
}

TEST_F(AuthTest, CliTokenCommandsAndExitCodes) {
  CliResult r = server_.Cli({"ns", "create", "cli-ns"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"token", "create", "--namespace", "cli-ns", "--role", "read", "--label", "ro"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // The token alone on stdout.
  ASSERT_EQ(r.out.size(), 86u) << r.out;
  const std::string reader = r.out.substr(0, 85);
  r = server_.Cli({"token", "create", "--namespace", "cli-ns", "--role", "write"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string writer = r.out.substr(0, 85);

  r = server_.Cli({"put", "--token", writer, "k", "-"}, "value");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"get", "--token", reader, "k"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "value");
  // Exit code 4: the role does not allow it, or the token is not valid.
  r = server_.Cli({"put", "--token", reader, "k2", "-"}, "value");
  EXPECT_EQ(r.exit_code, kExitUnauthorized) << Describe(r);
  r = server_.Cli({"get", "--token", reader, "--namespace", "default", "k"});
  EXPECT_EQ(r.exit_code, kExitUnauthorized) << Describe(r);
  r = server_.Cli({"stats", "--token", writer});
  EXPECT_EQ(r.exit_code, kExitUnauthorized) << Describe(r);
  TempDir empty;
  r = RunCli({"stats", "--server", server_.address(), "--data-dir", empty.path()});
  EXPECT_EQ(r.exit_code, kExitUnauthorized) << Describe(r);
  // $CTXSTORE_TOKEN comes before DATA_DIR/admin.token.
  setenv("CTXSTORE_TOKEN", reader.c_str(), 1);
  r = server_.Cli({"put", "k3", "-"}, "value");
  unsetenv("CTXSTORE_TOKEN");
  EXPECT_EQ(r.exit_code, kExitUnauthorized) << Describe(r);

  r = server_.Cli({"token", "ls", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json list = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.out;
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(r.out.find(reader.substr(21)), std::string::npos) << "secrets are never listed";
  bool found = false;
  for (const auto& t : list) {
    if (t.value("id", "") == reader.substr(4, 16)) {
      found = true;
      EXPECT_EQ(t.value("role", ""), "read");
      EXPECT_EQ(t.value("namespace", ""), "cli-ns");
      EXPECT_EQ(t.value("label", ""), "ro");
    }
  }
  EXPECT_TRUE(found) << r.out;
  r = server_.Cli({"token", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("ID"), std::string::npos) << r.out;

  r = server_.Cli({"token", "revoke", reader.substr(4, 16)});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"token", "revoke", reader.substr(4, 16)});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  r = server_.Cli({"get", "--token", reader, "k"});
  EXPECT_EQ(r.exit_code, kExitUnauthorized) << Describe(r);
  r = server_.Cli({"token", "create", "--role", "write"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

TEST_F(AuthTest, NamespacesCanRequireAModelFingerprint) {
  auto admin = Admin();
  ASSERT_NE(admin, nullptr);
  NamespaceSpec spec;
  spec.require_model_fingerprint = true;
  ASSERT_TRUE(admin->CreateNamespace("labelled", spec).ok());
  const std::string writer = NewToken(*admin, "write", "labelled");
  auto c = Connect(writer);
  ASSERT_TRUE(c.ok()) << c.status().ToString();

  EXPECT_EQ((*c)->Put("k", "v").code(), StatusCode::kInvalid);
  for (const char* meta : {"not json", "[1]", "{\"model\":\"x\"}", "{\"model_fingerprint\":\"\"}",
                           "{\"model_fingerprint\":7}"}) {
    EXPECT_EQ((*c)->Put("k", "v", {.meta = meta}).code(), StatusCode::kInvalid) << meta;
  }
  EXPECT_EQ((*c)->Exists("k").status().code(), StatusCode::kNotFound);
  const std::string meta = R"({"model_fingerprint":"sha256:1f2e","dtype":"bf16"})";
  ASSERT_TRUE((*c)->Put("k", "v", {.meta = meta}).ok());
  std::vector<PutItem> items = {{"b", std::span<const uint8_t>()}};
  auto codes = (*c)->BatchPut(items);
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ((*codes)[0], StatusCode::kInvalid);
  auto info = (*c)->Stat("k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->meta, meta);
  EXPECT_EQ(info->writer, writer.substr(4, 16));

  // The policy is durable, and can be lifted.
  ASSERT_TRUE(server_.Restart());
  c = Connect(writer);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Put("k2", "v").code(), StatusCode::kInvalid);
  admin = Admin();
  ASSERT_NE(admin, nullptr);
  auto list = admin->ListNamespaces();
  ASSERT_TRUE(list.ok());
  bool seen = false;
  for (const NamespaceInfo& ns : *list) {
    if (ns.name == "labelled") seen = ns.config.require_model_fingerprint;
  }
  EXPECT_TRUE(seen);
  spec.require_model_fingerprint = false;
  ASSERT_TRUE(admin->SetNamespace("labelled", spec).ok());
  EXPECT_TRUE((*c)->Put("k2", "v").ok());

  // The CLI's option.
  CliResult r =
      server_.Cli({"ns", "create", "cli-labelled", "--require-model-fingerprint", "true"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"put", "--namespace", "cli-labelled", "k", "-"}, "v");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("model_fingerprint"), std::string::npos) << r.err;
  r = server_.Cli({"put", "--namespace", "cli-labelled", "--meta", meta, "k", "-"}, "v");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"ns", "ls", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("\"require_model_fingerprint\":true"), std::string::npos) << r.out;
}

TEST_F(AuthTest, NamespaceSharesOfPinsAndLeasesBoundEachTenant) {
  auto admin = Admin();
  ASSERT_NE(admin, nullptr);
  NamespaceSpec spec;
  spec.max_pins = 2;
  spec.max_leased_objects = 3;
  ASSERT_TRUE(admin->CreateNamespace("small", spec).ok());
  ASSERT_TRUE(admin->CreateNamespace("other").ok());
  auto small = Connect(NewToken(*admin, "write", "small"));
  auto other = Connect(NewToken(*admin, "write", "other"));
  ASSERT_TRUE(small.ok() && other.ok());
  const std::vector<std::string> keys = {"k1", "k2", "k3", "k4"};
  for (const std::string& k : keys) {
    ASSERT_TRUE((*small)->Put(k, "v", {.group = "g"}).ok());
    ASSERT_TRUE((*other)->Put(k, "v").ok());
  }

  // Pins: two rules, keys and groups alike; pinning again is not a new rule.
  ASSERT_TRUE((*small)->Pin("k1").ok());
  ASSERT_TRUE((*small)->Pin("g", {.by_group = true}).ok());
  auto refused = (*small)->Pin("k2");
  EXPECT_EQ(refused.status().code(), StatusCode::kNoSpace);
  EXPECT_NE(refused.status().message().find("max_pins"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE((*small)->Pin("k1", {.dram = true}).ok());
  for (const std::string& k : keys) EXPECT_TRUE((*other)->Pin(k).ok()) << k;  // not its limit
  ASSERT_TRUE((*small)->Unpin("k1").ok());
  EXPECT_TRUE((*small)->Pin("k2").ok());

  // Leases: objects held by all of the namespace's outstanding leases.
  const std::vector<std::string> two = {"k1", "k2"};
  auto first = (*small)->MatchPrefixLease(two, 60'000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto over = (*small)->MatchPrefixLease(two, 60'000);
  EXPECT_EQ(over.status().code(), StatusCode::kBusy);
  EXPECT_NE(over.status().message().find("max_leased_objects"), std::string::npos);
  auto plain = (*small)->MatchPrefix(two);  // a plain match still answers
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, 2u);
  EXPECT_TRUE((*other)->MatchPrefixLease(keys, 60'000).ok());
  auto one = (*small)->MatchPrefixLease({keys.data(), 1}, 60'000);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE((*small)->ReleaseLease(first->lease_id).ok());
  EXPECT_TRUE((*small)->MatchPrefixLease(two, 60'000).ok());

  // The limits are durable, shown by NS_LIST and the CLI, and can be lifted.
  ASSERT_TRUE(server_.Restart());
  small = Connect(NewToken(*Admin(), "write", "small"));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ((*small)->Pin("k3").status().code(), StatusCode::kNoSpace);
  CliResult r = server_.Cli({"ns", "ls", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json list = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.out;
  bool seen = false;
  for (const auto& ns : list) {
    if (ns.value("name", "") != "small") continue;
    seen = true;
    EXPECT_EQ(ns.value("max_pins", 0u), 2u);
    EXPECT_EQ(ns.value("max_leased_objects", 0u), 3u);
  }
  EXPECT_TRUE(seen) << r.out;
  r = server_.Cli({"ns", "set", "small", "--max-pins", "0"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE((*small)->Pin("k3").ok());
  r = server_.Cli({"ns", "create", "bad", "--max-pins", "-1"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
}

TEST(AuthOff, OnlyOnLoopback) {
  TempDir dir;
  CliResult r = RunCli({"serve", "--no-auth", "--listen", "0.0.0.0:0", "--data-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("loopback"), std::string::npos) << r.err;

  testing::ServerOptions o;
  o.extra_args = {"--no-auth"};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.admin_token(), "");  // none was made
  ClientOptions co;
  co.port = server.port();
  co.client_name = "anonymous-client";
  auto c = Client::Connect(co);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Put("k", "v").ok());
  auto info = (*c)->Stat("k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->writer, "anonymous-client");  // no token: the client's name
  EXPECT_TRUE((*c)->StatsJson().ok());
  StopAndReport(server);
}

TEST(AuditLog, RotatesBySize) {
  testing::ServerOptions o;
  o.extra_args = {"--audit-log-size", "2KiB", "--audit-log-files", "2"};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  ClientOptions co;
  co.port = server.port();
  co.token = server.admin_token();
  auto c = Client::Connect(co);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Each delete is one audit line of about 150 bytes.
  for (int i = 0; i < 100; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "doomed/%03d", i);
    ASSERT_TRUE((*c)->Put(key, "v").ok());
    ASSERT_TRUE((*c)->Delete(key).ok());
  }
  const std::string base = server.data_dir() + "/audit.log";
  struct stat st;
  for (const std::string& path : {base, base + ".1", base + ".2"}) {
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_LE(st.st_size, 2048) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
  EXPECT_NE(stat((base + ".3").c_str(), &st), 0) << "only two rotated files are kept";
  // The newest lines are in audit.log, the last delete among them.
  auto lines = AuditLines(base);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().value("event", ""), "delete");
  EXPECT_EQ(lines.back().value("key", ""), "doomed/099");
  EXPECT_EQ(lines.back().value("token_id", ""), server.admin_token().substr(4, 16));
  StopAndReport(server);
}

}  // namespace
}  // namespace ctxstore
