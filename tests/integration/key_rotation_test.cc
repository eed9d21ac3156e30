// Encryption keys over a store's life, through the server binary: rotation
// with two keys loaded (each record readable with the key that sealed it,
// and only with that one), and a pinned object that flash reclaim cannot
// carry forward because its namespace's key is not loaded (lost, and counted
// in STATS pinned_lost; a pinned object of a namespace in the clear is
// carried forward meanwhile).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using testing::CliResult;
using testing::Connect;
using testing::Describe;
using testing::ServerProcess;
using testing::StopAndReport;
using testing::TempDir;

class KeyLifeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"k1", "k2"}) {
      CliResult r = testing::RunCli({"keygen", KeyPath(name)});
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
    }
  }
  std::string KeyPath(const std::string& name) const { return keys_.path() + "/" + name + ".key"; }
  // A server on the shared data folder with these keys loaded; small_flash:
  // 8 MiB of flash in 1 MiB segments, where a few MiB of writes reclaim the
  // first segment.
  std::unique_ptr<ServerProcess> Server(const std::vector<std::string>& keys,
                                        bool small_flash = false) const {
    testing::ServerOptions so;
    so.data_dir = data_.path();
    so.memory = "16MiB";
    so.disk = small_flash ? "8MiB" : "128MiB";
    std::vector<std::string> extra;
    if (small_flash) extra = {"--segment-size", "1MiB"};
    for (const std::string& key : keys) {
      extra.push_back("--encryption-key");
      extra.push_back(key + "=" + KeyPath(key));
    }
    so.extra_args = std::move(extra);
    return std::make_unique<ServerProcess>(so);
  }

  TempDir keys_;
  TempDir data_;
};

std::string OldKey(int i) {
  return "old/" + std::to_string(i);
}
std::string NewKey(int i) {
  return "new/" + std::to_string(i);
}
// Packed and large records both.
size_t SizeOf(int i) {
  return i == 1 ? (300u << 10) : 1000u + 10u * static_cast<size_t>(i);
}
std::string OldValue(int i) {
  return testing::RandomBytes(SizeOf(i), 100 + static_cast<uint64_t>(i));
}
std::string NewValue(int i) {
  return testing::RandomBytes(SizeOf(i), 200 + static_cast<uint64_t>(i));
}

