// The engine's context semantics through its public API: namespaces, TTL,
// read leases, namespace quotas and the eviction order of each policy,
// orphans, pins, groups, metadata and provenance, and LIST. The wall clock
// is a fake one (EngineOptions::wall_clock_ms) that the tests advance; only
// the background maintenance (run by the flusher every ~100 ms of real time)
// is waited for, by polling with a deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/checkpoint.h"
#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::MakeValue;
using test_util::SameBytes;
using test_util::TempDir;

constexpr uint64_t kStartMs = 1'700'000'000'000;  // a plausible wall clock
constexpr uint64_t kValueBytes = 4096;            // one arena page

// An engine over a temp dir, with a fake wall clock, reopenable on the same
// data folder. Suites derive from it only to get their own names.
class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  EngineOptions Options(std::string_view policy = "lru") const {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 4 * kMiB;
    o.disk_bytes = 16 * kMiB;
    o.segment_bytes = 1 * kMiB;
    o.space_wait_ms = 2000;
    o.max_lease_ms = 10'000;
    o.eviction_policy = std::string(policy);
    // Shared with every engine opened with these options (reopens keep
    // the time).
    o.wall_clock_ms = [clock = clock_] { return clock->load(); };
    return o;
  }

  // Opens (or reopens) the engine; a failure fails the test.
  void Open(const EngineOptions& o) {
    options_ = o;
    auto r = Engine::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r).value();
  }
  void Open() { Open(Options()); }

  // Clean close, then open again with the same options (recovery from the
  // checkpoint written on close).
  void Reopen() {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();
    Open(options_);
  }

  // Clean close, then open again without the checkpoint: a full scan.
  void ReopenWithFullScan() {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();
    std::error_code ec;
    ASSERT_TRUE(std::filesystem::remove(dir_.data_dir() + "/" + kCheckpointFileName, ec)) << ec;
    Open(options_);
    ASSERT_FALSE(engine_->Stats().recovered_from_checkpoint);
  }

  uint64_t Now() const { return clock_->load(); }
  void Advance(uint64_t ms) { clock_->fetch_add(ms); }

  uint32_t CreateNs(std::string_view name, const NamespaceConfig& config = {}) {
    auto id = engine_->CreateNamespace(name, config);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : ~0u;
  }

  Status PutIn(uint32_t ns, std::string_view key, WriteOptions opts = {},
               uint64_t len = kValueBytes, uint64_t version = 1) {
    opts.namespace_id = ns;
    auto v = MakeValue(key, version + ns, len);
    return engine_->Put(key, Bytes(v), opts);
  }
  Status Put(std::string_view key, WriteOptions opts = {}) {
    return PutIn(opts.namespace_id, key, opts);
  }

  bool Has(uint32_t ns, std::string_view key) { return engine_->Exists(ns, key).ok(); }
  bool Has(std::string_view key) { return Has(kDefaultNamespaceId, key); }

  // Get that checks the bytes written by PutIn(ns, key, ..., len, version).
  ::testing::AssertionResult GetIs(uint32_t ns, std::string_view key, uint64_t len = kValueBytes,
                                   uint64_t version = 1) {
    auto got = engine_->Get(ns, key);
    if (!got.ok()) {
      return ::testing::AssertionFailure()
             << "Get(" << ns << ", " << key << "): " << got.status().ToString();
    }
    if (!SameBytes(*got, MakeValue(key, version + ns, len))) {
      return ::testing::AssertionFailure() << "Get(" << ns << ", " << key << "): wrong bytes";
    }
    return ::testing::AssertionSuccess();
  }

  StatusCode GetCode(uint32_t ns, std::string_view key) {
    return engine_->Get(ns, key).status().code();
  }

  NamespaceInfo Info(std::string_view name) {
    auto info = engine_->GetNamespace(name);
    EXPECT_TRUE(info.ok()) << name << ": " << info.status().ToString();
    return info.ok() ? *info : NamespaceInfo{};
  }

  ObjectInfo StatOf(uint32_t ns, std::string_view key) {
    auto info = engine_->Stat(ns, key);
    EXPECT_TRUE(info.ok()) << key << ": " << info.status().ToString();
    return info.ok() ? *info : ObjectInfo{};
  }
  ObjectInfo StatOf(std::string_view key) { return StatOf(kDefaultNamespaceId, key); }
  // Stored without a group, parent, writer or metadata blob.
  static bool HasNoMeta(const ObjectInfo& info) {
    return info.group.empty() && info.parent.empty() && info.writer.empty() && info.meta.empty();
  }

  std::vector<std::string> ListKeys(uint32_t ns, ListOptions opts = {}) {
    std::vector<std::string> keys;
    auto page = engine_->List(ns, opts);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const ObjectInfo& info : page->items) keys.push_back(info.key);
    }
    return keys;
  }

  // Polls `pred` until it holds or a generous deadline passes (the flusher
  // runs maintenance every ~100 ms of real time).
  static bool WaitFor(const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // Lets at least two maintenance passes run (to check that something does
  // NOT happen).
  static void LetMaintenanceRun() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

  TempDir dir_;
  std::shared_ptr<std::atomic<uint64_t>> clock_ = std::make_shared<std::atomic<uint64_t>>(kStartMs);
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

// prefix + i. (Not `"k" + std::to_string(i)`: with -O3, g++ 12 wrongly
// warns about that (-Wrestrict), and warnings are errors.)
std::string Name(std::string_view prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}
std::string Key(int i) {
  return Name("k", i);
}

// ---------------------------------------------------------------------------
// Namespaces

class NamespaceTest : public ContextTest {};

TEST_F(NamespaceTest, DefaultExists) {
  Open();
  auto id = engine_->ResolveNamespace("default");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, kDefaultNamespaceId);
  auto empty = engine_->ResolveNamespace("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, kDefaultNamespaceId);
  NamespaceInfo info = Info("default");
  EXPECT_EQ(info.id, kDefaultNamespaceId);
  EXPECT_EQ(info.config.quota_bytes, 0u);
  EXPECT_EQ(info.config.priority, kDefaultPriority);
  auto all = engine_->ListNamespaces();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "default");
  EXPECT_EQ(engine_->Stats().namespaces, 1u);
}

TEST_F(NamespaceTest, CreateSetGetListDelete) {
  Open();
  NamespaceConfig config{
      .quota_bytes = 1 * kMiB, .default_ttl_ms = 1000, .max_ttl_ms = 5000, .priority = 2};
  uint32_t a = CreateNs("tenant-a", config);
  uint32_t b = CreateNs("B.b_2");
  EXPECT_NE(a, kDefaultNamespaceId);
  EXPECT_NE(b, kDefaultNamespaceId);
  EXPECT_NE(a, b);
  EXPECT_EQ(*engine_->ResolveNamespace("tenant-a"), a);

  NamespaceInfo info = Info("tenant-a");
  EXPECT_EQ(info.id, a);
  EXPECT_EQ(info.name, "tenant-a");
  EXPECT_EQ(info.config.quota_bytes, 1 * kMiB);
  EXPECT_EQ(info.config.default_ttl_ms, 1000u);
  EXPECT_EQ(info.config.max_ttl_ms, 5000u);
  EXPECT_EQ(info.config.priority, 2);
  EXPECT_EQ(info.objects, 0u);
  EXPECT_EQ(info.bytes, 0u);

  NamespaceConfig changed{.quota_bytes = 0, .default_ttl_ms = 0, .max_ttl_ms = 0, .priority = 7};
  ASSERT_TRUE(engine_->SetNamespace("tenant-a", changed).ok());
  info = Info("tenant-a");
  EXPECT_EQ(info.config.quota_bytes, 0u);
  EXPECT_EQ(info.config.max_ttl_ms, 0u);
  EXPECT_EQ(info.config.priority, 7);
  EXPECT_EQ(engine_->SetNamespace("nope", changed).code(), StatusCode::kNotFound);

  auto all = engine_->ListNamespaces();
  ASSERT_EQ(all.size(), 3u);
  std::vector<std::string> names;
  for (const auto& n : all) names.push_back(n.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "tenant-a"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "B.b_2"), names.end());
  EXPECT_EQ(engine_->Stats().namespaces, 3u);

  ASSERT_TRUE(engine_->DeleteNamespace("B.b_2").ok());
  EXPECT_EQ(engine_->GetNamespace("B.b_2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->ResolveNamespace("B.b_2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->DeleteNamespace("B.b_2").code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->ListNamespaces().size(), 2u);
}

TEST_F(NamespaceTest, InvalidNamesAndConfigsAreRejected) {
  Open();
  const std::string too_long(kMaxNamespaceNameBytes + 1, 'n');
  for (std::string_view bad :
       {std::string_view(""), std::string_view(too_long), std::string_view("a b"),
        std::string_view("a/b"), std::string_view("caf\xc3\xa9"), std::string_view("x:y")}) {
    EXPECT_EQ(engine_->CreateNamespace(bad, {}).status().code(), StatusCode::kInvalid)
        << "name '" << bad << "'";
  }
  EXPECT_TRUE(engine_->CreateNamespace(std::string(kMaxNamespaceNameBytes, 'n'), {}).ok());

  NamespaceConfig bad_priority{.priority = kPriorityLevels};
  EXPECT_EQ(engine_->CreateNamespace("p", bad_priority).status().code(), StatusCode::kInvalid);
  NamespaceConfig top{.priority = kPriorityLevels - 1};
  ASSERT_TRUE(engine_->CreateNamespace("p", top).ok());
  EXPECT_EQ(engine_->SetNamespace("p", bad_priority).code(), StatusCode::kInvalid);
  EXPECT_EQ(Info("p").config.priority, kPriorityLevels - 1);

  // The default TTL may not exceed the maximum.
  NamespaceConfig bad_ttl{.default_ttl_ms = 2000, .max_ttl_ms = 1000};
  EXPECT_EQ(engine_->CreateNamespace("t", bad_ttl).status().code(), StatusCode::kInvalid);
}

