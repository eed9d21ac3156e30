// `ctxstore serve` as operators run it: config files, option errors, clean
// shutdown, and corruption in segment files detected through the server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ctxstore/client.h"
#include "server_process.h"

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

// Flips bytes inside every stored value on flash, then checks that the
// server detects it: no GET returns the damaged bytes.
TEST(Serve, FlippedBytesInSegmentsAreDetected) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::map<std::string, std::string> values;
  {
    auto client = ConnectOrDie(server);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 8; ++i) {
      std::string key = "flip/" + std::to_string(i);
      // Small (packed) and large (aligned) records both.
      values[key] = std::string(i % 2 ? 200'000 : 3'000, static_cast<char>('a' + i));
      ASSERT_TRUE(client->Put(key, values[key]).ok());
    }
  }
  ASSERT_EQ(server.Stop(), 0);
  // Damage every value: find each value's bytes in the segment files.
  int flipped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(server.data_dir())) {
    if (entry.path().filename().string().rfind("seg-", 0) != 0) continue;
    std::string path = entry.path();
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& [key, value] : values) {
      size_t at = data.find(value.substr(0, 2048));
      if (at == std::string::npos) continue;
      int fd = open(path.c_str(), O_WRONLY);
      char bad = static_cast<char>(value[0] ^ 0x5a);
      ASSERT_EQ(pwrite(fd, &bad, 1, static_cast<off_t>(at + 100)), 1);
      close(fd);
      ++flipped;
    }
  }
  ASSERT_EQ(flipped, 8);
  // With the checkpoint (values trusted until read) and without (full scan).
  for (bool remove_checkpoint : {false, true}) {
    if (remove_checkpoint) {
      ASSERT_EQ(server.Stop(), 0);
      std::filesystem::remove(server.data_dir() + "/CHECKPOINT");
    }
    ASSERT_TRUE(server.Start()) << server.log();
    auto client = ConnectOrDie(server);
    ASSERT_NE(client, nullptr);
    for (const auto& [key, value] : values) {
      auto v = client->Get(key);
      ASSERT_FALSE(v.ok()) << key << " served damaged bytes";
      EXPECT_TRUE(v.status().code() == StatusCode::kCorrupt ||
                  v.status().code() == StatusCode::kNotFound)
          << v.status().ToString();
    }
    auto stats = nlohmann::json::parse(*client->StatsJson());
    uint64_t detected =
        stats["corrupt_reads"].get<uint64_t>() + stats["corrupt_records_skipped"].get<uint64_t>();
    EXPECT_GE(detected, 1u) << stats.dump();
  }
}

}  // namespace
}  // namespace ctxstore
