// kill -9 in the middle of a stream of sync and non-sync PUTs, many times:
// every acknowledged sync PUT must come back byte-exact, and no GET may ever
// return bytes other than the value that was put for that key.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using testing::ServerProcess;

// The only value ever written under `key`: derived from the key, so any
// GET can be checked without remembering what was sent.
std::string ValueFor(const std::string& key) {
  std::seed_seq seq(key.begin(), key.end());
  std::mt19937_64 rng(seq);
  size_t size = 1 + rng() % (600 * 1024);  // packed and aligned records both occur
  std::string v(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t r = rng();
    std::memcpy(&v[i], &r, std::min<size_t>(8, size - i));
  }
  return v;
}

Result<std::unique_ptr<Client>> ConnectTo(uint16_t port, const std::string& token) {
  ClientOptions o;
  o.port = port;
  o.token = token;
  o.io_timeout_ms = 10000;
  return Client::Connect(o);
}

Result<std::unique_ptr<Client>> ConnectTo(const ServerProcess& server) {
  return ConnectTo(server.port(), server.admin_token());
}

TEST(Crash, Kill9DuringPutsKeepsEverySyncedObject) {
  testing::ServerOptions so;
  so.memory = "32MiB";  // small: part of the data is only on flash at the crash
  so.disk = "2GiB";     // large: nothing is reclaimed, so every synced object must survive
  so.extra_args = {"--sync-interval", "10s"};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());

  std::mt19937 rng(20261126);
  std::vector<std::string> synced;     // acknowledged sync PUTs, all iterations
  std::vector<std::string> attempted;  // every key sent
  constexpr int kIterations = 8;
  for (int iter = 0; iter < kIterations; ++iter) {
    std::atomic<bool> stop{false};
    // Bounded, so that all iterations together stay far below the flash size.
    std::atomic<uint64_t> bytes_sent{0};
    constexpr uint64_t kBytesPerIteration = 96ull << 20;
    std::mutex mu;
    std::vector<std::thread> writers;
    // Read here, not in the writers: Kill9 clears the server's port, maybe
    // before a writer has started.
    const uint16_t port = server.port();
    const std::string token = server.admin_token();
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        auto client = ConnectTo(port, token);
        if (!client.ok()) return;
        for (int i = 0; !stop && bytes_sent < kBytesPerIteration; ++i) {
          std::string key =
              "crash/" + std::to_string(iter) + "/" + std::to_string(w) + "/" + std::to_string(i);
          bool sync = i % 3 == 0;
          {
            std::lock_guard lock(mu);
            attempted.push_back(key);
          }
          std::string value = ValueFor(key);
          bytes_sent += value.size();
          Status st = (*client)->Put(key, value, {.sync = sync});
          if (!st.ok()) return;  // the server is gone
          if (sync) {
            std::lock_guard lock(mu);
            synced.push_back(key);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 350));
    server.Kill9();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(server.Start()) << server.log();

    auto client = ConnectTo(server);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    for (const std::string& key : synced) {
      auto v = (*client)->Get(key);
      ASSERT_TRUE(v.ok()) << "iteration " << iter << ": synced " << key
                          << " lost: " << v.status().ToString();
      ASSERT_EQ(*v, ValueFor(key)) << "iteration " << iter << ": wrong bytes for " << key;
    }
    for (const std::string& key : attempted) {
      auto v = (*client)->Get(key);
      if (v.ok())
        ASSERT_EQ(*v, ValueFor(key)) << "wrong bytes for unsynced " << key;
      else
        ASSERT_EQ(v.status().code(), StatusCode::kNotFound) << key << ": " << v.status().ToString();
    }
  }
  EXPECT_GT(synced.size(), 20u) << "the workload did too little to mean anything";
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

TEST(Crash, CleanStopKeepsEverything) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::vector<std::string> keys;
  {
    auto client = ConnectTo(server);
    ASSERT_TRUE(client.ok());
    for (int i = 0; i < 60; ++i) {
      keys.push_back("clean/" + std::to_string(i));
      ASSERT_TRUE((*client)->Put(keys.back(), ValueFor(keys.back())).ok());
    }
    ASSERT_TRUE((*client)->Delete(keys[0]).ok());
  }
  ASSERT_TRUE(server.Restart()) << server.log();
  auto client = ConnectTo(server);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Get(keys[0]).status().code(), StatusCode::kNotFound);
  for (size_t i = 1; i < keys.size(); ++i) {
    auto v = (*client)->Get(keys[i]);
    ASSERT_TRUE(v.ok()) << keys[i];
    EXPECT_EQ(*v, ValueFor(keys[i]));
  }
  auto stats = (*client)->StatsJson();
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->find("\"recovered_from_checkpoint\":true"), std::string::npos) << *stats;
}

}  // namespace
}  // namespace ctxstore