TEST_F(NamespaceTest, DuplicateIsExistsAndDefaultCannotBeDeleted) {
  Open();
  CreateNs("dup");
  EXPECT_EQ(engine_->CreateNamespace("dup", {}).status().code(), StatusCode::kExists);
  EXPECT_EQ(engine_->CreateNamespace("default", {}).status().code(), StatusCode::kExists);
  EXPECT_EQ(engine_->DeleteNamespace("default").code(), StatusCode::kInvalid);
  EXPECT_TRUE(engine_->ResolveNamespace("default").ok());
  // Default's config may be changed, though.
  ASSERT_TRUE(engine_->SetNamespace("default", {.priority = 1}).ok());
  EXPECT_EQ(Info("default").config.priority, 1);
}

TEST_F(NamespaceTest, OperationsOnAnUnknownNamespace) {
  Open();
  const uint32_t unknown = 4242;
  EXPECT_EQ(PutIn(unknown, "k").code(), StatusCode::kNotFound);
  EXPECT_EQ(GetCode(unknown, "k"), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Exists(unknown, "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Stat(unknown, "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Pin(unknown, "k", {}).status().code(), StatusCode::kNotFound);
  std::vector<std::string_view> keys = {"k"};
  auto m = engine_->MatchPrefix(unknown, keys, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->matched, 0u);
}

TEST_F(NamespaceTest, SameKeyInTwoNamespacesIsTwoObjects) {
  Open();
  const uint32_t a = CreateNs("a");
  const uint32_t d = kDefaultNamespaceId;
  // Different values (PutIn seeds them with the namespace id) and sizes.
  ASSERT_TRUE(PutIn(d, "shared", {}, 1000).ok());
  ASSERT_TRUE(PutIn(a, "shared", {}, 3000).ok());
  EXPECT_TRUE(GetIs(d, "shared", 1000));
  EXPECT_TRUE(GetIs(a, "shared", 3000));
  EXPECT_EQ(*engine_->Exists(d, "shared"), 1000u);
  EXPECT_EQ(*engine_->Exists(a, "shared"), 3000u);
  EXPECT_EQ(StatOf(d, "shared").namespace_id, d);
  EXPECT_EQ(StatOf(a, "shared").namespace_id, a);
  EXPECT_EQ(StatOf(a, "shared").value_len, 3000u);

  // Put-if-absent sees only its own namespace.
  ASSERT_TRUE(PutIn(a, "only-a", {}, 10).ok());
  EXPECT_EQ(PutIn(a, "shared", {}, 10).code(), StatusCode::kExists);
  EXPECT_FALSE(Has(d, "only-a"));

  // Match and list see only their namespace.
  std::vector<std::string_view> keys = {"shared", "only-a"};
  EXPECT_EQ(engine_->MatchPrefix(d, keys, 0)->matched, 1u);
  EXPECT_EQ(engine_->MatchPrefix(a, keys, 0)->matched, 2u);
  EXPECT_EQ(ListKeys(d), (std::vector<std::string>{"shared"}));
  EXPECT_EQ(ListKeys(a), (std::vector<std::string>{"only-a", "shared"}));

  NamespaceInfo ia = Info("a"), id = Info("default");
  EXPECT_EQ(ia.objects, 2u);
  EXPECT_EQ(ia.bytes, 3010u);
  EXPECT_EQ(id.objects, 1u);
  EXPECT_EQ(id.bytes, 1000u);

  // Deleting one leaves the other.
  ASSERT_TRUE(engine_->Delete(a, "shared", false).ok());
  EXPECT_EQ(GetCode(a, "shared"), StatusCode::kNotFound);
  EXPECT_TRUE(GetIs(d, "shared", 1000));
  EXPECT_EQ(engine_->Delete(a, "shared", false).code(), StatusCode::kNotFound);
  ASSERT_TRUE(PutIn(a, "shared", {}, 50).ok());
  ASSERT_TRUE(engine_->Delete(d, "shared", true).ok());
  EXPECT_TRUE(GetIs(a, "shared", 50));
  EXPECT_FALSE(Has(d, "shared"));

  // And after a reopen, each is still where it was.
  ASSERT_TRUE(PutIn(d, "shared", {}, 70, 2).ok());
  Reopen();
  EXPECT_TRUE(GetIs(a, "shared", 50));
  EXPECT_TRUE(GetIs(d, "shared", 70, 2));
}

TEST_F(NamespaceTest, DeleteRemovesItsObjectsForGood) {
  Open();
  const uint32_t doomed = CreateNs("doomed");
  const uint32_t kept = CreateNs("kept");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(PutIn(doomed, Key(i), {.group = "g"}).ok());
    ASSERT_TRUE(PutIn(kept, Key(i)).ok());
  }
  ASSERT_TRUE(engine_->Pin(doomed, "g", {.group = true}).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  const uint64_t objects_before = engine_->Stats().objects;
  ASSERT_TRUE(engine_->DeleteNamespace("doomed").ok());
  EXPECT_EQ(engine_->Stats().objects, objects_before - 5);
  EXPECT_EQ(engine_->Stats().pin_rules, 0u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(GetCode(doomed, Key(i)), StatusCode::kNotFound);
    EXPECT_TRUE(GetIs(kept, Key(i)));
  }

  // Still gone after a reopen from the checkpoint, and after a full scan of
  // the flash log (which still holds the records).
  Reopen();
  EXPECT_EQ(engine_->GetNamespace("doomed").status().code(), StatusCode::kNotFound);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(GetCode(doomed, Key(i)), StatusCode::kNotFound);
  ReopenWithFullScan();
  EXPECT_EQ(engine_->GetNamespace("doomed").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Stats().objects, 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(GetCode(doomed, Key(i)), StatusCode::kNotFound);
    EXPECT_TRUE(GetIs(kept, Key(i)));
  }
  EXPECT_EQ(Info("kept").objects, 5u);

  // A new namespace of the same name gets a new id and none of the old objects.
  const uint32_t again = CreateNs("doomed");
  EXPECT_NE(again, doomed);
  EXPECT_GT(again, kept);
  EXPECT_EQ(Info("doomed").objects, 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(Has(again, Key(i)));
  ReopenWithFullScan();
  EXPECT_EQ(*engine_->ResolveNamespace("doomed"), again);
  EXPECT_EQ(Info("doomed").objects, 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(Has(again, Key(i)));
}

TEST_F(NamespaceTest, IdsAreNotReusedAcrossReopen) {
  Open();
  const uint32_t first = CreateNs("one");
  const uint32_t second = CreateNs("two");
  ASSERT_TRUE(engine_->DeleteNamespace("two").ok());
  Reopen();
  const uint32_t third = CreateNs("three");
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  EXPECT_GT(third, second);
}

TEST_F(NamespaceTest, ConfigsPersistAcrossReopen) {
  Open();
  NamespaceConfig config{
      .quota_bytes = 123 * kValueBytes, .default_ttl_ms = 3000, .max_ttl_ms = 9000, .priority = 6};
  const uint32_t id = CreateNs("persist", config);
  ASSERT_TRUE(engine_->SetNamespace("default", {.quota_bytes = 777 * kValueBytes}).ok());
  ASSERT_TRUE(PutIn(id, "x", {}, 100).ok());
  Reopen();
  NamespaceInfo info = Info("persist");
  EXPECT_EQ(info.id, id);
  EXPECT_EQ(info.config.quota_bytes, config.quota_bytes);
  EXPECT_EQ(info.config.default_ttl_ms, config.default_ttl_ms);
  EXPECT_EQ(info.config.max_ttl_ms, config.max_ttl_ms);
  EXPECT_EQ(info.config.priority, config.priority);
  EXPECT_EQ(info.objects, 1u);
  EXPECT_EQ(info.bytes, 100u);
  EXPECT_EQ(Info("default").config.quota_bytes, 777 * kValueBytes);
  EXPECT_EQ(engine_->ListNamespaces().size(), 2u);
}

// A namespace's priority orders the DRAM tier: its objects leave DRAM (not
// the store) before those of higher priorities.
TEST_F(NamespaceTest, LowPriorityLeavesDramFirst) {
  EngineOptions o = Options();
  o.memory_bytes = 16 * kValueBytes;
  Open(o);
  const uint32_t hi = CreateNs("hi", {.priority = 7});
  const uint32_t lo = CreateNs("lo", {.priority = 0});
  // Sync puts: each object is clean (evictable) before the next allocation.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PutIn(hi, Key(i), {.sync = true}).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PutIn(lo, Key(i), {.sync = true}).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(PutIn(kDefaultNamespaceId, Key(i), {.sync = true}).ok());
  }
  EXPECT_GT(engine_->Stats().evictions_dram, 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(StatOf(hi, Key(i)).in_dram) << i;
    EXPECT_FALSE(StatOf(lo, Key(i)).in_dram) << i;
    EXPECT_TRUE(GetIs(lo, Key(i))) << i;  // still stored, on flash
  }
}

// Namespace object and byte counts are rebuilt by recovery, including when
// the log holds deletes (tombstones) that a scan replays.
TEST_F(NamespaceTest, CountsAreRightAfterAFullScanWithDeletes) {
  Open();
  const uint32_t ns = CreateNs("counted");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PutIn(ns, Key(i), {}, 1000).ok());
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "d0", {}, 10).ok());
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "d1", {}, 10).ok());
  ASSERT_TRUE(engine_->Delete(ns, Key(0), false).ok());
  ASSERT_TRUE(engine_->Delete(ns, Key(1), false).ok());
  ASSERT_TRUE(engine_->Delete(kDefaultNamespaceId, "d0", false).ok());
  EXPECT_EQ(Info("counted").objects, 2u);
  EXPECT_EQ(Info("counted").bytes, 2000u);
  ReopenWithFullScan();
  EXPECT_EQ(engine_->Stats().objects, 3u);
  EXPECT_EQ(Info("counted").objects, 2u);
  EXPECT_EQ(Info("counted").bytes, 2000u);
  EXPECT_EQ(Info("default").objects, 1u);
  EXPECT_EQ(Info("default").bytes, 10u);
  // The counts stay consistent as objects come and go.
  ASSERT_TRUE(engine_->Delete(ns, Key(2), false).ok());
  ASSERT_TRUE(engine_->Delete(ns, Key(3), false).ok());
  EXPECT_EQ(Info("counted").objects, 0u);
  EXPECT_EQ(Info("counted").bytes, 0u);
}

