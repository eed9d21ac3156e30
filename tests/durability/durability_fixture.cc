#include "durability_fixture.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

namespace ctxstore::testing {

#ifndef CTXSTORE_POWERCUT_BINARY
#error "CTXSTORE_POWERCUT_BINARY must name the test server (tests/CMakeLists.txt)"
#endif

std::string ValueFor(const std::string& key, size_t max_bytes) {
  std::seed_seq seq(key.begin(), key.end());
  std::mt19937_64 rng(seq);
  const size_t size = 1 + rng() % max_bytes;  // packed and aligned records both occur
  std::string v(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t r = rng();
    std::memcpy(&v[i], &r, std::min<size_t>(8, size - i));
  }
  return v;
}

::testing::AssertionResult HasValue(Client& client, const std::string& key) {
  auto v = client.Get(key);
  if (!v.ok()) return ::testing::AssertionFailure() << key << ": " << v.status().ToString();
  if (*v != ValueFor(key)) return ::testing::AssertionFailure() << key << ": wrong bytes";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AbsentOrExact(Client& client, const std::string& key) {
  auto v = client.Get(key);
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << key << ": " << v.status().ToString();
  }
  if (*v != ValueFor(key)) return ::testing::AssertionFailure() << key << ": wrong bytes";
  return ::testing::AssertionSuccess();
}

Result<std::unique_ptr<Client>> ConnectTo(const ServerProcess& server, const std::string& token,
                                          const std::string& namespace_name) {
  ClientOptions o;
  o.port = server.port();
  o.token = token.empty() ? server.admin_token() : token;
  o.namespace_name = namespace_name;
  o.io_timeout_ms = 20000;
  return Client::Connect(o);
}

void DurabilityTest::TearDown() {
  if (server_) {
    if (server_->running()) {
      EXPECT_EQ(server_->Stop(), 0);
    }
    logs_ += server_->log();
  }
  if (HasFailure()) std::cerr << "--- server logs ---\n" << logs_ << "---\n";
}

::testing::AssertionResult DurabilityTest::StartTestServer(std::vector<std::string> extra_args,
                                                           const std::string& memory) {
  ServerOptions so;
  so.memory = memory;
  so.binary = CTXSTORE_POWERCUT_BINARY;
  so.binary_args = {"--fault-control", control_socket()};
  so.data_dir = data_dir();
  so.extra_args = {"--sync-interval", "1h", "--checkpoint-interval", "1h"};
  so.extra_args.insert(so.extra_args.end(), extra_args.begin(), extra_args.end());
  if (server_) logs_ += server_->log();
  server_ = std::make_unique<ServerProcess>(so);
  return server_->Start();
}

::testing::AssertionResult DurabilityTest::StartProductServer() {
  ServerOptions so;
  so.data_dir = data_dir();
  if (server_) logs_ += server_->log();
  server_ = std::make_unique<ServerProcess>(so);
  return server_->Start();
}

std::string DurabilityTest::Control(const std::string& command) {
  auto answer = SendFaultCommand(control_socket(), command);
  EXPECT_TRUE(answer.ok()) << command << ": " << answer.status().ToString();
  if (!answer.ok()) return "";
  EXPECT_EQ(answer->rfind("ok", 0), 0u) << command << ": " << *answer;
  return *answer;
}

std::map<std::string, uint64_t> DurabilityTest::CutPower(uint64_t seed, const std::string& tail) {
  const std::string answer = Control("cut " + std::to_string(seed) + " " + tail);
  EXPECT_EQ(server_->AwaitExit(30000), kPowerCutExitCode) << "the test server did not exit as a "
                                                             "power cut makes it";
  return ParseCounts(answer);
}

void DurabilityTest::AwaitCut(uint64_t seed) {
  if (server_->running() && SendFaultCommand(control_socket(), "stats").ok()) {
    // Not fallen yet (or falling right now: the command then finds no
    // socket, and the exit code below tells).
    (void)SendFaultCommand(control_socket(), "cut " + std::to_string(seed) + " any");
  }
  EXPECT_EQ(server_->AwaitExit(30000), kPowerCutExitCode);
}

::testing::AssertionResult DurabilityTest::FlushWithin(Client& client, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    Status st = client.Flush();
    if (st.ok()) return ::testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() > deadline) {
      return ::testing::AssertionFailure() << "FLUSH still fails: " << st.ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::map<std::string, uint64_t> DurabilityTest::DeviceCounts() {
  return ParseCounts(Control("stats"));
}

uint64_t DurabilityTest::StatsCounter(Client& client, const std::string& name) {
  auto stats = client.StatsJson();
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (!stats.ok()) return 0;
  const std::string needle = "\"" + name + "\":";
  const size_t at = stats->find(needle);
  EXPECT_NE(at, std::string::npos) << name << " not in " << *stats;
  if (at == std::string::npos) return 0;
  return std::stoull(stats->substr(at + needle.size()));
}

}  // namespace ctxstore::testing
