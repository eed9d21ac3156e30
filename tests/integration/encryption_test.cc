// Encryption at rest through the real server binary: keygen, serve's
// --encryption-key checks, the namespace setting over the client, the CLI
// and the audit log, and what reaches the segment files: a sealed
// namespace's values never in the clear, readable again only with the key
// that sealed them (KEY_UNAVAILABLE otherwise, and nothing lost).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::CliResult;
using ::ctxstore::testing::Connect;
using ::ctxstore::testing::Describe;
using ::ctxstore::testing::RunCli;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;
using ::ctxstore::testing::TempDir;

constexpr int kExitUsage = 2;
constexpr int kExitError = 3;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `ctxstore keygen path`, which must succeed.
::testing::AssertionResult Keygen(const std::string& path) {
  CliResult r = RunCli({"keygen", path});
  if (r.exit_code != 0) return ::testing::AssertionFailure() << Describe(r);
  return ::testing::AssertionSuccess();
}

// Every regular file under dir (prefix: only names starting with it),
// concatenated.
std::string FilesUnder(const std::string& dir, const std::string& prefix = "") {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    all += ReadFile(entry.path());
  }
  return all;
}

// len bytes of pattern repeated: easy to spot in a segment file.
std::string Repeat(const std::string& pattern, size_t len) {
  std::string out;
  while (out.size() < len) out += pattern;
  out.resize(len);
  return out;
}

TEST(EncryptionKeygen, WritesAPrivateKeyAndNeverOverwrites) {
  TempDir dir;
  const std::string path = dir.path() + "/k1.key";
  CliResult r = RunCli({"keygen", path});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");  // the key goes only to the file
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string key = ReadFile(path);
  ASSERT_EQ(key.size(), 65u) << key;
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), 64u) << key;
  EXPECT_EQ(key.back(), '\n');
  EXPECT_EQ(r.err.find(key.substr(0, 64)), std::string::npos) << "the key was printed";

  r = RunCli({"keygen", path});
  EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(path), key);

  ASSERT_TRUE(Keygen(dir.path() + "/k2.key"));
  EXPECT_NE(ReadFile(dir.path() + "/k2.key"), key);
  r = RunCli({"keygen"});
  EXPECT_EQ(r.exit_code, kExitUsage) << Describe(r);
}

TEST(EncryptionServe, RefusesBadKeys) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string k1 = dir.path() + "/k1.key";
  const std::string k2 = dir.path() + "/k2.key";
  ASSERT_TRUE(Keygen(k1));
  ASSERT_TRUE(Keygen(k2));
  const std::string copy = dir.path() + "/k1-copy.key";
  std::filesystem::copy_file(k1, copy);
  ASSERT_EQ(::chmod(copy.c_str(), 0600), 0);
  const std::string open = dir.path() + "/open.key";
  std::filesystem::copy_file(k1, open);
  ASSERT_EQ(::chmod(open.c_str(), 0644), 0);
  const std::string garbage = dir.path() + "/garbage.key";
  std::ofstream(garbage) << "not a key\n";
  ASSERT_EQ(::chmod(garbage.c_str(), 0600), 0);

  struct Case {
    std::vector<std::string> keys;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"k1=" + open}, "chmod 600"},
      {{"k1=" + dir.path() + "/missing.key"}, "missing.key"},
      {{"k1=" + garbage}, "64 hex digits"},
      {{k1}, "NAME=FILE"},
      {{"bad name=" + k1}, "bad key name"},
      {{"k1=" + k1, "k1=" + k2}, "given twice"},
      {{"k1=" + k1, "again=" + copy}, "same key"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"serve", "--data-dir", data, "--listen", "127.0.0.1:0"};
    for (const std::string& key : c.keys) {
      args.push_back("--encryption-key");
      args.push_back(key);
    }
    CliResult r = RunCli(args, {}, 20000);
    EXPECT_EQ(r.exit_code, kExitUsage) << c.keys[0] << ": " << Describe(r);
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.keys[0] << ": " << r.err;
  }

  // The config file's array goes through the same checks.
  const std::string config = dir.path() + "/ctxstore.toml";
  std::ofstream(config) << "encryption-key = [\"k1=" << k1 << "\", \"k2=" << open << "\"]\n";
  CliResult r = RunCli({"serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--config", config},
                       {}, 20000);
  EXPECT_EQ(r.exit_code, kExitUsage) << Describe(r);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
  std::ofstream(config) << "encryption-key = \"k1=" << k1 << "\"\n";  // not an array
  r = RunCli({"serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--config", config}, {},
             20000);
  EXPECT_EQ(r.exit_code, kExitUsage) << Describe(r);
  EXPECT_NE(r.err.find("encryption-key"), std::string::npos) << r.err;

  // A good one: the keys' names and ids are logged, never their bytes.
  std::ofstream(config) << "encryption-key = [\"k1=" << k1 << "\", \"k2=" << k2 << "\"]\n";
  testing::ServerOptions so;
  so.data_dir = data;
  so.extra_args = {"--config", config};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());
  const std::string log = server.log();
  EXPECT_NE(log.find("encryption key k1 loaded (id "), std::string::npos) << log;
  EXPECT_NE(log.find("encryption key k2 loaded (id "), std::string::npos) << log;
  EXPECT_EQ(log.find(ReadFile(k1).substr(0, 64)), std::string::npos) << log;
  StopAndReport(server);
}

class EncryptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Keygen(KeyPath("k1")));
    ASSERT_TRUE(Keygen(KeyPath("other")));
  }
  std::string KeyPath(const std::string& name) const { return keys_.path() + "/" + name + ".key"; }
  std::string KeyHex(const std::string& name) const {
    return ReadFile(KeyPath(name)).substr(0, 64);
  }
  // A server on the shared data folder with these --encryption-key entries.
  std::unique_ptr<ServerProcess> Server(const std::vector<std::string>& keys) const {
    testing::ServerOptions so;
    so.data_dir = data_.path();
    so.memory = "32MiB";
    so.disk = "128MiB";
    for (const std::string& key : keys) {
      so.extra_args.push_back("--encryption-key");
      so.extra_args.push_back(key);
    }
    return std::make_unique<ServerProcess>(so);
  }

  TempDir keys_;  // kept off the data folder, as deployments should
  TempDir data_;
};

TEST_F(EncryptionTest, NamespacesNameLoadedKeysOnly) {
  auto server = Server({"k1=" + KeyPath("k1")});
  ASSERT_TRUE(server->Start());
  auto admin = Connect(*server);
  ASSERT_NE(admin, nullptr);

  // An unknown key name is refused, and the message names it.
  NamespaceSpec spec;
  spec.encryption_key = "nope";
  Status st = admin->CreateNamespace("x", spec);
  EXPECT_EQ(st.code(), StatusCode::kInvalid) << st.ToString();
  EXPECT_NE(st.message().find("nope"), std::string::npos) << st.ToString();
  CliResult r = server->Cli({"ns", "create", "y", "--encryption-key", "nope"});
  EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
  EXPECT_NE(r.err.find("invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'nope'"), std::string::npos) << r.err;

  // The client library: create, list, turn off, turn on again.
  spec.encryption_key = "k1";
  ASSERT_TRUE(admin->CreateNamespace("sealed", spec).ok());
  auto key_of = [&](const std::string& ns) -> std::string {
    auto list = admin->ListNamespaces();
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (!list.ok()) return "?";
    for (const NamespaceInfo& info : *list) {
      if (info.name == ns) return info.config.encryption_key;
    }
    return "?";
  };
  EXPECT_EQ(key_of("sealed"), "k1");
  EXPECT_EQ(key_of("default"), "");
  // NS_SET leaves the key alone unless given one.
  ASSERT_TRUE(admin->SetNamespace("sealed", {.quota_bytes = 1 << 20}).ok());
  EXPECT_EQ(key_of("sealed"), "k1");
  spec.encryption_key = "";
  ASSERT_TRUE(admin->SetNamespace("sealed", spec).ok());
  EXPECT_EQ(key_of("sealed"), "");
  spec.encryption_key = "nope";
  EXPECT_EQ(admin->SetNamespace("sealed", spec).code(), StatusCode::kInvalid);
  EXPECT_EQ(key_of("sealed"), "");

  // The CLI: create, set, set "" (off), ls as JSON and as a table.
  r = server->Cli({"ns", "create", "cli-sealed", "--encryption-key", "k1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(key_of("cli-sealed"), "k1");
  r = server->Cli({"ns", "ls", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json list = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.out;
  bool listed = false;
  for (const auto& ns : list) {
    if (ns.value("name", "") == "cli-sealed") listed = ns.value("encryption_key", "") == "k1";
  }
  EXPECT_TRUE(listed) << r.out;
  r = server->Cli({"ns", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("ENCRYPTION_KEY"), std::string::npos) << r.out;
  bool row = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("cli-sealed ", 0) == 0) row = line.find(" k1 ") != std::string::npos;
  }
  EXPECT_TRUE(row) << r.out;
  r = server->Cli({"ns", "set", "cli-sealed", "--encryption-key", ""});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(key_of("cli-sealed"), "");
  r = server->Cli({"ns", "set", "cli-sealed", "--encryption-key", "k1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(key_of("cli-sealed"), "k1");

  // The setting is durable.
  ASSERT_TRUE(server->Restart());
  admin = Connect(*server);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(key_of("cli-sealed"), "k1");

  // The audit log names the key, never its bytes.
  const std::string audit = ReadFile(data_.path() + "/audit.log");
  bool created = false;
  std::istringstream audit_lines(audit);
  for (std::string line; std::getline(audit_lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("event", "") != "namespace_create") continue;
    if (j.value("namespace", "") != "cli-sealed") continue;
    created = j["settings"].value("encryption_key", "") == "k1";
  }
  EXPECT_TRUE(created) << audit;
  EXPECT_EQ(audit.find(KeyHex("k1")), std::string::npos);
  EXPECT_EQ(server->log().find(KeyHex("k1")), std::string::npos);
  StopAndReport(*server);
}

TEST_F(EncryptionTest, SealedValuesReachFlashOnlyEncrypted) {
  // Packed (small) and large records both.
  const std::vector<size_t> sizes = {100, 10 << 10, 300 << 10};
  const std::string secret = "SECRET-PLAINTEXT-";
  const std::string open = "PUBLIC-PLAINTEXT-";
  auto value = [&](const std::string& pattern, size_t size) { return Repeat(pattern, size); };
  auto key = [](size_t size) { return "obj/" + std::to_string(size); };
  // Every value of a namespace reads back exactly.
  auto expect_all = [&](const ServerProcess& server, const std::string& ns,
                        const std::string& pattern) {
    auto c = Connect(server, ns);
    ASSERT_NE(c, nullptr);
    for (size_t size : sizes) {
      auto got = c->Get(key(size));
      ASSERT_TRUE(got.ok()) << ns << " " << key(size) << ": " << got.status().ToString();
      EXPECT_TRUE(*got == value(pattern, size)) << ns << " " << key(size) << " differs";
    }
  };

  {
    auto server = Server({"k1=" + KeyPath("k1")});
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    ASSERT_TRUE(admin->CreateNamespace("sealed", {.encryption_key = "k1"}).ok());
    ASSERT_TRUE(admin->CreateNamespace("clear").ok());
    for (const auto& [ns, pattern] : {std::pair{"sealed", secret}, std::pair{"clear", open}}) {
      auto c = Connect(*server, ns);
      ASSERT_NE(c, nullptr);
      for (size_t size : sizes) ASSERT_TRUE(c->Put(key(size), value(pattern, size)).ok());
      ASSERT_TRUE(c->Flush().ok());
    }
    ASSERT_EQ(server->Stop(), 0) << server->log();
  }

  // On flash: the clear values as they are (so the scan finds values), the
  // sealed ones nowhere in the data folder.
  const std::string segments = FilesUnder(data_.path(), "seg-");
  ASSERT_FALSE(segments.empty());
  for (size_t size : sizes) {
    EXPECT_NE(segments.find(value(open, size)), std::string::npos) << "clear value of " << size;
  }
  EXPECT_EQ(FilesUnder(data_.path()).find(secret + secret.substr(0, 8)), std::string::npos)
      << "a sealed value is on disk in the clear";

  // The same key: every value back, byte for byte (read from flash).
  {
    auto server = Server({"k1=" + KeyPath("k1")});
    ASSERT_TRUE(server->Start());
    expect_all(*server, "sealed", secret);
    expect_all(*server, "clear", open);
    // STAT says which objects are encrypted on flash.
    for (const char* ns : {"sealed", "clear"}) {
      auto c = Connect(*server, ns);
      ASSERT_NE(c, nullptr);
      auto info = c->Stat(key(100));
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      EXPECT_EQ(info->sealed, std::string(ns) == "sealed") << ns;
      EXPECT_TRUE(info->on_flash) << ns;
    }
    CliResult stat = server->Cli({"stat", "--namespace", "sealed", key(100)});
    EXPECT_EQ(stat.exit_code, 0) << Describe(stat);
    EXPECT_NE(stat.out.find("\"sealed\": true"), std::string::npos) << stat.out;
    StopAndReport(*server);
  }

  // Another key under the same name: KEY_UNAVAILABLE, never garbage or
  // NOT_FOUND; the clear namespace is unaffected.
  {
    auto server = Server({"k1=" + KeyPath("other")});
    ASSERT_TRUE(server->Start());
    auto c = Connect(*server, "sealed");
    ASSERT_NE(c, nullptr);
    for (size_t size : sizes) {
      auto got = c->Get(key(size));
      EXPECT_EQ(got.status().code(), StatusCode::kKeyUnavailable)
          << key(size) << ": "
          << (got.ok() ? "served " + std::to_string(got->size()) + " bytes"
                       : got.status().ToString());
    }
    // The CLI shows the server's message and exits 3 (not 4, for auth).
    CliResult r = server->Cli({"get", "--namespace", "sealed", key(100)});
    EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
    EXPECT_NE(r.err.find("key_unavailable"), std::string::npos) << r.err;
    expect_all(*server, "clear", open);
    auto clear = Connect(*server, "clear");
    ASSERT_NE(clear, nullptr);
    EXPECT_TRUE(clear->Put("obj/new", "still writable").ok());
    StopAndReport(*server);
  }

  // The right key again: the failed reads lost nothing.
  {
    auto server = Server({"k1=" + KeyPath("k1")});
    ASSERT_TRUE(server->Start());
    expect_all(*server, "sealed", secret);
    StopAndReport(*server);
  }

  // No key at all: a warning at startup, and the sealed namespace neither
  // serves nor stores anything.
  {
    auto server = Server({});
    ASSERT_TRUE(server->Start());
    EXPECT_NE(
        server->log().find("namespace 'sealed' is encrypted with key 'k1', which is not loaded"),
        std::string::npos)
        << server->log();
    auto c = Connect(*server, "sealed");
    ASSERT_NE(c, nullptr);
    Status put = c->Put("obj/after", "never stored");
    EXPECT_EQ(put.code(), StatusCode::kKeyUnavailable) << put.ToString();
    auto got = c->Get(key(100));
    EXPECT_EQ(got.status().code(), StatusCode::kKeyUnavailable)
        << (got.ok() ? "served the value" : got.status().ToString());
    expect_all(*server, "clear", open);
    StopAndReport(*server);
  }
}

}  // namespace
}  // namespace ctxstore