// ---------------------------------------------------------------------------
// TTL

class TtlTest : public ContextTest {};

TEST_F(TtlTest, ExpiryIsComputedFromTtlDefaultAndMaximum) {
  Open();
  const uint32_t plain = kDefaultNamespaceId;
  const uint32_t capped = CreateNs("capped", {.default_ttl_ms = 500, .max_ttl_ms = 2000});
  const uint32_t max_only = CreateNs("max-only", {.max_ttl_ms = 2000});
  const uint64_t t0 = Now();

  ASSERT_TRUE(PutIn(plain, "none").ok());
  ASSERT_TRUE(PutIn(plain, "ttl", {.ttl_ms = 10'000}).ok());
  ASSERT_TRUE(PutIn(capped, "default").ok());
  ASSERT_TRUE(PutIn(capped, "short", {.ttl_ms = 100}).ok());
  ASSERT_TRUE(PutIn(capped, "long", {.ttl_ms = 10'000}).ok());
  ASSERT_TRUE(PutIn(max_only, "none").ok());

  EXPECT_EQ(StatOf(plain, "none").expires_ms, 0u);
  EXPECT_EQ(StatOf(plain, "ttl").expires_ms, t0 + 10'000);
  EXPECT_EQ(StatOf(plain, "ttl").created_ms, t0);
  EXPECT_EQ(StatOf(capped, "default").expires_ms, t0 + 500);  // the default
  EXPECT_EQ(StatOf(capped, "short").expires_ms, t0 + 100);    // below the cap
  EXPECT_EQ(StatOf(capped, "long").expires_ms, t0 + 2000);    // capped
  EXPECT_EQ(StatOf(max_only, "none").expires_ms, t0 + 2000);  // no TTL is capped too

  Advance(499);
  EXPECT_TRUE(Has(capped, "default"));
  EXPECT_FALSE(Has(capped, "short"));
  Advance(1);
  EXPECT_FALSE(Has(capped, "default"));
  Advance(1500);
  EXPECT_FALSE(Has(capped, "long"));
  EXPECT_FALSE(Has(max_only, "none"));
  EXPECT_TRUE(Has(plain, "ttl"));
  Advance(8000);
  EXPECT_FALSE(Has(plain, "ttl"));
  EXPECT_TRUE(Has(plain, "none"));
}

TEST_F(TtlTest, ExpiredObjectsAreInvisibleAtOnce) {
  Open();
  const uint32_t ns = CreateNs("t");
  ASSERT_TRUE(PutIn(ns, "a", {.ttl_ms = 1000, .group = "g"}).ok());
  ASSERT_TRUE(PutIn(ns, "b", {.ttl_ms = 1000, .parent = "a"}).ok());
  ASSERT_TRUE(PutIn(ns, "c").ok());
  std::vector<std::string_view> chain = {"a", "b", "c"};
  EXPECT_EQ(engine_->MatchPrefix(ns, chain, 0)->matched, 3u);

  Advance(1000);
  EXPECT_EQ(GetCode(ns, "a"), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Exists(ns, "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Stat(ns, "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Stat(ns, "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->MatchPrefix(ns, chain, 0)->matched, 0u);
  EXPECT_EQ(ListKeys(ns), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(ListKeys(ns, {.group = "g"}).empty());
  EXPECT_EQ(engine_->Pin(ns, "a", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*engine_->Pin(ns, "g", {.group = true}), 0u);
  EXPECT_EQ(*engine_->DeleteGroup(ns, "g"), 0u);  // an expired member does not count
  EXPECT_EQ(engine_->Delete(ns, "b", false).code(), StatusCode::kNotFound);
  // An expired key may be written again without overwrite.
  ASSERT_TRUE(PutIn(ns, "a", {}, kValueBytes, 2).ok());
  EXPECT_TRUE(GetIs(ns, "a", kValueBytes, 2));
}

TEST_F(TtlTest, MaintenanceRemovesExpiredObjects) {
  Open();
  const uint32_t ns = CreateNs("t");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PutIn(ns, Key(i), {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(PutIn(ns, "forever").ok());
  ASSERT_TRUE(engine_->Flush().ok());  // expiry waits for unwritten objects
  EXPECT_EQ(Info("t").bytes, 4 * kValueBytes);
  EXPECT_EQ(engine_->Stats().expired_objects, 0u);

  Advance(1001);
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats().expired_objects == 3; }))
      << engine_->Stats().expired_objects;
  EXPECT_EQ(Info("t").bytes, kValueBytes);
  EXPECT_EQ(Info("t").objects, 1u);
  EXPECT_EQ(engine_->Stats().objects, 1u);
  EXPECT_TRUE(GetIs(ns, "forever"));
}

TEST_F(TtlTest, ExpirySurvivesReopen) {
  Open();
  const uint32_t ns = CreateNs("t");
  ASSERT_TRUE(PutIn(ns, "short", {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(PutIn(ns, "long", {.ttl_ms = 5000}).ok());
  const uint64_t expires = StatOf(ns, "short").expires_ms;
  Reopen();
  EXPECT_EQ(StatOf(ns, "short").expires_ms, expires);
  EXPECT_TRUE(GetIs(ns, "short"));
  Advance(1000);
  EXPECT_EQ(GetCode(ns, "short"), StatusCode::kNotFound);
  EXPECT_TRUE(GetIs(ns, "long"));

  // Through a full scan as well, and then maintenance removes it.
  ReopenWithFullScan();
  EXPECT_EQ(GetCode(ns, "short"), StatusCode::kNotFound);
  EXPECT_TRUE(Has(ns, "long"));
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats().expired_objects == 1; }));
  EXPECT_EQ(Info("t").objects, 1u);
  Advance(4000);
  EXPECT_FALSE(Has(ns, "long"));
  Reopen();
  EXPECT_FALSE(Has(ns, "long"));
  EXPECT_TRUE(ListKeys(ns).empty());
}

// ---------------------------------------------------------------------------
// Leases

class LeaseTest : public ContextTest {};

TEST_F(LeaseTest, MatchPrefixHandsOutLeases) {
  Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Put(Key(i)).ok());
  std::vector<std::string_view> keys = {"k0", "k1", "missing", "k2"};
  auto m = engine_->MatchPrefix(kDefaultNamespaceId, keys, 5000);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->matched, 2u);
  EXPECT_NE(m->lease_id, 0u);
  EXPECT_EQ(engine_->Stats().leases, 1u);
  EXPECT_EQ(StatOf("k0").leases, 1u);
  EXPECT_EQ(StatOf("k0").lease_expires_ms, Now() + 5000);
  EXPECT_EQ(StatOf("k2").leases, 0u);

  // No lease without a match, or without asking.
  std::vector<std::string_view> none = {"missing"};
  auto m0 = engine_->MatchPrefix(kDefaultNamespaceId, none, 5000);
  ASSERT_TRUE(m0.ok());
  EXPECT_EQ(m0->matched, 0u);
  EXPECT_EQ(m0->lease_id, 0u);
  auto m1 = engine_->MatchPrefix(kDefaultNamespaceId, keys, 0);
  ASSERT_TRUE(m1.ok());
  EXPECT_EQ(m1->lease_id, 0u);

  // Over the maximum.
  EXPECT_EQ(
      engine_->MatchPrefix(kDefaultNamespaceId, keys, options_.max_lease_ms + 1).status().code(),
      StatusCode::kInvalid);
  EXPECT_TRUE(engine_->MatchPrefix(kDefaultNamespaceId, keys, options_.max_lease_ms).ok());

  // Another namespace cannot release (or learn of) it.
  EXPECT_EQ(engine_->ReleaseLease(7, m->lease_id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->ReleaseLease(kDefaultNamespaceId, m->lease_id).ok());
  EXPECT_EQ(engine_->ReleaseLease(kDefaultNamespaceId, m->lease_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->ReleaseLease(kDefaultNamespaceId, 987654).code(), StatusCode::kNotFound);
  EXPECT_EQ(StatOf("k0").leases, 1u);  // the second (maximum-length) lease
}

TEST_F(LeaseTest, LeaseHoldsOffExpiryUntilReleased) {
  Open();
  ASSERT_TRUE(Put("a", {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(Put("b", {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  std::vector<std::string_view> keys = {"a"};
  auto m = engine_->MatchPrefix(kDefaultNamespaceId, keys, 5000);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->matched, 1u);

  Advance(2000);  // past the TTL, within the lease
  EXPECT_TRUE(GetIs(kDefaultNamespaceId, "a"));
  EXPECT_TRUE(Has("a"));
  EXPECT_FALSE(Has("b"));
  EXPECT_EQ(ListKeys(kDefaultNamespaceId), (std::vector<std::string>{"a"}));
  // Maintenance leaves it alone while leased.
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats().expired_objects == 1; }));  // b
  LetMaintenanceRun();
  EXPECT_TRUE(Has("a"));
  EXPECT_EQ(engine_->Stats().expired_objects, 1u);

  ASSERT_TRUE(engine_->ReleaseLease(kDefaultNamespaceId, m->lease_id).ok());
  EXPECT_FALSE(Has("a"));
  EXPECT_EQ(GetCode(kDefaultNamespaceId, "a"), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Stats().leases, 0u);
  // Released, it is removed without waiting for the lease's original end.
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats().expired_objects == 2; }));
  EXPECT_EQ(engine_->Stats().objects, 0u);
}

TEST_F(LeaseTest, LeaseEndsByItself) {
  Open();
  ASSERT_TRUE(Put("a", {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  std::vector<std::string_view> keys = {"a"};
  auto m = engine_->MatchPrefix(kDefaultNamespaceId, keys, 3000);
  ASSERT_TRUE(m.ok());
  Advance(2999);
  EXPECT_TRUE(Has("a"));
  Advance(1);
  EXPECT_FALSE(Has("a"));
  // An ended lease cannot be released, whether or not maintenance ran yet.
  EXPECT_EQ(engine_->ReleaseLease(kDefaultNamespaceId, m->lease_id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats().expired_objects == 1; }));
  EXPECT_EQ(engine_->Stats().leases, 0u);
}

TEST_F(LeaseTest, DeleteStillRemovesALeasedObject) {
  Open();
  ASSERT_TRUE(Put("a").ok());
  std::vector<std::string_view> keys = {"a"};
  auto m = engine_->MatchPrefix(kDefaultNamespaceId, keys, 3000);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(engine_->Delete("a", false).ok());
  EXPECT_FALSE(Has("a"));
  EXPECT_TRUE(engine_->ReleaseLease(kDefaultNamespaceId, m->lease_id).ok());
}

TEST_F(LeaseTest, OutstandingLeasesAreLimited) {
  EngineOptions o = Options();
  o.max_leases = 2;
  Open(o);
  ASSERT_TRUE(Put("a").ok());
  std::vector<std::string_view> keys = {"a"};
  auto l1 = engine_->MatchPrefix(kDefaultNamespaceId, keys, 1000);
  auto l2 = engine_->MatchPrefix(kDefaultNamespaceId, keys, 1000);
  ASSERT_TRUE(l1.ok());
  ASSERT_TRUE(l2.ok());
  EXPECT_NE(l1->lease_id, l2->lease_id);
  EXPECT_EQ(StatOf("a").leases, 2u);
  EXPECT_EQ(engine_->MatchPrefix(kDefaultNamespaceId, keys, 1000).status().code(),
            StatusCode::kBusy);
  // Matching without a lease still works.
  EXPECT_EQ(engine_->MatchPrefix(kDefaultNamespaceId, keys, 0)->matched, 1u);
  ASSERT_TRUE(engine_->ReleaseLease(kDefaultNamespaceId, l1->lease_id).ok());
  EXPECT_EQ(StatOf("a").leases, 1u);
  EXPECT_TRUE(engine_->MatchPrefix(kDefaultNamespaceId, keys, 1000).ok());
}

// ---------------------------------------------------------------------------
// Quota

class QuotaTest : public ContextTest {};

TEST_F(QuotaTest, EvictsLeastRecentlyUsedToStayWithinQuota) {
  Open(Options("lru"));
  const uint32_t ns = CreateNs("q", {.quota_bytes = 4 * kValueBytes});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PutIn(ns, Key(i)).ok());
  EXPECT_EQ(Info("q").bytes, 4 * kValueBytes);
  ASSERT_TRUE(GetIs(ns, "k0"));
  std::vector<std::string_view> k1 = {"k1"};
  ASSERT_EQ(engine_->MatchPrefix(ns, k1, 0)->matched, 1u);  // a match is a use too

  ASSERT_TRUE(PutIn(ns, "k4").ok());  // k2 is the least recently used
  EXPECT_FALSE(Has(ns, "k2"));
  EXPECT_TRUE(Has(ns, "k0"));
  EXPECT_TRUE(Has(ns, "k1"));
  EXPECT_TRUE(Has(ns, "k3"));
  ASSERT_TRUE(PutIn(ns, "k5").ok());  // then k3
  EXPECT_FALSE(Has(ns, "k3"));
  ASSERT_TRUE(PutIn(ns, "k6").ok());  // then k0
  EXPECT_FALSE(Has(ns, "k0"));
  EXPECT_TRUE(Has(ns, "k1"));

  NamespaceInfo info = Info("q");
  EXPECT_EQ(info.objects, 4u);
  EXPECT_EQ(info.bytes, 4 * kValueBytes);
  EXPECT_EQ(info.evictions, 3u);
  EXPECT_EQ(engine_->Stats().evictions_quota, 3u);
  // Another namespace is not affected by this one's quota.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(PutIn(kDefaultNamespaceId, Key(i)).ok());
  EXPECT_EQ(Info("default").objects, 10u);
  EXPECT_EQ(Info("q").objects, 4u);
  EXPECT_EQ(engine_->Stats().evictions_quota, 3u);

  // Evicted objects stay gone after a reopen (a tombstone was written).
  Reopen();
  EXPECT_FALSE(Has(ns, "k0"));
  EXPECT_FALSE(Has(ns, "k2"));
  EXPECT_FALSE(Has(ns, "k3"));
  EXPECT_EQ(Info("q").objects, 4u);
  ReopenWithFullScan();
  EXPECT_FALSE(Has(ns, "k0"));
  EXPECT_FALSE(Has(ns, "k2"));
  EXPECT_FALSE(Has(ns, "k3"));
  EXPECT_EQ(Info("q").objects, 4u);
}

TEST_F(QuotaTest, OverwriteIsChargedOnlyTheDifference) {
  Open();
  const uint32_t ns = CreateNs("q", {.quota_bytes = 4 * kValueBytes});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PutIn(ns, Key(i)).ok());
  ASSERT_TRUE(PutIn(ns, "k0", {.overwrite = true}, kValueBytes, 2).ok());
  EXPECT_EQ(Info("q").evictions, 0u);
  EXPECT_TRUE(GetIs(ns, "k0", kValueBytes, 2));
  // Growing k1 by a byte evicts the least recently used other object.
  ASSERT_TRUE(PutIn(ns, "k1", {.overwrite = true}, kValueBytes + 1, 2).ok());
  EXPECT_EQ(Info("q").evictions, 1u);
  EXPECT_TRUE(GetIs(ns, "k1", kValueBytes + 1, 2));
  EXPECT_FALSE(Has(ns, "k2"));
  EXPECT_EQ(Info("q").bytes, 3 * kValueBytes + 1);
}

TEST_F(QuotaTest, ValueLargerThanTheQuotaIsTooLarge) {
  Open();
  const uint32_t ns = CreateNs("q", {.quota_bytes = 2 * kValueBytes});
  ASSERT_TRUE(PutIn(ns, "a").ok());
  EXPECT_EQ(PutIn(ns, "big", {}, 2 * kValueBytes + 1).code(), StatusCode::kTooLarge);
  EXPECT_FALSE(Has(ns, "big"));
  EXPECT_TRUE(Has(ns, "a"));  // nothing evicted for it
  EXPECT_EQ(Info("q").evictions, 0u);
  EXPECT_TRUE(PutIn(ns, "exact", {}, 2 * kValueBytes).ok());
  EXPECT_FALSE(Has(ns, "a"));
}

TEST_F(QuotaTest, SmallerQuotaAppliesAtOnce) {
  Open();
  const uint32_t ns = CreateNs("q");
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(PutIn(ns, Key(i)).ok());
  ASSERT_TRUE(engine_->SetNamespace("q", {.quota_bytes = 2 * kValueBytes}).ok());
  NamespaceInfo info = Info("q");
  EXPECT_EQ(info.objects, 2u);
  EXPECT_EQ(info.bytes, 2 * kValueBytes);
  EXPECT_EQ(info.evictions, 4u);
  EXPECT_TRUE(Has(ns, "k4"));
  EXPECT_TRUE(Has(ns, "k5"));
}

TEST_F(QuotaTest, PinnedAndLeasedObjectsAreNotEvicted) {
  Open();
  const uint32_t ns = CreateNs("q", {.quota_bytes = 4 * kValueBytes});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PutIn(ns, Key(i)).ok());
  ASSERT_TRUE(engine_->Pin(ns, "k0", {}).ok());  // k0 stays least recently used
  std::vector<std::string_view> k1 = {"k1"};
  auto lease = engine_->MatchPrefix(ns, k1, 5000);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(GetIs(ns, "k2"));
  ASSERT_TRUE(GetIs(ns, "k3"));
  ASSERT_TRUE(GetIs(ns, "k1"));
  ASSERT_TRUE(GetIs(ns, "k0"));
  // Least recently used first: k2, k3, k1 (leased), k0 (pinned).
  ASSERT_TRUE(PutIn(ns, "n0").ok());
  EXPECT_FALSE(Has(ns, "k2"));
  ASSERT_TRUE(PutIn(ns, "n1").ok());
  EXPECT_FALSE(Has(ns, "k3"));
  ASSERT_TRUE(PutIn(ns, "n2").ok());  // skips k1 and k0
  EXPECT_FALSE(Has(ns, "n0"));
  EXPECT_TRUE(Has(ns, "k0"));
  EXPECT_TRUE(Has(ns, "k1"));
  ASSERT_TRUE(engine_->ReleaseLease(ns, lease->lease_id).ok());
  ASSERT_TRUE(PutIn(ns, "n3").ok());  // k1 is evictable again, and least recent
  EXPECT_FALSE(Has(ns, "k1"));
  EXPECT_TRUE(Has(ns, "k0"));
}

TEST_F(QuotaTest, PutFailsWhenEverythingIsPinned) {
  Open();
  const uint32_t ns = CreateNs("q", {.quota_bytes = 3 * kValueBytes});
  ASSERT_TRUE(PutIn(ns, "p0", {.group = "keep"}).ok());
  ASSERT_TRUE(PutIn(ns, "p1", {.group = "keep"}).ok());
  ASSERT_TRUE(PutIn(ns, "p2").ok());
  EXPECT_EQ(*engine_->Pin(ns, "keep", {.group = true}), 2u);
  ASSERT_TRUE(engine_->Pin(ns, "p2", {}).ok());
  Status st = PutIn(ns, "new");
  EXPECT_EQ(st.code(), StatusCode::kNoSpace);
  EXPECT_TRUE(st.message().starts_with("no space: pinned")) << st.message();
  EXPECT_FALSE(Has(ns, "new"));
  for (const char* k : {"p0", "p1", "p2"}) EXPECT_TRUE(GetIs(ns, k)) << k;
  EXPECT_EQ(Info("q").evictions, 0u);
  EXPECT_EQ(Info("q").objects, 3u);
  // A put that fits goes through.
  EXPECT_TRUE(PutIn(ns, "empty", {}, 0).ok());
}

TEST_F(QuotaTest, PutFailsWhenEverythingIsLeased) {
  Open();
  const uint32_t ns = CreateNs("q", {.quota_bytes = 2 * kValueBytes});
  ASSERT_TRUE(PutIn(ns, "a").ok());
  ASSERT_TRUE(PutIn(ns, "b").ok());
  std::vector<std::string_view> keys = {"a", "b"};
  auto lease = engine_->MatchPrefix(ns, keys, 5000);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->matched, 2u);
  Status st = PutIn(ns, "c");
  EXPECT_EQ(st.code(), StatusCode::kNoSpace);
  EXPECT_TRUE(st.message().starts_with("no space: pinned")) << st.message();
  EXPECT_TRUE(Has(ns, "a"));
  EXPECT_TRUE(Has(ns, "b"));
  // When the lease ends, they are evictable again.
  Advance(5000);
  EXPECT_TRUE(PutIn(ns, "c").ok());
  EXPECT_EQ(Info("q").evictions, 1u);
}

// ---------------------------------------------------------------------------
// Eviction order of each policy, and orphans first

class EvictionOrderTest : public ContextTest {
 protected:
  // A namespace that holds `n` values of kValueBytes.
  uint32_t OpenWithQuota(std::string_view policy, int n) {
    Open(Options(policy));
    return CreateNs("q", {.quota_bytes = n * kValueBytes});
  }
  std::vector<std::string> Present(uint32_t ns, const std::vector<std::string>& keys) {
    std::vector<std::string> out;
    for (const std::string& k : keys) {
      if (Has(ns, k)) out.push_back(k);
    }
    return out;
  }
};

TEST_F(EvictionOrderTest, LruEvictsByRecency) {
  const uint32_t ns = OpenWithQuota("lru", 4);
  for (const char* k : {"a", "b", "c", "d"}) ASSERT_TRUE(PutIn(ns, k).ok());
  ASSERT_TRUE(GetIs(ns, "a"));
  ASSERT_TRUE(GetIs(ns, "b"));
  ASSERT_TRUE(PutIn(ns, "e").ok());
  ASSERT_TRUE(PutIn(ns, "f").ok());
  EXPECT_EQ(Present(ns, {"a", "b", "c", "d", "e", "f"}),
            (std::vector<std::string>{"a", "b", "e", "f"}));
}

// Objects read again (after newer ones came) outlive newer one-hit objects.
TEST_F(EvictionOrderTest, S3FifoEvictsOneHitObjectsFirst) {
  const uint32_t ns = OpenWithQuota("s3fifo", 10);
  std::vector<std::string> reused, once, fresh;
  for (int i = 0; i < 5; ++i) {
    reused.push_back(Name("r", i));
    once.push_back(Name("o", i));
    fresh.push_back(Name("n", i));
  }
  for (const auto& k : reused) ASSERT_TRUE(PutIn(ns, k).ok());
  for (const auto& k : reused) ASSERT_TRUE(GetIs(ns, k));
  for (const auto& k : once) ASSERT_TRUE(PutIn(ns, k).ok());  // more recent than the reads
  for (const auto& k : fresh) ASSERT_TRUE(PutIn(ns, k).ok());
  EXPECT_EQ(Present(ns, reused), reused);
  EXPECT_TRUE(Present(ns, once).empty());
  EXPECT_EQ(Present(ns, fresh), fresh);
  EXPECT_EQ(Info("q").evictions, 5u);

  // A key evicted unread and written again is admitted to main: it outlives
  // a key written at the same time for the first time.
  ASSERT_TRUE(PutIn(ns, "o0").ok());
  ASSERT_TRUE(PutIn(ns, "first-time").ok());
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(PutIn(ns, Name("n", i)).ok());
  EXPECT_TRUE(Has(ns, "o0"));
  EXPECT_FALSE(Has(ns, "first-time"));
  EXPECT_EQ(Present(ns, reused), reused);

  // The same workload under lru evicts the reused objects instead.
  engine_.reset();
  TempDir other;
  ASSERT_TRUE(other.ok());
  EngineOptions o = Options("lru");
  o.data_dir = other.data_dir();
  Open(o);
  const uint32_t lru = CreateNs("q", {.quota_bytes = 10 * kValueBytes});
  for (const auto& k : reused) ASSERT_TRUE(PutIn(lru, k).ok());
  for (const auto& k : reused) ASSERT_TRUE(GetIs(lru, k));
  for (const auto& k : once) ASSERT_TRUE(PutIn(lru, k).ok());
  for (const auto& k : fresh) ASSERT_TRUE(PutIn(lru, k).ok());
  EXPECT_TRUE(Present(lru, reused).empty());
  EXPECT_EQ(Present(lru, once), once);
  engine_.reset();
}

TEST_F(EvictionOrderTest, LruGhostAdmitsOnSecondSighting) {
  const uint32_t ns = OpenWithQuota("lru-ghost", 4);
  for (const char* k : {"a", "b", "c", "d"}) ASSERT_TRUE(PutIn(ns, k).ok());
  // A first sighting is next in line: e evicts d (the newest), not a.
  ASSERT_TRUE(PutIn(ns, "e").ok());
  EXPECT_EQ(Present(ns, {"a", "b", "c", "d", "e"}), (std::vector<std::string>{"a", "b", "c", "e"}));
  // ...unless read: e, read, outlives c.
  ASSERT_TRUE(GetIs(ns, "e"));
  ASSERT_TRUE(PutIn(ns, "f").ok());
  EXPECT_EQ(Present(ns, {"a", "b", "c", "e", "f"}), (std::vector<std::string>{"a", "b", "e", "f"}));
  // d, evicted before, comes back hot: it outlives the next new keys (and
  // the older b).
  ASSERT_TRUE(PutIn(ns, "d").ok());
  EXPECT_FALSE(Has(ns, "f"));
  for (const char* k : {"g", "h", "i"}) ASSERT_TRUE(PutIn(ns, k).ok());
  EXPECT_TRUE(Has(ns, "d"));
  EXPECT_TRUE(Has(ns, "e"));
  EXPECT_TRUE(Has(ns, "i"));
  EXPECT_FALSE(Has(ns, "g"));
  EXPECT_FALSE(Has(ns, "h"));
  EXPECT_EQ(Info("q").objects, 4u);
}

TEST_F(EvictionOrderTest, OrphansGoFirst) {
  for (std::string_view policy : {"lru", "s3fifo", "lru-ghost"}) {
    SCOPED_TRACE(policy);
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    EngineOptions o = Options(policy);
    o.data_dir = dir.data_dir();
    Open(o);
    const uint32_t ns = CreateNs("q", {.quota_bytes = 5 * kValueBytes});
    ASSERT_TRUE(PutIn(ns, "x").ok());
    ASSERT_TRUE(PutIn(ns, "y").ok());
    ASSERT_TRUE(PutIn(ns, "a").ok());
    ASSERT_TRUE(PutIn(ns, "b", {.parent = "a"}).ok());
    ASSERT_TRUE(PutIn(ns, "c", {.parent = "b"}).ok());
    ASSERT_TRUE(GetIs(ns, "b"));
    EXPECT_FALSE(StatOf(ns, "b").orphan);
    EXPECT_FALSE(StatOf(ns, "c").orphan);

    ASSERT_TRUE(engine_->Delete(ns, "a", false).ok());
    EXPECT_TRUE(StatOf(ns, "b").orphan);
    EXPECT_FALSE(StatOf(ns, "c").orphan);  // its parent b is still there
    ASSERT_TRUE(PutIn(ns, "z").ok());      // fits: 5 objects
    ASSERT_TRUE(PutIn(ns, "w").ok());      // evicts the orphan b, not x or y
    EXPECT_FALSE(Has(ns, "b"));
    EXPECT_TRUE(Has(ns, "x"));
    EXPECT_TRUE(Has(ns, "y"));
    // b's eviction orphaned c, which goes next.
    EXPECT_TRUE(StatOf(ns, "c").orphan);
    ASSERT_TRUE(PutIn(ns, "v").ok());
    EXPECT_FALSE(Has(ns, "c"));
    EXPECT_TRUE(Has(ns, "x"));
    EXPECT_TRUE(Has(ns, "y"));

    // A child whose parent does not exist is an orphan at once (room is
    // made first: eviction runs before the new object is linked).
    ASSERT_TRUE(engine_->Delete(ns, "z", false).ok());
    ASSERT_TRUE(PutIn(ns, "lost", {.parent = "never-written"}).ok());
    EXPECT_TRUE(StatOf(ns, "lost").orphan);
    EXPECT_TRUE(Has(ns, "x"));
    ASSERT_TRUE(PutIn(ns, "u").ok());
    EXPECT_FALSE(Has(ns, "lost"));
    EXPECT_TRUE(Has(ns, "x"));
    engine_.reset();
  }
}

TEST_F(EvictionOrderTest, OrphansAreRecognizedAfterReopen) {
  Open();
  ASSERT_TRUE(Put("a").ok());
  ASSERT_TRUE(Put("b", {.parent = "a"}).ok());
  ASSERT_TRUE(Put("c", {.parent = "b"}).ok());
  ASSERT_TRUE(engine_->Delete("a", false).ok());
  Reopen();
  EXPECT_TRUE(StatOf("b").orphan);
  EXPECT_FALSE(StatOf("c").orphan);
  ReopenWithFullScan();
  EXPECT_TRUE(StatOf("b").orphan);
  EXPECT_FALSE(StatOf("c").orphan);
  ASSERT_TRUE(engine_->Delete("b", false).ok());
  EXPECT_TRUE(StatOf("c").orphan);
}

// ---------------------------------------------------------------------------
// Pins

class PinTest : public ContextTest {};

TEST_F(PinTest, PinAndUnpinKeys) {
  Open();
  ASSERT_TRUE(Put("a").ok());
  EXPECT_EQ(engine_->Pin(kDefaultNamespaceId, "missing", {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(engine_->Pin(kDefaultNamespaceId, "", {}).status().code(), StatusCode::kInvalid);
  auto n = engine_->Pin(kDefaultNamespaceId, "a", {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  ObjectInfo info = StatOf("a");
  EXPECT_TRUE(info.pinned);
  EXPECT_FALSE(info.pin_dram);
  EXPECT_EQ(info.pin_expires_ms, 0u);
  EXPECT_EQ(engine_->Stats().pin_rules, 1u);
  auto page = engine_->List(kDefaultNamespaceId, {});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_TRUE(page->items[0].pinned);

  EXPECT_EQ(engine_->Unpin(kDefaultNamespaceId, "a", /*group=*/true).code(),
            StatusCode::kNotFound);  // a key pin, not a group pin
  EXPECT_EQ(engine_->Unpin(kDefaultNamespaceId, "zzz", false).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->Unpin(kDefaultNamespaceId, "a", false).ok());
  EXPECT_FALSE(StatOf("a").pinned);
  EXPECT_EQ(engine_->Unpin(kDefaultNamespaceId, "a", false).code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Stats().pin_rules, 0u);
}

TEST_F(PinTest, GroupPinCoversPresentAndFutureMembers) {
  Open();
  const uint32_t ns = CreateNs("p", {.quota_bytes = 4 * kValueBytes});
  ASSERT_TRUE(PutIn(ns, "g1", {.group = "sess"}).ok());
  ASSERT_TRUE(PutIn(ns, "g2", {.group = "sess"}).ok());
  ASSERT_TRUE(PutIn(ns, "other", {.group = "else"}).ok());
  // The same group name in another namespace is another group.
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "g0", {.group = "sess"}).ok());
  auto n = engine_->Pin(ns, "sess", {.group = true});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_TRUE(StatOf(ns, "g1").pinned);
  EXPECT_TRUE(StatOf(ns, "g2").pinned);
  EXPECT_FALSE(StatOf(ns, "other").pinned);
  EXPECT_FALSE(StatOf(kDefaultNamespaceId, "g0").pinned);

  ASSERT_TRUE(PutIn(ns, "g3", {.group = "sess"}).ok());
  EXPECT_TRUE(StatOf(ns, "g3").pinned);
  // Quota pressure takes the unpinned object and then fails.
  ASSERT_TRUE(PutIn(ns, "x").ok());
  EXPECT_FALSE(Has(ns, "other"));
  EXPECT_EQ(PutIn(ns, "g4", {.group = "sess"}).code(), StatusCode::kOk);  // evicts x
  EXPECT_FALSE(Has(ns, "x"));
  EXPECT_EQ(PutIn(ns, "y").code(), StatusCode::kNoSpace);
  for (const char* k : {"g1", "g2", "g3", "g4"}) EXPECT_TRUE(GetIs(ns, k)) << k;

  ASSERT_TRUE(engine_->Unpin(ns, "sess", /*group=*/true).ok());
  EXPECT_FALSE(StatOf(ns, "g1").pinned);
  EXPECT_TRUE(PutIn(ns, "y").ok());
  EXPECT_EQ(Info("p").objects, 4u);
}

TEST_F(PinTest, PinTtlLapses) {
  Open();
  const uint32_t ns = CreateNs("p", {.quota_bytes = 2 * kValueBytes});
  ASSERT_TRUE(PutIn(ns, "a").ok());
  ASSERT_TRUE(PutIn(ns, "b").ok());
  ASSERT_TRUE(engine_->Pin(ns, "a", {.ttl_ms = 1000}).ok());
  EXPECT_EQ(StatOf(ns, "a").pin_expires_ms, Now() + 1000);
  ASSERT_TRUE(PutIn(ns, "c").ok());  // a pinned: b goes
  EXPECT_TRUE(Has(ns, "a"));
  EXPECT_FALSE(Has(ns, "b"));
  Advance(1000);
  EXPECT_FALSE(StatOf(ns, "a").pinned);
  EXPECT_EQ(StatOf(ns, "a").pin_expires_ms, 0u);
  ASSERT_TRUE(PutIn(ns, "d").ok());  // a is least recently used and evictable now
  EXPECT_FALSE(Has(ns, "a"));
  EXPECT_TRUE(Has(ns, "c"));
  // Maintenance forgets the lapsed rule.
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats().pin_rules == 0; }));
}

TEST_F(PinTest, KeyAndGroupPinsCombine) {
  Open();
  ASSERT_TRUE(Put("a", {.group = "g"}).ok());
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "a", {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "g", {.group = true, .ttl_ms = 5000}).ok());
  EXPECT_EQ(StatOf("a").pin_expires_ms, Now() + 5000);           // the later of the two
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "a", {}).ok());  // a pin for good replaces it
  EXPECT_EQ(StatOf("a").pin_expires_ms, 0u);
  EXPECT_TRUE(StatOf("a").pinned);
  ASSERT_TRUE(engine_->Unpin(kDefaultNamespaceId, "a", false).ok());
  EXPECT_TRUE(StatOf("a").pinned);  // by its group still
  Advance(5000);
  EXPECT_FALSE(StatOf("a").pinned);
}

TEST_F(PinTest, PinsSurviveReopen) {
  Open();
  const uint32_t ns = CreateNs("p");
  ASSERT_TRUE(PutIn(ns, "key").ok());
  ASSERT_TRUE(PutIn(ns, "member", {.group = "grp"}).ok());
  ASSERT_TRUE(PutIn(ns, "timed").ok());
  ASSERT_TRUE(PutIn(ns, "unpinned").ok());
  ASSERT_TRUE(engine_->Pin(ns, "key", {}).ok());
  ASSERT_TRUE(engine_->Pin(ns, "grp", {.group = true}).ok());
  ASSERT_TRUE(engine_->Pin(ns, "timed", {.ttl_ms = 2000}).ok());
  ASSERT_TRUE(engine_->Pin(ns, "unpinned", {}).ok());
  ASSERT_TRUE(engine_->Unpin(ns, "unpinned", false).ok());
  Reopen();
  EXPECT_EQ(engine_->Stats().pin_rules, 3u);
  EXPECT_TRUE(StatOf(ns, "key").pinned);
  EXPECT_TRUE(StatOf(ns, "member").pinned);
  EXPECT_TRUE(StatOf(ns, "timed").pinned);
  EXPECT_EQ(StatOf(ns, "timed").pin_expires_ms, kStartMs + 2000);
  EXPECT_FALSE(StatOf(ns, "unpinned").pinned);
  ASSERT_TRUE(PutIn(ns, "member2", {.group = "grp"}).ok());
  EXPECT_TRUE(StatOf(ns, "member2").pinned);

  // A pin that lapsed while the store was down is not loaded.
  ASSERT_TRUE(engine_->Close().ok());
  engine_.reset();
  Advance(2000);
  Open(options_);
  EXPECT_FALSE(StatOf(ns, "timed").pinned);
  EXPECT_EQ(engine_->Stats().pin_rules, 2u);
  ASSERT_TRUE(engine_->Unpin(ns, "key", false).ok());
  ReopenWithFullScan();
  EXPECT_FALSE(StatOf(ns, "key").pinned);
  EXPECT_TRUE(StatOf(ns, "member").pinned);
}

TEST_F(PinTest, PinRulesAreLimited) {
  EngineOptions o = Options();
  o.max_pins = 2;
  Open(o);
  ASSERT_TRUE(Put("a").ok());
  ASSERT_TRUE(Put("b").ok());
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "a", {}).ok());
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "g", {.group = true}).ok());
  EXPECT_EQ(engine_->Pin(kDefaultNamespaceId, "b", {}).status().code(), StatusCode::kNoSpace);
  EXPECT_FALSE(StatOf("b").pinned);
  // Pinning an already pinned name again replaces its rule.
  EXPECT_TRUE(engine_->Pin(kDefaultNamespaceId, "a", {.ttl_ms = 1000}).ok());
  EXPECT_EQ(engine_->Stats().pin_rules, 2u);
  ASSERT_TRUE(engine_->Unpin(kDefaultNamespaceId, "g", true).ok());
  EXPECT_TRUE(engine_->Pin(kDefaultNamespaceId, "b", {}).ok());
}

// A namespace's max_pins counts its pin rules that have not lapsed; renewing
// a lapsed rule (before maintenance sweeps it away) is a new pin.
TEST_F(PinTest, NamespaceMaxPinsCountsLiveRules) {
  Open();
  const uint32_t ns = CreateNs("tenant", {.max_pins = 1});
  ASSERT_TRUE(engine_->Pin(ns, "g1", {.group = true, .ttl_ms = 1000}).ok());
  EXPECT_EQ(engine_->Pin(ns, "g2", {.group = true}).status().code(), StatusCode::kNoSpace);
  EXPECT_TRUE(engine_->Pin(kDefaultNamespaceId, "g2", {.group = true}).ok()) << "not its share";
  EXPECT_TRUE(engine_->Pin(ns, "g1", {.group = true}).ok()) << "a live rule is replaced";
  ASSERT_TRUE(engine_->Pin(ns, "g1", {.group = true, .ttl_ms = 1000}).ok());
  Advance(1001);
  ASSERT_TRUE(engine_->Pin(ns, "g2", {.group = true}).ok()) << "g1 lapsed";
  EXPECT_EQ(engine_->Pin(ns, "g1", {.group = true}).status().code(), StatusCode::kNoSpace);
}

// A DRAM pin keeps the object resident while other puts churn a small DRAM tier.
TEST_F(PinTest, DramPinKeepsTheObjectInDram) {
  EngineOptions o = Options();
  o.memory_bytes = 16 * kValueBytes;
  Open(o);
  ASSERT_TRUE(Put("hot").ok());
  ASSERT_TRUE(Put("cold").ok());
  auto fill = [&](int base) {
    for (int i = 0; i < 48; ++i) ASSERT_TRUE(Put(Key(base + i)).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  };
  fill(0);
  // Both left DRAM (clean objects are evicted least recently used first).
  EXPECT_FALSE(StatOf("hot").in_dram);
  EXPECT_FALSE(StatOf("cold").in_dram);
  EXPECT_TRUE(StatOf("hot").on_flash);

  // Pinning to DRAM loads it back, and keeps it there.
  auto n = engine_->Pin(kDefaultNamespaceId, "hot", {.dram = true});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(StatOf("hot").in_dram);
  EXPECT_TRUE(StatOf("hot").pin_dram);
  const uint64_t evictions_before = engine_->Stats().evictions_dram;
  fill(100);
  EXPECT_GT(engine_->Stats().evictions_dram, evictions_before);
  EXPECT_TRUE(StatOf("hot").in_dram);
  EXPECT_FALSE(StatOf("k100").in_dram);
  auto ref = engine_->Get("hot");
  ASSERT_TRUE(ref.ok());
  EXPECT_TRUE(SameBytes(*ref, MakeValue("hot", 1, kValueBytes)));

  // Unpinned, it may leave like any other.
  ASSERT_TRUE(engine_->Unpin(kDefaultNamespaceId, "hot", false).ok());
  ref = engine_->Get("k0");  // (drop the reference to hot's block first)
  fill(200);
  EXPECT_FALSE(StatOf("hot").in_dram);
}

// ---------------------------------------------------------------------------
// Groups

class GroupTest : public ContextTest {};

TEST_F(GroupTest, DeleteGroupListAndStat) {
  Open();
  const uint32_t ns = CreateNs("g");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(PutIn(ns, "s1-" + Key(i), {.group = "s1"}).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(PutIn(ns, "s2-" + Key(i), {.group = "s2"}).ok());
  ASSERT_TRUE(PutIn(ns, "loose").ok());
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "s1-k0", {.group = "s1"}).ok());

  EXPECT_EQ(StatOf(ns, "s1-k0").group, "s1");
  EXPECT_EQ(StatOf(ns, "loose").group, "");
  EXPECT_EQ(ListKeys(ns, {.group = "s1"}), (std::vector<std::string>{"s1-k0", "s1-k1", "s1-k2"}));
  EXPECT_EQ(ListKeys(ns, {.group = "s2"}), (std::vector<std::string>{"s2-k0", "s2-k1"}));
  EXPECT_EQ(ListKeys(ns, {.prefix = "s1-k1", .group = "s1"}), (std::vector<std::string>{"s1-k1"}));
  EXPECT_TRUE(ListKeys(ns, {.group = "nope"}).empty());

  auto n = engine_->DeleteGroup(ns, "s1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Has(ns, "s1-" + Key(i)));
  EXPECT_TRUE(Has(ns, "s2-k0"));
  EXPECT_TRUE(Has(ns, "loose"));
  EXPECT_TRUE(Has(kDefaultNamespaceId, "s1-k0"));  // same group name, other namespace
  EXPECT_TRUE(ListKeys(ns, {.group = "s1"}).empty());
  EXPECT_EQ(*engine_->DeleteGroup(ns, "s1"), 0u);
  EXPECT_EQ(*engine_->DeleteGroup(ns, "nope"), 0u);
  EXPECT_EQ(engine_->DeleteGroup(ns, "").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(Info("g").objects, 3u);

  // Gone for good, and group membership is rebuilt at recovery.
  ReopenWithFullScan();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Has(ns, "s1-" + Key(i)));
  EXPECT_EQ(ListKeys(ns, {.group = "s2"}), (std::vector<std::string>{"s2-k0", "s2-k1"}));
  EXPECT_EQ(*engine_->DeleteGroup(ns, "s2"), 2u);
  EXPECT_EQ(ListKeys(ns), (std::vector<std::string>{"loose"}));
}

TEST_F(GroupTest, OverwriteMovesAnObjectBetweenGroups) {
  Open();
  ASSERT_TRUE(Put("a", {.group = "old"}).ok());
  ASSERT_TRUE(Put("a", {.overwrite = true, .group = "new"}).ok());
  EXPECT_TRUE(ListKeys(kDefaultNamespaceId, {.group = "old"}).empty());
  EXPECT_EQ(ListKeys(kDefaultNamespaceId, {.group = "new"}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*engine_->DeleteGroup(kDefaultNamespaceId, "old"), 0u);
  EXPECT_EQ(*engine_->DeleteGroup(kDefaultNamespaceId, "new"), 1u);
}

// ---------------------------------------------------------------------------
// Metadata and provenance

class MetaTest : public ContextTest {
 protected:
  void ExpectMeta(uint32_t ns, std::string_view key, const ObjectMeta& want) {
    SCOPED_TRACE(std::string(key));
    auto ref = engine_->Get(ns, key);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ASSERT_NE(ref->meta, nullptr);
    EXPECT_EQ(ref->meta->group, want.group);
    EXPECT_EQ(ref->meta->parent, want.parent);
    EXPECT_EQ(ref->meta->writer, want.writer);
    EXPECT_EQ(ref->meta->meta, want.meta);
    ObjectInfo info = StatOf(ns, key);
    EXPECT_EQ(info.group, want.group);
    EXPECT_EQ(info.parent, want.parent);
    EXPECT_EQ(info.writer, want.writer);
    EXPECT_EQ(info.meta, want.meta);
  }
};

TEST_F(MetaTest, MetadataRoundTripsAndSurvivesReopen) {
  Open();
  const uint32_t ns = CreateNs("m");
  const std::string blob("dtype=bf16;shape=[32,8,128]\0\xff", 30);
  ObjectMeta first{.group = "sess-1", .parent = "", .writer = "worker-7", .meta = blob};
  ObjectMeta second{.group = "sess-1", .parent = "c0", .writer = "worker-8", .meta = "m2"};
  ObjectMeta big{.group = "", .parent = "", .writer = "", .meta = std::string(kMaxMetaBytes, 'x')};
  ASSERT_TRUE(PutIn(ns, "c0", {.group = first.group, .writer = first.writer, .meta = blob}).ok());
  ASSERT_TRUE(PutIn(ns, "c1",
                    {.group = second.group,
                     .parent = second.parent,
                     .writer = second.writer,
                     .meta = second.meta},
                    100'000)  // a large (unpacked) record
                  .ok());
  ASSERT_TRUE(PutIn(ns, "big", {.meta = big.meta}, 10).ok());
  ASSERT_TRUE(PutIn(ns, "plain").ok());
  ExpectMeta(ns, "c0", first);
  ExpectMeta(ns, "c1", second);
  ExpectMeta(ns, "big", big);
  ObjectInfo plain = StatOf(ns, "plain");
  EXPECT_TRUE(HasNoMeta(plain));

  Reopen();
  EXPECT_TRUE(engine_->Stats().recovered_from_checkpoint);
  EXPECT_FALSE(StatOf(ns, "c0").in_dram);  // read back from flash below
  ExpectMeta(ns, "c0", first);
  ExpectMeta(ns, "c1", second);
  ExpectMeta(ns, "big", big);
  EXPECT_TRUE(GetIs(ns, "c1", 100'000));
  EXPECT_TRUE(HasNoMeta(StatOf(ns, "plain")));

  ReopenWithFullScan();
  ExpectMeta(ns, "c0", first);
  ExpectMeta(ns, "c1", second);
  ExpectMeta(ns, "big", big);
  EXPECT_TRUE(GetIs(ns, "c1", 100'000));
  EXPECT_TRUE(HasNoMeta(StatOf(ns, "plain")));
  EXPECT_EQ(ListKeys(ns, {.group = "sess-1"}), (std::vector<std::string>{"c0", "c1"}));
}

TEST_F(MetaTest, LimitsOnMetadata) {
  Open();
  EXPECT_EQ(Put("a", {.meta = std::string(kMaxMetaBytes + 1, 'x')}).code(), StatusCode::kTooLarge);
  EXPECT_EQ(Put("a", {.group = std::string(kMaxGroupBytes + 1, 'g')}).code(),
            StatusCode::kTooLarge);
  EXPECT_EQ(Put("a", {.parent = std::string(513, 'p')}).code(), StatusCode::kTooLarge);
  EXPECT_FALSE(Has("a"));
  // A long writer identity is cut to the limit.
  ASSERT_TRUE(Put("a", {.writer = std::string(kMaxWriterBytes + 10, 'w')}).ok());
  EXPECT_EQ(StatOf("a").writer, std::string(kMaxWriterBytes, 'w'));
}

// ---------------------------------------------------------------------------
// List

class ListTest : public ContextTest {};

TEST_F(ListTest, PrefixOrderAndPagination) {
  Open();
  const uint32_t ns = CreateNs("l");
  for (const char* k : {"p/c", "p/a", "q/z", "p/e", "p/b", "p/d", "a"}) {
    ASSERT_TRUE(PutIn(ns, k, {}, 10).ok());
  }
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "p/0", {}, 10).ok());
  EXPECT_EQ(ListKeys(ns),
            (std::vector<std::string>{"a", "p/a", "p/b", "p/c", "p/d", "p/e", "q/z"}));
  EXPECT_EQ(ListKeys(ns, {.prefix = "p/"}),
            (std::vector<std::string>{"p/a", "p/b", "p/c", "p/d", "p/e"}));
  EXPECT_TRUE(ListKeys(ns, {.prefix = "zz"}).empty());

  // Pages of 2 over the 5 keys of p/: 3 pages.
  std::vector<std::string> all;
  std::string cursor;
  int pages = 0;
  do {
    auto page = engine_->List(ns, {.prefix = "p/", .cursor = cursor, .limit = 2});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_LE(page->items.size(), 2u);
    for (const auto& item : page->items) {
      all.push_back(item.key);
      EXPECT_EQ(item.namespace_id, ns);
      EXPECT_EQ(item.value_len, 10u);
    }
    cursor = page->next_cursor;
    ++pages;
    ASSERT_LE(pages, 5);
  } while (!cursor.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all, (std::vector<std::string>{"p/a", "p/b", "p/c", "p/d", "p/e"}));

  // Exactly one page: no cursor.
  auto page = engine_->List(ns, {.prefix = "p/", .limit = 5});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 5u);
  EXPECT_TRUE(page->next_cursor.empty());

  EXPECT_EQ(engine_->List(ns, {.limit = 0}).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(engine_->List(ns, {.limit = kMaxListLimit + 1}).status().code(), StatusCode::kInvalid);
  EXPECT_TRUE(engine_->List(ns, {.limit = kMaxListLimit}).ok());
}

TEST_F(ListTest, ItemsDescribeTheObjects) {
  Open();
  ASSERT_TRUE(Put("a", {.ttl_ms = 5000, .group = "g", .writer = "w"}).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  std::vector<std::string_view> keys = {"a"};
  auto lease = engine_->MatchPrefix(kDefaultNamespaceId, keys, 3000);
  ASSERT_TRUE(lease.ok());
  auto page = engine_->List(kDefaultNamespaceId, {});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  const ObjectInfo& item = page->items[0];
  ObjectInfo stat = StatOf("a");
  EXPECT_EQ(item.key, "a");
  EXPECT_EQ(item.value_len, kValueBytes);
  EXPECT_EQ(item.value_xxh3, stat.value_xxh3);
  EXPECT_EQ(item.created_ms, kStartMs);
  EXPECT_EQ(item.expires_ms, kStartMs + 5000);
  EXPECT_TRUE(item.durable);
  EXPECT_TRUE(item.on_flash);
  EXPECT_EQ(item.group, "g");
  EXPECT_EQ(item.writer, "w");
  EXPECT_EQ(item.leases, stat.leases);
  EXPECT_EQ(item.lease_expires_ms, stat.lease_expires_ms);
}

// Flash reclaim is FIFO by segment, but pinned objects are carried forward:
// written again (read back from flash when DRAM no longer holds them) before
// their segment goes, and still there after a crash-free reopen.
TEST_F(PinTest, PinnedObjectsSurviveFlashReclaim) {
  EngineOptions o = Options();
  o.memory_bytes = 1 * kMiB;  // the pinned values leave DRAM
  o.disk_bytes = 4 * kMiB;    // a few segments: reclaim comes quickly
  o.segment_bytes = 1 * kMiB;
  Open(o);
  constexpr uint64_t kPinnedBytes = 64 * 1024;
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "keep-dram", {}, kPinnedBytes).ok());
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "keep-flash", {}, kPinnedBytes).ok());
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "keep-flash", {}).ok());
  ASSERT_TRUE(engine_->Pin(kDefaultNamespaceId, "keep-dram", {.dram = true}).ok());
  ASSERT_TRUE(PutIn(kDefaultNamespaceId, "unpinned", {}, kPinnedBytes).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  // Write the flash size over several times.
  for (int i = 0; i < 200; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "filler-%d", i);
    ASSERT_TRUE(PutIn(kDefaultNamespaceId, key, {}, kPinnedBytes).ok()) << key;
  }
  ASSERT_TRUE(engine_->Flush().ok());
  EngineStats stats = engine_->Stats();
  EXPECT_GT(stats.reclaimed_segments, 3u);
  EXPECT_EQ(stats.pinned_lost, 0u);
  EXPECT_FALSE(Has("unpinned"));  // reclaimed, as unpinned data is
  EXPECT_FALSE(Has("filler-0"));
  EXPECT_TRUE(GetIs(kDefaultNamespaceId, "keep-flash", kPinnedBytes));
  EXPECT_TRUE(GetIs(kDefaultNamespaceId, "keep-dram", kPinnedBytes));
  EXPECT_TRUE(StatOf("keep-dram").in_dram);
  Reopen();
  EXPECT_TRUE(GetIs(kDefaultNamespaceId, "keep-flash", kPinnedBytes));
  EXPECT_TRUE(GetIs(kDefaultNamespaceId, "keep-dram", kPinnedBytes));
  EXPECT_TRUE(StatOf("keep-flash").pinned);
}

}  // namespace
}  // namespace ctxstore::engine
