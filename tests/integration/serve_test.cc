// `ctxstore serve` as operators run it: config files, option errors, clean
// shutdown, and corruption in segment files detected through the server:
// exactly the damaged records refused and counted, every other one served.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using testing::RunCli;
using testing::ServerProcess;
using testing::TempDir;

std::unique_ptr<Client> ConnectOrDie(const ServerProcess& server) {
  ClientOptions o;
  o.port = server.port();
  o.token = server.admin_token();
  auto c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(Serve, ConfigFileFillsOptionsAndTheCommandLineWins) {
  TempDir dir;
  std::string config = dir.path() + "/ctxstore.toml";
  std::ofstream(config) << "max-value = \"1MiB\"\nmemory = \"512MiB\"\nsync-interval = \"250ms\"\n";
  testing::ServerOptions so;
  so.memory = "32MiB";  // passed on the command line: overrides the file's 512MiB
  so.extra_args = {"--config", config};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = ConnectOrDie(server);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->server_info().max_value_bytes, 1u << 20);
  auto stats = client->StatsJson();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(nlohmann::json::parse(*stats)["dram_capacity_bytes"].get<uint64_t>(), 32u << 20);
  EXPECT_EQ(client->Put("big", std::string((1 << 20) + 1, 'x')).code(), StatusCode::kTooLarge);
}

TEST(Serve, BadOptionsAreUsageErrors) {
  TempDir dir;
  auto r = RunCli({"serve", "--data-dir", dir.path(), "--memory", "12XB"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--memory"), std::string::npos) << r.err;
  r = RunCli({"serve", "--data-dir", dir.path(), "--listen", "nonsense"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::string config = dir.path() + "/bad.toml";
  std::ofstream(config) << "no-such-option = 1\n";
  r = RunCli({"serve", "--data-dir", dir.path(), "--config", config});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no-such-option"), std::string::npos) << r.err;
}

TEST(Serve, PortInUseIsAnError) {
  ServerProcess first;
  ASSERT_TRUE(first.Start());
  TempDir dir;
  auto r =
      RunCli({"serve", "--data-dir", dir.path(), "--listen", first.address(), "--memory", "16MiB"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

TEST(Serve, SigtermStopsCleanly) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Stop(), 0) << server.log();
  EXPECT_NE(server.log().find("stopped cleanly"), std::string::npos);
}

// Damages a known half of the stored values on flash (one byte inside each,
// packed and aligned records both) and checks that exactly those are
// refused and counted, and every other one is served byte for byte:
// with the checkpoint (values trusted until read: the GET finds the damage,
// CORRUPT) and, on a copy of the damaged folder, without it (the full scan
// skips the damaged records: NOT_FOUND).
TEST(Serve, FlippedBytesInSegmentsAreDetectedExactly) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::map<std::string, std::string> values;
  std::set<std::string> damaged;
  {
    auto client = ConnectOrDie(server);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 8; ++i) {
      std::string key = "flip/" + std::to_string(i);
      // Small (packed) and large (aligned) records both, each value unique.
      values[key] = testing::RandomBytes(i % 2 ? 200'000 : 3'000, static_cast<uint64_t>(i));
      ASSERT_TRUE(client->Put(key, values[key]).ok());
      // Two small and two large ones.
      if (i == 1 || i == 2 || i == 5 || i == 6) damaged.insert(key);
    }
  }
  ASSERT_EQ(server.Stop(), 0);
  // Find each damaged value's bytes in the segment files and flip one.
  int flipped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(server.data_dir())) {
    if (entry.path().filename().string().rfind("seg-", 0) != 0) continue;
    std::string path = entry.path();
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& key : damaged) {
      const std::string& value = values[key];
      size_t at = data.find(value.substr(0, 2048));
      if (at == std::string::npos) continue;
      ASSERT_EQ(data.find(value.substr(0, 2048), at + 1), std::string::npos) << key;
      int fd = open(path.c_str(), O_WRONLY);
      char bad = static_cast<char>(value[100] ^ 0x5a);
      ASSERT_EQ(pwrite(fd, &bad, 1, static_cast<off_t>(at + 100)), 1);
      close(fd);
      ++flipped;
    }
  }
  ASSERT_EQ(flipped, 4);
  // The copy, without its checkpoint, for the full scan.
  TempDir scan_dir;
  std::filesystem::copy(
      server.data_dir(), scan_dir.path(),
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(std::filesystem::remove(scan_dir.path() + "/CHECKPOINT"));
  testing::ServerOptions scan_options;
  scan_options.data_dir = scan_dir.path();
  ServerProcess scan(scan_options);

  for (ServerProcess* s : {&server, &scan}) {
    const bool full_scan = s == &scan;
    SCOPED_TRACE(full_scan ? "full scan" : "from the checkpoint");
    ASSERT_TRUE(s->Start()) << s->log();
    auto client = ConnectOrDie(*s);
    ASSERT_NE(client, nullptr);
    for (const auto& [key, value] : values) {
      auto v = client->Get(key);
      if (!damaged.contains(key)) {
        ASSERT_TRUE(v.ok()) << key << ": " << v.status().ToString();
        EXPECT_TRUE(*v == value) << key << " served other bytes";
        continue;
      }
      ASSERT_FALSE(v.ok()) << key << " served damaged bytes";
      EXPECT_EQ(v.status().code(), full_scan ? StatusCode::kNotFound : StatusCode::kCorrupt)
          << key << ": " << v.status().ToString();
    }
    auto stats = testing::StatsOf(*client);
    EXPECT_EQ(stats["objects"].get<uint64_t>(), values.size() - damaged.size()) << stats.dump();
    EXPECT_EQ(stats["corrupt_reads"].get<uint64_t>(), full_scan ? 0u : damaged.size())
        << stats.dump();
    EXPECT_EQ(stats["corrupt_records_skipped"].get<uint64_t>(), full_scan ? damaged.size() : 0u)
        << stats.dump();
    // A refused value is gone for good, not served after a restart either.
    ASSERT_EQ(s->Stop(), 0) << s->log();
    ASSERT_TRUE(s->Start()) << s->log();
    client = ConnectOrDie(*s);
    ASSERT_NE(client, nullptr);
    for (const std::string& key : damaged) {
      EXPECT_EQ(client->Get(key).status().code(), StatusCode::kNotFound) << key;
    }
    ASSERT_EQ(s->Stop(), 0) << s->log();
  }
}

}  // namespace
}  // namespace ctxstore
