// The CLI's context commands against the real server process: --namespace,
// put's --ttl/--group/--parent/--meta, get --meta, ls, stat, pin, unpin,
// rm --group and ns, with the exit codes scripts rely on.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
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

bool OneLine(const std::string& s) {
  return !s.empty() && s.back() == '\n' && std::count(s.begin(), s.end(), '\n') == 1;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

// The entry of `ns ls --json` for name (null when absent).
nlohmann::json NamespaceEntry(const ServerProcess& server, const std::string& name) {
  CliResult r = server.Cli({"ns", "ls", "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json list = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(list.is_array()) << r.out;
  if (!list.is_array()) return nullptr;
  for (const nlohmann::json& entry : list) {
    if (entry.value("name", "") == name) return entry;
  }
  return nullptr;
}

class CliContextTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  void TearDown() override { StopAndReport(server_); }
  void Put(std::vector<std::string> args, const std::string& value) {
    args.insert(args.begin(), "put");
    args.push_back("-");
    CliResult r = server_.Cli(args, value);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  ServerProcess server_;
};

TEST_F(CliContextTest, NamespaceOptionIsolatesKeys) {
  CliResult r = server_.Cli({"ns", "create", "t1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  Put({"--namespace", "t1", "k"}, "in t1");
  r = server_.Cli({"get", "--namespace", "t1", "k"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "in t1");

  // Another namespace's key is simply not found.
  r = server_.Cli({"get", "k"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "ctxstore: not found: k\n");
  EXPECT_EQ(server_.Cli({"exists", "k"}).exit_code, 1);
  EXPECT_EQ(server_.Cli({"stat", "k"}).exit_code, 1);
  EXPECT_EQ(server_.Cli({"rm", "k"}).exit_code, 1);
  EXPECT_EQ(server_.Cli({"ls"}).out, "");
  EXPECT_EQ(server_.Cli({"exists", "--namespace", "t1", "k"}).exit_code, 0);

  // The same key in default is another object.
  Put({"k"}, "in default");
  EXPECT_EQ(server_.Cli({"get", "k"}).out, "in default");
  EXPECT_EQ(server_.Cli({"get", "--namespace", "t1", "k"}).out, "in t1");
  r = server_.Cli({"rm", "--namespace", "t1", "k"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(server_.Cli({"get", "k"}).out, "in default");

  // An unknown namespace: exit 1 with one line that names it.
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"get", "--namespace", "nope", "k"},
           {"ls", "--namespace", "nope"},
           {"put", "--namespace", "nope", "k", "-"},
       }) {
    r = server_.Cli(args, "v");
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << Describe(r);
    EXPECT_TRUE(OneLine(r.err)) << r.err;
    EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  }
}

TEST_F(CliContextTest, PutOptionsStatAndGetMeta) {
  Put({"--ttl", "1h", "--group", "sess", "--parent", "k0", "--meta", "dtype=bf16", "k1"},
      "the value");
  CliResult r = server_.Cli({"get", "k1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "the value");
  r = server_.Cli({"get", "--meta", "k1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "dtype=bf16");

  r = server_.Cli({"stat", "k1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  for (const char* field :
       {"key", "namespace_id", "size", "xxh3", "created_ms", "expires_ms", "in_dram", "on_flash",
        "durable", "pinned", "pin_dram", "pin_expires_ms", "leases", "lease_expires_ms", "orphan",
        "group", "parent", "writer", "meta"}) {
    EXPECT_TRUE(j.contains(field)) << field << " missing from " << r.out;
  }
  EXPECT_EQ(j.value("key", ""), "k1");
  EXPECT_EQ(j.value("namespace_id", 99u), 0u);
  EXPECT_EQ(j.value("size", 0u), 9u);
  EXPECT_EQ(j.value("group", ""), "sess");
  EXPECT_EQ(j.value("parent", ""), "k0");
  EXPECT_EQ(j.value("meta", ""), "dtype=bf16");
  EXPECT_FALSE(j.contains("meta_hex"));
  EXPECT_EQ(j.value("pinned", true), false);
  uint64_t created = j.value("created_ms", uint64_t{0});
  uint64_t expires = j.value("expires_ms", uint64_t{0});
  EXPECT_GT(created, 0u);
  EXPECT_GE(expires, created + 3'599'000) << r.out;
  EXPECT_LE(expires, created + 3'601'000) << r.out;
  // Provenance: the id of the token that wrote it (the admin token's here).
  EXPECT_EQ(j.value("writer", ""), server_.admin_token().substr(4, 16)) << r.out;
  EXPECT_EQ(j.value("xxh3", "").size(), 16u) << r.out;

  // Metadata that is not UTF-8 is shown as hex.
  Put({"--meta", "\xff\xfe", "k2"}, "v");
  r = server_.Cli({"stat", "k2"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j.value("meta_hex", ""), "fffe") << r.out;
  r = server_.Cli({"get", "--meta", "k2"});
  EXPECT_EQ(r.out, "\xff\xfe");

  // No metadata: --meta prints nothing.
  Put({"plain"}, "v");
  r = server_.Cli({"get", "--meta", "plain"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");

  r = server_.Cli({"stat", "absent"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "ctxstore: not found: absent\n");
  r = server_.Cli({"get", "--meta", "absent"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
}

TEST_F(CliContextTest, TtlExpiresAndShowsInLs) {
  // Long enough for two CLI runs under a sanitizer build, short enough to wait for.
  Put({"--ttl", "1500ms", "brief"}, "v");
  Put({"lasting"}, "v");
  CliResult r = server_.Cli({"ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  std::vector<std::string> brief = Fields(lines[0]);
  ASSERT_EQ(brief.size(), 5u) << lines[0];
  EXPECT_EQ(brief[0], "brief");
  EXPECT_NE(brief[3], "-") << lines[0];  // an expiry time
  EXPECT_EQ(Fields(lines[1])[3], "-") << lines[1];

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (server_.Cli({"exists", "brief"}).exit_code == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(server_.Cli({"exists", "brief"}).exit_code, 1);
  EXPECT_EQ(Lines(server_.Cli({"ls"}).out).size(), 1u);
}

TEST_F(CliContextTest, LsFiltersLimitsAndFollowsCursors) {
  Put({"--group", "g1", "a/1"}, "1");
  Put({"--group", "g1", "a/2"}, "22");
  Put({"--group", "g2", "b/1"}, "333");
  CliResult r = server_.Cli({"ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  std::vector<std::string> f = Fields(lines[1]);
  ASSERT_EQ(f.size(), 5u) << lines[1];
  EXPECT_EQ(f[0], "a/2");
  EXPECT_EQ(f[1], "2");
  EXPECT_TRUE(f[2] == "dram" || f[2] == "flash" || f[2] == "dram+flash") << f[2];
  EXPECT_EQ(f[3], "-");
  EXPECT_EQ(f[4], "g1");

  r = server_.Cli({"ls", "--group", "g1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(Fields(lines[0])[0], "a/1");
  r = server_.Cli({"ls", "--prefix", "b/"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(Fields(lines[0])[0], "b/1");
  r = server_.Cli({"ls", "--limit", "2"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Lines(r.out).size(), 2u) << r.out;
  EXPECT_EQ(server_.Cli({"ls", "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ls", "--limit", "x"}).exit_code, 2);

  // More than one page (1000 objects): every object is listed once, in order.
  ClientOptions options;
  options.port = server_.port();
  options.token = server_.admin_token();
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  std::vector<std::string> keys;
  for (int i = 0; i < 1205; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "many/%04d", i);
    keys.push_back(key);
  }
  for (size_t start = 0; start < keys.size(); start += 500) {
    std::vector<PutItem> items;
    for (size_t i = start; i < std::min(keys.size(), start + 500); ++i) {
      items.push_back({keys[i], {}});
    }
    auto codes = (*client)->BatchPut(items);
    ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  }
  r = server_.Cli({"ls", "--prefix", "many/"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(Fields(lines[i])[0], keys[i]) << i;
  r = server_.Cli({"ls", "--prefix", "many/", "--limit", "1100"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Lines(r.out).size(), 1100u);
}

TEST_F(CliContextTest, PinAndUnpin) {
  Put({"k"}, "v");
  CliResult r = server_.Cli({"pin", "k"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  nlohmann::json j = nlohmann::json::parse(server_.Cli({"stat", "k"}).out, nullptr, false);
  EXPECT_EQ(j.value("pinned", false), true) << j.dump();
  r = server_.Cli({"unpin", "k"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  j = nlohmann::json::parse(server_.Cli({"stat", "k"}).out, nullptr, false);
  EXPECT_EQ(j.value("pinned", true), false) << j.dump();
  r = server_.Cli({"unpin", "k"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  r = server_.Cli({"pin", "absent"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);

  r = server_.Cli({"pin", "--ttl", "10m", "--dram", "k"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  j = nlohmann::json::parse(server_.Cli({"stat", "k"}).out, nullptr, false);
  EXPECT_EQ(j.value("pin_dram", false), true) << j.dump();
  EXPECT_GT(j.value("pin_expires_ms", uint64_t{0}), 0u) << j.dump();

  Put({"--group", "g", "g1"}, "v");
  Put({"--group", "g", "g2"}, "v");
  r = server_.Cli({"pin", "--group", "g"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "2\n");
  j = nlohmann::json::parse(server_.Cli({"stat", "g2"}).out, nullptr, false);
  EXPECT_EQ(j.value("pinned", false), true) << j.dump();
  r = server_.Cli({"unpin", "--group", "g"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(server_.Cli({"unpin", "--group", "g"}).exit_code, 1);

  // KEY or --group, exactly one; durations must parse.
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"pin"},
           {"pin", "--group", "g", "k"},
           {"unpin"},
           {"unpin", "--group", "g", "k"},
           {"pin", "--ttl", "soon", "k"},
       }) {
    r = server_.Cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << Describe(r);
    EXPECT_FALSE(r.err.empty());
  }
}

TEST_F(CliContextTest, RmGroupPrintsTheCount) {
  for (const char* key : {"s/1", "s/2", "s/3"}) Put({"--group", "sess", key}, "v");
  Put({"other"}, "v");
  CliResult r = server_.Cli({"rm", "--group", "sess"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "3\n");
  EXPECT_EQ(server_.Cli({"exists", "s/1"}).exit_code, 1);
  EXPECT_EQ(server_.Cli({"exists", "other"}).exit_code, 0);
  r = server_.Cli({"rm", "--group", "sess"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "0\n");
  EXPECT_EQ(server_.Cli({"rm", "--group", "sess", "other"}).exit_code, 2);
}

TEST_F(CliContextTest, BadPutOptionsAreUsageErrors) {
  for (const char* ttl : {"5x", "abc", "-1s"}) {
    CliResult r = server_.Cli({"put", "--ttl", ttl, "k", "-"}, "v");
    EXPECT_EQ(r.exit_code, 2) << ttl << ": " << Describe(r);
    EXPECT_TRUE(OneLine(r.err)) << r.err;
  }
  EXPECT_EQ(server_.Cli({"exists", "k"}).exit_code, 1);  // nothing was stored
}

TEST_F(CliContextTest, NamespaceCommands) {
  CliResult r = server_.Cli({"ns", "create", "tenant", "--quota", "1MiB", "--default-ttl", "30s",
                             "--max-ttl", "1h", "--priority", "3"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json e = NamespaceEntry(server_, "tenant");
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e.value("quota_bytes", 0u), 1u << 20);
  EXPECT_EQ(e.value("default_ttl_ms", 0u), 30'000u);
  EXPECT_EQ(e.value("max_ttl_ms", 0u), 3'600'000u);
  EXPECT_EQ(e.value("priority", 0u), 3u);
  EXPECT_EQ(e.value("objects", 99u), 0u);
  EXPECT_TRUE(NamespaceEntry(server_, "default").is_object());

  // The table: a header and one row per namespace.
  r = server_.Cli({"ns", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0].rfind("NAME", 0), 0u) << r.out;
  bool found = false;
  for (const std::string& line : lines) found = found || line.rfind("tenant ", 0) == 0;
  EXPECT_TRUE(found) << r.out;

  // set changes only what it is given.
  r = server_.Cli({"ns", "set", "tenant", "--quota", "2MiB"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  e = NamespaceEntry(server_, "tenant");
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e.value("quota_bytes", 0u), 2u << 20);
  EXPECT_EQ(e.value("default_ttl_ms", 0u), 30'000u);
  EXPECT_EQ(e.value("priority", 0u), 3u);

  Put({"--namespace", "tenant", "k"}, "12345");
  e = NamespaceEntry(server_, "tenant");
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e.value("objects", 0u), 1u);
  EXPECT_EQ(e.value("bytes", 0u), 5u);

  // Errors: exists is 3, not found 1, bad input 2.
  r = server_.Cli({"ns", "create", "tenant"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_EQ(server_.Cli({"ns", "set", "nope", "--quota", "1MiB"}).exit_code, 1);
  EXPECT_EQ(server_.Cli({"ns", "set", "tenant"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ns", "create", "x", "--quota", "lots"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ns", "create", "x", "--default-ttl", "later"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ns", "create", "x", "--priority", "9"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ns", "create", "bad name!"}).exit_code, 3);
  EXPECT_EQ(server_.Cli({"ns"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ns", "create"}).exit_code, 2);
  EXPECT_EQ(server_.Cli({"ns", "rm", "default"}).exit_code, 3);

  r = server_.Cli({"ns", "rm", "tenant"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(NamespaceEntry(server_, "tenant").is_null());
  r = server_.Cli({"ns", "rm", "tenant"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_EQ(server_.Cli({"get", "--namespace", "tenant", "k"}).exit_code, 1);

  // --server also works after the ns subcommand.
  r = RunCli(
      {"ns", "ls", "--server", server_.address(), "--data-dir", server_.data_dir(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(CliContextTest, QuotaFullOfPinnedDataExits3) {
  ASSERT_EQ(server_.Cli({"ns", "create", "q", "--quota", "64KiB"}).exit_code, 0);
  CliResult r = server_.Cli({"pin", "--namespace", "q", "--group", "hold"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::string value(16 * 1024, 'p');
  for (const char* key : {"h0", "h1", "h2", "h3"}) {
    Put({"--namespace", "q", "--group", "hold", key}, value);
  }
  r = server_.Cli({"put", "--namespace", "q", "extra", "-"}, value);
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("no space: pinned"), std::string::npos) << r.err;
}

TEST(CliContextUsage, UnreachableServerExits3ForNewCommands) {
  std::string server = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"ls", "--server", server},
           {"stat", "--server", server, "k"},
           {"pin", "--server", server, "k"},
           {"ns", "ls", "--server", server},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 3) << args[0] << ": " << Describe(r);
    EXPECT_TRUE(OneLine(r.err)) << r.err;
  }
}

}  // namespace
}  // namespace ctxstore
