// Engine::SetExpiry, what a Redis front end's EXPIRE, PEXPIRE and PERSIST
// become: a new version of the object with the same value and a new expiry,
// written behind, recovered from the checkpoint and from a full scan. The
// wall clock is a fake one (a ManualEnv in EngineOptions::env), so that
// expiries are exact. The last tests step the flusher by hand (no flusher
// thread, an in-memory device), so that what is queued, written or synced
// when the expiry changes is exact too.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../engine_test_util.h"
#include "common/hash.h"
#include "common/units.h"
#include "engine/engine.h"
#include "engine/flash/checkpoint.h"
#include "engine/security/encryption.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::MakeValue;
using test_util::SameBytes;
using test_util::TempDir;

constexpr uint64_t kStartMs = 1'700'000'000'000;  // a plausible wall clock
constexpr uint64_t kValueBytes = 4096;            // one arena page
constexpr uint32_t kDefault = kDefaultNamespaceId;

// An engine over a temp dir with a fake wall clock, reopenable on the same
// data folder (the clock is kept), as in put_conditions_test.cc.
class SetExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    env_->UseRealMonotonicClock();  // the flusher's intervals run in real time
    Open();
  }

  EngineOptions Options() {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 4 * kMiB;
    o.disk_bytes = 16 * kMiB;
    o.segment_bytes = 1 * kMiB;
    o.space_wait_ms = 2000;
    o.max_lease_ms = 10'000;
    o.env = env_.get();
    return o;
  }
  void Open() { Open(Options()); }
  void Open(const EngineOptions& o) {
    options_ = o;
    auto r = Engine::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r).value();
  }
  // Clean close, then open again with the same options: recovery from the
  // checkpoint written on close, or with full_scan from the records alone.
  void Reopen(bool full_scan = false) {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();
    if (full_scan) {
      std::error_code ec;
      ASSERT_TRUE(std::filesystem::remove(dir_.data_dir() + "/" + kCheckpointFileName, ec)) << ec;
    }
    Open(options_);
    ASSERT_EQ(engine_->Stats().recovered_from_checkpoint, !full_scan);
  }

  uint64_t Now() const { return env_->WallClockMs(); }
  void Advance(uint64_t ms) { env_->AdvanceMs(ms); }

  Status Put(std::string_view key, uint64_t version, const WriteOptions& opts = {},
             uint64_t len = kValueBytes) {
    auto v = MakeValue(key, version, len);
    return engine_->Put(key, Bytes(v), opts);
  }
  Status SetExpiry(std::string_view key, uint64_t expires_ms, uint32_t ns = kDefault) {
    return engine_->SetExpiry(ns, key, expires_ms);
  }
  // Whether key (in ns) holds version `version`, its checksum the one handed out.
  ::testing::AssertionResult Holds(std::string_view key, uint64_t version, uint32_t ns = kDefault,
                                   uint64_t len = kValueBytes) {
    auto got = engine_->Get(ns, key);
    if (!got.ok()) return ::testing::AssertionFailure() << key << ": " << got.status().ToString();
    const std::vector<uint8_t> want = MakeValue(key, version, len);
    if (!SameBytes(*got, want)) {
      return ::testing::AssertionFailure() << key << ": not version " << version;
    }
    if (got->xxh3 != Xxh3(want.data(), want.size())) {
      return ::testing::AssertionFailure() << key << ": wrong checksum handed out";
    }
    return ::testing::AssertionSuccess();
  }
  StatusCode GetCode(std::string_view key, uint32_t ns = kDefault) {
    return engine_->Get(ns, key).status().code();
  }
  ObjectInfo StatOf(std::string_view key, uint32_t ns = kDefault) {
    auto info = engine_->Stat(ns, key);
    EXPECT_TRUE(info.ok()) << key << ": " << info.status().ToString();
    return info.ok() ? *info : ObjectInfo{};
  }
  // Puts and flushes other keys until key has left DRAM (it stays on flash).
  void EvictFromDram(std::string_view key, uint32_t ns = kDefault) {
    for (int i = 0; i < 64 && StatOf(key, ns).in_dram; ++i) {
      const Status put = Put("filler-" + std::to_string(i), 1, {.overwrite = true});
      ASSERT_TRUE(put.ok()) << put.ToString();
      ASSERT_TRUE(engine_->Flush().ok());
    }
    ASSERT_FALSE(StatOf(key, ns).in_dram);
    ASSERT_TRUE(StatOf(key, ns).on_flash);
  }

  TempDir dir_;
  std::shared_ptr<ManualEnv> env_ = std::make_shared<ManualEnv>(kStartMs);
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(SetExpiryTest, AnObjectWithoutExpiryExpiresWhenSet) {
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("k", 1, {.group = "g", .parent = "p", .writer = "w", .meta = "m"}).ok());
  Advance(100);
  ASSERT_TRUE(SetExpiry("k", t0 + 5000).ok());
  const ObjectInfo info = StatOf("k");
  EXPECT_EQ(info.expires_ms, t0 + 5000);
  // The same object: its value, creation time and metadata stay.
  EXPECT_EQ(info.created_ms, t0);
  EXPECT_EQ(info.group, "g");
  EXPECT_EQ(info.parent, "p");
  EXPECT_EQ(info.writer, "w");
  EXPECT_EQ(info.meta, "m");
  EXPECT_TRUE(Holds("k", 1));
  EXPECT_EQ(engine_->Stats().puts, 1u) << "not counted as a PUT";
  Advance(4899);
  EXPECT_TRUE(Holds("k", 1));
  Advance(1);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
  EXPECT_EQ(SetExpiry("k", 0).code(), StatusCode::kNotFound) << "expired: nothing to change";
}

