// GETs of objects that are only on flash, through the server binary: with
// the flash reader pool (the default) and without it (--flash-read-threads
// 0: the network thread waits for the device), from several connections at
// once, single and batched, byte-exact.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;

std::string Value(size_t len, uint64_t seed) {
  return ::ctxstore::testing::RandomBytes(len, seed);
}

std::string KeyOf(int i) {
  std::string k("flash-");
  k += std::to_string(i);
  return k;
}

class FlashReadTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FlashReadTest, ConcurrentGetsOfFlashOnlyObjectsAreByteExact) {
  testing::ServerOptions o;
  o.memory = "8MiB";  // far less than the 48 MiB stored: most GETs read flash
  o.disk = "256MiB";
  o.extra_args = {"--flash-read-threads", GetParam()};
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  ClientOptions co;
  co.port = server.port();
  co.token = server.admin_token();
  constexpr int kObjects = 48;
  constexpr size_t kBytes = (1 << 20) - 100;
  {
    auto c = Client::Connect(co);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (int i = 0; i < kObjects; ++i) {
      ASSERT_TRUE((*c)->Put(KeyOf(i), Value(kBytes, static_cast<uint64_t>(i))).ok()) << i;
    }
    ASSERT_TRUE((*c)->Flush().ok());
  }

  constexpr int kThreads = 4;
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect(co);
      if (!c.ok()) {
        ++errors;
        return;
      }
      for (int n = 0; n < kObjects; ++n) {
        const int i = (n * 7 + t * 13) % kObjects;
        auto got = (*c)->Get(KeyOf(i));
        if (!got.ok()) {
          ++errors;
        } else if (*got != Value(kBytes, static_cast<uint64_t>(i))) {
          ++mismatches;
        }
      }
      std::vector<std::string> keys = {KeyOf(t), KeyOf(t + 20), "absent"};
      auto batch = (*c)->BatchGet(keys);
      if (!batch.ok() || batch->size() != 3 || (*batch)[2].code != StatusCode::kNotFound) {
        ++errors;
        return;
      }
      for (int j = 0; j < 2; ++j) {
        const int i = j == 0 ? t : t + 20;
        if ((*batch)[j].code != StatusCode::kOk ||
            (*batch)[j].value != Value(kBytes, static_cast<uint64_t>(i))) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);

  auto c = Client::Connect(co);
  ASSERT_TRUE(c.ok());
  auto stats = (*c)->StatsJson();
  ASSERT_TRUE(stats.ok());
  auto j = nlohmann::json::parse(*stats);
  // 8 MiB of DRAM holds a few of the 48 objects: most reads went to flash.
  EXPECT_GE(j["hits_flash"].get<uint64_t>(), uint64_t{kThreads * kObjects / 2});
  EXPECT_EQ(j["corrupt_reads"].get<uint64_t>(), 0u);
  c->reset();
  StopAndReport(server);
}

INSTANTIATE_TEST_SUITE_P(Pool, FlashReadTest, ::testing::Values("8", "0"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param[0] == '0' ? "OnNetworkThreads"
                                                                   : "OnReaderPool");
                         });

}  // namespace
}  // namespace ctxstore
