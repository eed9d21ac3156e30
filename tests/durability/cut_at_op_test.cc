// Power cuts at a device operation drawn from a seed (inside a flusher
// batch, between a segment's write and its fdatasync, in a catalog rewrite,
// ...) while several clients write at once. After the restart, every key
// the server acknowledged as durable is there byte for byte, every sync
// DELETE stays deleted, and every other key is absent or exact.
//
// CTXSTORE_DURABILITY_SEED=n runs seed n alone (a failure prints its seed).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "durability_fixture.h"

namespace ctxstore::testing {
namespace {

// What the workload was told, per key.
enum class Promise { kNone, kPresent, kDeleted };

struct Ledger {
  std::mutex mu;
  std::map<std::string, Promise> keys;
  void Set(const std::string& key, Promise p) {
    std::lock_guard lock(mu);
    keys[key] = p;
  }
};

// One client: sync PUTs, async PUTs made durable by a later FLUSH, sync
// DELETEs of its own durable keys; stops at the first failure (the power
// is out).
void RunClient(const ServerProcess& server, uint64_t seed, int id, Ledger* ledger) {
  auto client = ConnectTo(server);
  if (!client.ok()) return;
  std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(id));
  std::vector<std::string> unflushed, durable;
  for (int i = 0; i < 40; ++i) {
    const std::string key = std::to_string(id) + "/key" + std::to_string(i);
    const uint64_t op = rng() % 8;
    Status st;
    if (op < 3) {
      ledger->Set(key, Promise::kNone);
      st = (*client)->Put(key, ValueFor(key, 128 * 1024), {.sync = true});
      if (st.ok()) {
        ledger->Set(key, Promise::kPresent);
        durable.push_back(key);
      }
    } else if (op < 6) {
      ledger->Set(key, Promise::kNone);
      st = (*client)->Put(key, ValueFor(key, 128 * 1024));
      if (st.ok()) unflushed.push_back(key);
    } else if (op == 6) {
      st = (*client)->Flush();
      if (st.ok()) {
        for (const std::string& k : unflushed) ledger->Set(k, Promise::kPresent);
        durable.insert(durable.end(), unflushed.begin(), unflushed.end());
        unflushed.clear();
      }
    } else if (!durable.empty()) {
      const std::string victim = durable[rng() % durable.size()];
      std::erase(durable, victim);
      ledger->Set(victim, Promise::kNone);  // either way until acknowledged
      st = (*client)->Delete(victim, /*sync=*/true);
      if (st.ok()) ledger->Set(victim, Promise::kDeleted);
    }
    if (!st.ok()) return;
  }
}

std::vector<uint64_t> Seeds() {
  if (const char* one = std::getenv("CTXSTORE_DURABILITY_SEED")) return {std::stoull(one)};
  return {1, 2, 3, 4, 5, 6};
}

using CutAtOpTest = DurabilityTest;

TEST_F(CutAtOpTest, ConcurrentClientsKeepWhatWasAcknowledged) {
  for (uint64_t seed : Seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed) +
                 " (rerun with CTXSTORE_DURABILITY_SEED=" + std::to_string(seed) + ")");
    std::filesystem::remove_all(data_dir());
    ASSERT_TRUE(StartTestServer());
    std::mt19937_64 rng(seed);
    const uint64_t at_op = 1 + rng() % 150;
    Control("cut-after " + std::to_string(at_op) + " " + std::to_string(seed) + " any");
    Ledger ledger;
    {
      std::vector<std::thread> clients;
      for (int id = 0; id < 4; ++id) {
        clients.emplace_back([&, id] { RunClient(*server_, seed, id, &ledger); });
      }
      for (auto& t : clients) t.join();
    }
    AwaitCut(seed);
    ASSERT_TRUE(StartProductServer());
    auto client = ConnectTo(*server_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    int present = 0, deleted = 0;
    for (const auto& [key, promise] : ledger.keys) {
      auto v = (*client)->Get(key);
      if (promise == Promise::kPresent) {
        ++present;
        ASSERT_TRUE(v.ok()) << "acknowledged " << key << " lost: " << v.status().ToString();
      } else if (promise == Promise::kDeleted) {
        ++deleted;
        ASSERT_EQ(v.status().code(), StatusCode::kNotFound) << "deleted " << key << " is back";
      } else if (!v.ok()) {
        ASSERT_EQ(v.status().code(), StatusCode::kNotFound) << key << ": " << v.status().ToString();
      }
      if (v.ok()) {
        ASSERT_EQ(*v, ValueFor(key, 128 * 1024)) << "wrong bytes for " << key;
      }
    }
    std::cout << "seed " << seed << ": cut at device op " << at_op << "; " << ledger.keys.size()
              << " keys, " << present << " acknowledged durable, " << deleted
              << " durably deleted\n";
    client->reset();
    ASSERT_EQ(server_->Stop(), 0);
  }
}

}  // namespace
}  // namespace ctxstore::testing