TEST_F(SetExpiryTest, ExtendsAndShortens) {
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("k", 1, {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(SetExpiry("k", t0 + 10'000).ok());
  Advance(5000);  // past the first expiry
  EXPECT_TRUE(Holds("k", 1));
  ASSERT_TRUE(SetExpiry("k", Now() + 100).ok());
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 5100);
  Advance(99);
  EXPECT_TRUE(Holds("k", 1));
  Advance(1);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
  // No version's record brings it back.
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
}

TEST_F(SetExpiryTest, PersistRemovesTheExpiry) {
  ASSERT_TRUE(Put("k", 1, {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(SetExpiry("k", 0).ok());
  EXPECT_EQ(StatOf("k").expires_ms, 0u);
  Advance(24 * 3600 * 1000);
  EXPECT_TRUE(Holds("k", 1));
  Reopen();
  EXPECT_EQ(StatOf("k").expires_ms, 0u);
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(StatOf("k").expires_ms, 0u);
  EXPECT_TRUE(Holds("k", 1));
}

TEST_F(SetExpiryTest, AnExpiryAlreadyPastHidesTheObject) {
  ASSERT_TRUE(Put("k", 1).ok());
  ASSERT_TRUE(SetExpiry("k", Now()).ok());
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
}

TEST_F(SetExpiryTest, CappedByTheNamespaceMaximumTtl) {
  auto ns = engine_->CreateNamespace("capped", {.max_ttl_ms = 2000});
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(Put("k", 1, {.namespace_id = *ns}).ok());
  Advance(100);
  ASSERT_TRUE(SetExpiry("k", Now() + 10'000, *ns).ok());
  EXPECT_EQ(StatOf("k", *ns).expires_ms, Now() + 2000);
  ASSERT_TRUE(SetExpiry("k", 0, *ns).ok());  // PERSIST: "never" is capped too
  EXPECT_EQ(StatOf("k", *ns).expires_ms, Now() + 2000);
  ASSERT_TRUE(SetExpiry("k", Now() + 500, *ns).ok());  // within the cap: as asked
  EXPECT_EQ(StatOf("k", *ns).expires_ms, Now() + 500);
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(StatOf("k", *ns).expires_ms, Now() + 500);
}

TEST_F(SetExpiryTest, AbsentExpiredDeletedOrUnknownIsNotFound) {
  EXPECT_EQ(SetExpiry("absent", 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(SetExpiry("k", 0, /*ns=*/4242).code(), StatusCode::kNotFound);
  ASSERT_TRUE(Put("expired", 1, {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(Put("deleted", 1).ok());
  ASSERT_TRUE(engine_->Delete(kDefault, "deleted", false).ok());
  Advance(1000);
  EXPECT_EQ(SetExpiry("expired", 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(SetExpiry("deleted", 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(SetExpiry("", 0).code(), StatusCode::kInvalid);
  EXPECT_EQ(SetExpiry(std::string(kMaxKeyBytes + 1, 'k'), 0).code(), StatusCode::kInvalid);
  // Nothing came back: no record was written for any of them.
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(GetCode("absent"), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("expired"), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("deleted"), StatusCode::kNotFound);
}

// Both versions' records are on flash: the newer one wins, by checkpoint
// and by scan, and its value is the same bytes with the same checksum.
TEST_F(SetExpiryTest, SurvivesRecoveryFromTheCheckpointAndFromAFullScan) {
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("never", 1).ok());
  ASSERT_TRUE(Put("short", 1, {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(Put("large", 1, {}, 300'000).ok());  // a record not packed
  ASSERT_TRUE(Put("empty", 1, {}, 0).ok());
  ASSERT_TRUE(engine_->Flush().ok());  // the old versions are durable
  ASSERT_TRUE(SetExpiry("never", t0 + 50'000).ok());
  ASSERT_TRUE(SetExpiry("short", t0 + 60'000).ok());
  ASSERT_TRUE(SetExpiry("large", t0 + 70'000).ok());
  ASSERT_TRUE(SetExpiry("empty", t0 + 80'000).ok());
  const uint64_t xxh3 = StatOf("never").value_xxh3;
  for (bool full_scan : {false, true}) {
    SCOPED_TRACE(full_scan ? "full scan" : "checkpoint");
    Reopen(full_scan);
    EXPECT_EQ(StatOf("never").expires_ms, t0 + 50'000);
    EXPECT_EQ(StatOf("short").expires_ms, t0 + 60'000);
    EXPECT_EQ(StatOf("large").expires_ms, t0 + 70'000);
    EXPECT_EQ(StatOf("empty").expires_ms, t0 + 80'000);
    EXPECT_EQ(StatOf("never").created_ms, t0);
    EXPECT_EQ(StatOf("never").value_xxh3, xxh3);
    // Read back from flash (recovery loads nothing into DRAM): checked
    // against the checksum on the way.
    EXPECT_FALSE(StatOf("never").in_dram);
    if (!full_scan) {
      // Set again while only on flash: a flash read, then a record as
      // before, which the full scan next finds.
      for (const char* key : {"never", "short", "large", "empty"}) {
        ASSERT_TRUE(SetExpiry(key, StatOf(key).expires_ms).ok()) << key;
      }
    }
    EXPECT_TRUE(Holds("never", 1));
    EXPECT_TRUE(Holds("short", 1));
    EXPECT_TRUE(Holds("large", 1, kDefault, 300'000));
    EXPECT_TRUE(Holds("empty", 1, kDefault, 0));
  }
  EXPECT_EQ(engine_->Stats().corrupt_records_skipped, 0u);
  Advance(60'000);
  EXPECT_EQ(GetCode("short"), StatusCode::kNotFound);
  EXPECT_TRUE(Holds("large", 1, kDefault, 300'000));
}

TEST_F(SetExpiryTest, AFlashOnlyObjectIsLoadedIntoDramAndWrittenAgain) {
  EngineOptions o = Options();
  o.memory_bytes = 16 * kValueBytes;
  ASSERT_TRUE(engine_->Close().ok());
  Open(o);
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("k", 1).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  EvictFromDram("k");
  // Without blocking: kBusy at once, nothing changed.
  EXPECT_EQ(engine_->SetExpiry(kDefault, "k", t0 + 9000, /*never_block=*/true).code(),
            StatusCode::kBusy);
  EXPECT_EQ(StatOf("k").expires_ms, 0u);
  ASSERT_TRUE(SetExpiry("k", t0 + 9000).ok());
  ObjectInfo info = StatOf("k");
  EXPECT_EQ(info.expires_ms, t0 + 9000);
  EXPECT_TRUE(info.in_dram);
  EXPECT_FALSE(info.durable) << "the new version is not on flash yet";
  ASSERT_TRUE(engine_->Flush().ok());
  info = StatOf("k");
  EXPECT_TRUE(info.durable);
  // Evictable again, and read back from its new record.
  EvictFromDram("k");
  EXPECT_TRUE(Holds("k", 1));
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 9000);
  EXPECT_TRUE(Holds("k", 1));
}

TEST_F(SetExpiryTest, ALeaseStillHoldsTheObject) {
  ASSERT_TRUE(Put("k", 1, {.ttl_ms = 1000}).ok());
  std::vector<std::string_view> keys = {"k"};
  auto m = engine_->MatchPrefix(kDefault, keys, /*lease_ms=*/5000);
  ASSERT_TRUE(m.ok() && m->matched == 1);
  // Shortened to now: the lease holds expiry off, as it did the old one.
  ASSERT_TRUE(SetExpiry("k", Now()).ok());
  EXPECT_EQ(StatOf("k").leases, 1u);
  Advance(2000);
  EXPECT_TRUE(Holds("k", 1));
  // Past its expiry, visible through the lease: its expiry can still change.
  ASSERT_TRUE(SetExpiry("k", Now() + 10'000).ok());
  // The lease is found (it names the object's current version) and ends.
  EXPECT_TRUE(engine_->ReleaseLease(kDefault, m->lease_id).ok());
  EXPECT_EQ(StatOf("k").leases, 0u);
  EXPECT_TRUE(Holds("k", 1));
  // Another lease, ended by its deadline, lets the object expire.
  m = engine_->MatchPrefix(kDefault, keys, /*lease_ms=*/5000);
  ASSERT_TRUE(m.ok() && m->matched == 1);
  ASSERT_TRUE(SetExpiry("k", Now() + 10).ok());
  Advance(5000);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
}

TEST_F(SetExpiryTest, QuotaGroupsAndPinsAreUnchanged) {
  auto ns = engine_->CreateNamespace("q", {.quota_bytes = 3 * kValueBytes});
  ASSERT_TRUE(ns.ok());
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(Put(key, 1, {.namespace_id = *ns, .group = "g"}).ok());
  }
  ASSERT_TRUE(engine_->Pin(*ns, "a", {}).ok());
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(SetExpiry(key, Now() + 60'000, *ns).ok());
  auto info = engine_->GetNamespace("q");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->objects, 3u);
  EXPECT_EQ(info->bytes, 3 * kValueBytes) << "the value counted once";
  EXPECT_EQ(info->evictions, 0u);
  EXPECT_TRUE(StatOf("a", *ns).pinned);
  // A fourth value evicts one (not the pinned one), as without SetExpiry.
  ASSERT_TRUE(Put("d", 1, {.namespace_id = *ns}).ok());
  EXPECT_EQ(engine_->GetNamespace("q")->evictions, 1u);
  EXPECT_TRUE(Holds("a", 1, *ns));
  // Still members of their group.
  EXPECT_EQ(*engine_->DeleteGroup(*ns, "g"), 2u);
}

std::shared_ptr<const EncryptionKey> NewKey(const TempDir& dir, const std::string& name) {
  const std::string path = dir.path() + "/" + name + ".key";
  EXPECT_TRUE(CreateKeyFile(path).ok());
  auto key = LoadKeyFile(name, path);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? *key : nullptr;
}

// Sealed records: the new version is sealed too (its AAD names its own seq),
// from DRAM and from flash (opened first), packed and large.
TEST_F(SetExpiryTest, ASealedNamespaceStaysSealed) {
  spdlog::set_level(spdlog::level::err);
  EngineOptions o = Options();
  auto ring = std::make_shared<Keyring>();
  ASSERT_TRUE(ring->Add(NewKey(dir_, "k1")).ok());
  o.keyring = ring;
  ASSERT_TRUE(engine_->Close().ok());
  Open(o);
  NamespaceConfig config;
  config.encryption_key = "k1";
  auto ns = engine_->CreateNamespace("sealed", config);
  ASSERT_TRUE(ns.ok());
  const std::vector<uint64_t> sizes = {100, 10'000, 300'000};
  auto key = [](uint64_t len) {
    std::string k = "v";  // (not "v" + ...: g++ 12 warns of a restrict overlap there)
    return k += std::to_string(len);
  };
  for (uint64_t len : sizes) ASSERT_TRUE(Put(key(len), 1, {.namespace_id = *ns}, len).ok());
  const uint64_t t0 = Now();
  for (uint64_t len : sizes) ASSERT_TRUE(SetExpiry(key(len), t0 + 1000 + len, *ns).ok());  // DRAM
  Reopen();  // everything on flash only now
  for (uint64_t len : sizes) ASSERT_TRUE(SetExpiry(key(len), t0 + 2000 + len, *ns).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(engine_->Stats().sealed_records, sizes.size());
  for (bool full_scan : {false, true}) {
    Reopen(full_scan);
    for (uint64_t len : sizes) {
      SCOPED_TRACE(key(len));
      EXPECT_TRUE(StatOf(key(len), *ns).sealed);
      EXPECT_EQ(StatOf(key(len), *ns).expires_ms, t0 + 2000 + len);
      EXPECT_TRUE(Holds(key(len), 1, *ns, len));
    }
  }
  // Without its key a flash-only sealed object cannot be read: it stays as it was.
  o.keyring = nullptr;
  options_ = o;
  Reopen();
  EXPECT_EQ(SetExpiry(key(100), 0, *ns).code(), StatusCode::kKeyUnavailable);
  spdlog::set_level(spdlog::level::info);
}

// ---------------------------------------------------------------------------
// With the flusher stepped by hand: the new version against one queued,
// written but not synced, or promised durable by a FLUSH.

class SetExpiryQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    Open();
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  void Open() {
    EngineOptions o;
    o.data_dir = "/data";
    o.memory_bytes = 4 * kMiB;
    o.disk_bytes = 16 * kMiB;
    o.device = &mem_;
    o.env = &env_;
    o.flusher_thread = false;
    engine_ = test_util::OpenOrNull(o);
    ASSERT_NE(engine_, nullptr);
  }
  void Reopen(bool full_scan) {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();
    if (full_scan) {
      ASSERT_TRUE(mem_.Remove(std::string("/data/") + kCheckpointFileName).ok());
    }
    Open();
    ASSERT_EQ(engine_->Stats().recovered_from_checkpoint, !full_scan);
  }
  // Steps the flusher until it has nothing to do now.
  void Drain() {
    for (int steps = 0; engine_->RunFlusherOnce() && steps < 1000; ++steps) {
    }
  }
  // Drains, lets the sync interval pass, drains again: everything synced.
  void DrainAndSync() {
    Drain();
    env_.AdvanceMs(engine_->options().sync_interval_ms);
    Drain();
  }
  Status Put(std::string_view key, uint64_t version) {
    return engine_->Put(key, Bytes(MakeValue(key, version, kValueBytes)), {});
  }
  ::testing::AssertionResult Holds(std::string_view key, uint64_t version) {
    return test_util::GetEquals(*engine_, key, MakeValue(key, version, kValueBytes));
  }
  uint64_t ExpiryOf(std::string_view key) {
    auto info = engine_->Stat(kDefault, key);
    EXPECT_TRUE(info.ok()) << key << ": " << info.status().ToString();
    return info.ok() ? info->expires_ms : 0;
  }

  MemDevice mem_;
  ManualEnv env_{kStartMs};
  std::unique_ptr<Engine> engine_;
};

TEST_F(SetExpiryQueueTest, AQueuedVersionIsReplacedUnwritten) {
  const uint64_t t0 = env_.WallClockMs();
  ASSERT_TRUE(Put("k", 1).ok());  // queued, not written
  ASSERT_TRUE(engine_->SetExpiry(kDefault, "k", t0 + 5000).ok());
  DrainAndSync();
  EXPECT_EQ(engine_->Stats().writes_coalesced, 1u) << "the first version was never written";
  EXPECT_EQ(engine_->Stats().dirty_objects, 0u);
  EXPECT_TRUE(Holds("k", 1));
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(ExpiryOf("k"), t0 + 5000);
  EXPECT_TRUE(Holds("k", 1));
}

TEST_F(SetExpiryQueueTest, AVersionWrittenButNotSyncedDoesNotMakeTheObjectDurable) {
  const uint64_t t0 = env_.WallClockMs();
  ASSERT_TRUE(Put("k", 1).ok());
  Drain();  // written, its sync not due yet
  ASSERT_TRUE(engine_->SetExpiry(kDefault, "k", t0 + 5000).ok());
  EXPECT_EQ(engine_->Stats().dirty_objects, 1u);
  Drain();  // the new version is written (no sync due yet)
  EXPECT_EQ(engine_->Stats().dirty_objects, 1u) << "the first version's sync is no longer enough";
  env_.AdvanceMs(engine_->options().sync_interval_ms);
  Drain();
  EXPECT_EQ(engine_->Stats().dirty_objects, 0u);
  auto info = engine_->Stat(kDefault, "k");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->durable);
  EXPECT_EQ(engine_->Stats().writes_coalesced, 0u);
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(ExpiryOf("k"), t0 + 5000);
  EXPECT_TRUE(Holds("k", 1));
}

TEST_F(SetExpiryQueueTest, AFlushBetweenKeepsBothVersionsAndTheNewerWins) {
  const uint64_t t0 = env_.WallClockMs();
  ASSERT_TRUE(Put("k", 1).ok());
  std::optional<Status> flushed;
  engine_->Flush([&](Status st) { flushed = st; });  // promises version 1 durable
  ASSERT_TRUE(engine_->SetExpiry(kDefault, "k", t0 + 5000).ok());
  DrainAndSync();
  ASSERT_TRUE(flushed.has_value());
  EXPECT_TRUE(flushed->ok()) << flushed->ToString();
  EXPECT_EQ(engine_->Stats().writes_coalesced, 0u);
  for (bool full_scan : {false, true}) {
    Reopen(full_scan);
    EXPECT_EQ(ExpiryOf("k"), t0 + 5000);
    EXPECT_TRUE(Holds("k", 1));
  }
}

// The maintenance pass (a flusher step) goes by the newest expiry alone:
// the old version's item in the expiry heap is stale.
TEST_F(SetExpiryQueueTest, MaintenanceRemovesTheObjectAtItsNewExpiryOnly) {
  const uint64_t t0 = env_.WallClockMs();
  ASSERT_TRUE(engine_->Put("k", Bytes(MakeValue("k", 1, kValueBytes)), {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(engine_->SetExpiry(kDefault, "k", t0 + 10'000).ok());
  env_.AdvanceMs(5000);
  DrainAndSync();  // sweeps, past the old expiry
  EXPECT_EQ(engine_->Stats().expired_objects, 0u);
  EXPECT_EQ(engine_->Stats().objects, 1u);
  EXPECT_TRUE(Holds("k", 1));
  env_.AdvanceMs(5000);
  DrainAndSync();
  EXPECT_EQ(engine_->Stats().expired_objects, 1u);
  EXPECT_EQ(engine_->Stats().objects, 0u);
}

TEST_F(SetExpiryQueueTest, AFlashOnlyObjectWithDramFullOfUnwrittenDataIsNoSpace) {
  // No flusher thread: nothing would clean DRAM, so nothing waits for it.
  ASSERT_TRUE(Put("k", 1).ok());
  Reopen(/*full_scan=*/false);  // k is on flash only
  Status put;
  for (int i = 0; put.ok(); ++i) {
    ASSERT_LT(i, 10'000) << "DRAM never filled";
    put = Put("dirty-" + std::to_string(i), 1);
  }
  ASSERT_EQ(put.code(), StatusCode::kNoSpace) << put.ToString();
  EXPECT_EQ(engine_->SetExpiry(kDefault, "k", 0).code(), StatusCode::kNoSpace);
  EXPECT_EQ(engine_->SetExpiry(kDefault, "k", env_.WallClockMs() + 5000).code(),
            StatusCode::kNoSpace);
  EXPECT_EQ(ExpiryOf("k"), 0u);
  DrainAndSync();  // DRAM is evictable again
  ASSERT_TRUE(engine_->SetExpiry(kDefault, "k", env_.WallClockMs() + 5000).ok());
  EXPECT_TRUE(Holds("k", 1));
}

}  // namespace
}  // namespace ctxstore::engine
