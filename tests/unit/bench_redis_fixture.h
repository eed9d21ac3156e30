// A redis-server of its own for each test of the harness's Redis drivers
// (bench_resp_client_test.cc, bench_resp_mux_test.cc): persistence off, on
// a free loopback port, its folder removed after. Skipped where
// redis-server is not installed.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/process.h"

namespace ctxstore::bench {

class RedisServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string exe = FindExecutable("redis-server");
    if (exe.empty()) GTEST_SKIP() << "redis-server is not installed";
    dir_ = std::filesystem::temp_directory_path() /
           ("ctxstore-redis-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto port = FreePort();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    auto server = ChildProcess::Start({exe, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", dir_.string()},
                                      (dir_ / "redis.log").string());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(WaitForPort(port_, server_.get(), 10000).ok());
  }
  void TearDown() override {
    if (server_) server_->Stop(SIGTERM, 5000);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace ctxstore::bench