// Rotation as docs/security.md describes it: k1, then both loaded and the
// namespace switched to k2. Old records stay sealed with k1, new ones are
// sealed with k2: a restart with only one of the keys reads exactly the
// records that key sealed (the others KEY_UNAVAILABLE, nothing lost).
TEST_F(KeyLifeTest, RotationSealsNewRecordsWithTheNewKeyAndKeepsOldOnesReadable) {
  constexpr int kObjects = 3;
  {
    auto server = Server({"k1"});
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    ASSERT_TRUE(admin->CreateNamespace("tenant", {.encryption_key = "k1"}).ok());
    auto c = Connect(*server, "tenant");
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < kObjects; ++i) ASSERT_TRUE(c->Put(OldKey(i), OldValue(i)).ok());
    StopAndReport(*server);
  }
  {
    auto server = Server({"k1", "k2"});
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    ASSERT_TRUE(admin->SetNamespace("tenant", {.encryption_key = "k2"}).ok());
    auto list = admin->ListNamespaces();
    ASSERT_TRUE(list.ok());
    for (const NamespaceInfo& ns : *list) {
      if (ns.name == "tenant") {
        EXPECT_EQ(ns.config.encryption_key, "k2");
      }
    }
    auto c = Connect(*server, "tenant");
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < kObjects; ++i) ASSERT_TRUE(c->Put(NewKey(i), NewValue(i)).ok());
    ASSERT_TRUE(c->Flush().ok());
    // Both keys loaded: everything reads (the old records from flash, with k1).
    for (int i = 0; i < kObjects; ++i) {
      auto got = c->Get(OldKey(i));
      ASSERT_TRUE(got.ok()) << OldKey(i) << ": " << got.status().ToString();
      EXPECT_TRUE(*got == OldValue(i)) << OldKey(i);
    }
    auto page = c->List({.limit = 100});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->items.size(), 2u * kObjects);
    for (const ObjectInfo& o : page->items) {
      EXPECT_TRUE(o.sealed) << o.key << ": LIST says it is not sealed";
    }
    StopAndReport(*server);
  }
  // Each key alone reads exactly the records it sealed.
  for (const std::string only : {"k2", "k1"}) {
    SCOPED_TRACE("only " + only + " loaded");
    auto server = Server({only});
    ASSERT_TRUE(server->Start());
    auto c = Connect(*server, "tenant");
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < kObjects; ++i) {
      for (bool old_record : {true, false}) {
        const std::string key = old_record ? OldKey(i) : NewKey(i);
        auto info = c->Stat(key);
        ASSERT_TRUE(info.ok()) << key << ": " << info.status().ToString();
        EXPECT_TRUE(info->sealed) << key;
        auto got = c->Get(key);
        const bool readable = old_record == (only == "k1");
        if (readable) {
          ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
          EXPECT_TRUE(*got == (old_record ? OldValue(i) : NewValue(i))) << key;
        } else {
          EXPECT_EQ(got.status().code(), StatusCode::kKeyUnavailable)
              << key << ": "
              << (got.ok() ? "served " + std::to_string(got->size()) + " bytes"
                           : got.status().ToString());
        }
      }
    }
    auto stats = testing::StatsOf(*c);
    EXPECT_EQ(stats["key_unavailable_reads"].get<uint64_t>(), static_cast<uint64_t>(kObjects))
        << stats.dump();
    StopAndReport(*server);
  }
  // Nothing was lost by the failed reads.
  auto server = Server({"k1", "k2"});
  ASSERT_TRUE(server->Start());
  auto c = Connect(*server, "tenant");
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < kObjects; ++i) {
    EXPECT_TRUE(c->Get(OldKey(i)).ok()) << OldKey(i);
    EXPECT_TRUE(c->Get(NewKey(i)).ok()) << NewKey(i);
  }
  StopAndReport(*server);
}

// A pinned object is carried forward when flash reclaims its segment. One
// sealed with a key that is not loaded cannot be (it cannot be read, and is
// never written in the clear): it is lost, logged and counted in
// pinned_lost, for good (not back once the key is loaded again). A pinned
// object in the clear, in the same segment, is carried forward.
TEST_F(KeyLifeTest, PinnedObjectWhoseKeyIsNotLoadedIsLostAtReclaim) {
  const std::string sealed_value = testing::RandomBytes(10000, 1);
  const std::string clear_value = testing::RandomBytes(10000, 2);
  constexpr bool kSmallFlash = true;
  {
    auto server = Server({"k1"}, kSmallFlash);
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    ASSERT_TRUE(admin->CreateNamespace("sealed", {.encryption_key = "k1"}).ok());
    auto sealed = Connect(*server, "sealed");
    ASSERT_NE(sealed, nullptr);
    ASSERT_TRUE(sealed->Put("keep", sealed_value).ok());
    ASSERT_TRUE(sealed->Pin("keep").ok());
    ASSERT_TRUE(admin->Put("keep", clear_value).ok());
    ASSERT_TRUE(admin->Pin("keep").ok());
    StopAndReport(*server);
  }
  {
    auto server = Server({}, kSmallFlash);  // k1 not loaded
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    auto stats = testing::StatsOf(*admin);
    ASSERT_EQ(stats["pinned_lost"].get<uint64_t>(), 0u);
    const std::string filler(256 << 10, 'f');
    for (int i = 0; i < 48; ++i) {
      ASSERT_TRUE(admin->Put("filler/" + std::to_string(i), filler).ok()) << i;
    }
    ASSERT_TRUE(admin->Flush().ok());
    stats = testing::StatsOf(*admin);
    ASSERT_GT(stats["reclaimed_segments"].get<uint64_t>(), 0u) << "no reclaim: " << stats.dump();
    EXPECT_EQ(stats["pinned_lost"].get<uint64_t>(), 1u) << stats.dump();
    auto sealed = Connect(*server, "sealed");
    ASSERT_NE(sealed, nullptr);
    EXPECT_EQ(sealed->Stat("keep").status().code(), StatusCode::kNotFound);
    auto got = admin->Get("keep");
    ASSERT_TRUE(got.ok()) << "the pinned clear object was not carried forward: "
                          << got.status().ToString();
    EXPECT_TRUE(*got == clear_value);
    StopAndReport(*server);
    EXPECT_NE(server->log().find("pinned object 'keep' lost in flash reclaim"), std::string::npos)
        << server->log();
  }
  // With the key loaded again, the lost object stays lost; the carried one
  // is still there and still pinned.
  auto server = Server({"k1"}, kSmallFlash);
  ASSERT_TRUE(server->Start());
  auto sealed = Connect(*server, "sealed");
  ASSERT_NE(sealed, nullptr);
  EXPECT_EQ(sealed->Get("keep").status().code(), StatusCode::kNotFound);
  auto admin = Connect(*server);
  ASSERT_NE(admin, nullptr);
  auto info = admin->Stat("keep");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pinned);
  StopAndReport(*server);
}

// A pinned object carried forward by flash reclaim is a later write: it is
// sealed with the key its namespace names then. After a rotation to k2 (and
// another namespace's switch to the clear), reclaim rewrites the pinned
// objects sealed with k1; a restart with k2 alone then reads both.
TEST_F(KeyLifeTest, PinnedObjectCarriedAtReclaimTakesTheNamespacesKeyOfThen) {
  const std::string rotated_value = testing::RandomBytes(10000, 3);
  const std::string cleared_value = testing::RandomBytes(10000, 4);
  constexpr bool kSmallFlash = true;
  {
    auto server = Server({"k1"}, kSmallFlash);
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    for (const char* ns : {"rotated", "cleared"}) {
      ASSERT_TRUE(admin->CreateNamespace(ns, {.encryption_key = "k1"}).ok());
      auto c = Connect(*server, ns);
      ASSERT_NE(c, nullptr);
      ASSERT_TRUE(
          c->Put("keep", ns == std::string("rotated") ? rotated_value : cleared_value).ok());
      ASSERT_TRUE(c->Pin("keep").ok());
    }
    StopAndReport(*server);
  }
  {
    auto server = Server({"k1", "k2"}, kSmallFlash);
    ASSERT_TRUE(server->Start());
    auto admin = Connect(*server);
    ASSERT_NE(admin, nullptr);
    ASSERT_TRUE(admin->SetNamespace("rotated", {.encryption_key = "k2"}).ok());
    ASSERT_TRUE(admin->SetNamespace("cleared", {.encryption_key = ""}).ok());
    const std::string filler(256 << 10, 'f');
    for (int i = 0; i < 48; ++i) {
      ASSERT_TRUE(admin->Put("filler/" + std::to_string(i), filler).ok()) << i;
    }
    ASSERT_TRUE(admin->Flush().ok());
    auto stats = testing::StatsOf(*admin);
    ASSERT_GT(stats["reclaimed_segments"].get<uint64_t>(), 0u) << "no reclaim: " << stats.dump();
    EXPECT_EQ(stats["pinned_lost"].get<uint64_t>(), 0u) << stats.dump();
    StopAndReport(*server);
  }
  auto server = Server({"k2"}, kSmallFlash);
  ASSERT_TRUE(server->Start());
  for (const char* ns : {"rotated", "cleared"}) {
    SCOPED_TRACE(ns);
    auto c = Connect(*server, ns);
    ASSERT_NE(c, nullptr);
    auto info = c->Stat("keep");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->sealed, ns == std::string("rotated"));
    EXPECT_TRUE(info->pinned);
    auto got = c->Get("keep");
    ASSERT_TRUE(got.ok()) << "not rewritten with the namespace's key of then: "
                          << got.status().ToString();
    EXPECT_TRUE(*got == (ns == std::string("rotated") ? rotated_value : cleared_value));
  }
  StopAndReport(*server);
}

}  // namespace
}  // namespace ctxstore
