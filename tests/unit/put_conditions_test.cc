// The engine's put conditions, what a Redis front end's SET options become:
// only_if_present (XX), keep_ttl (KEEPTTL), overwrite (NX is its absence),
// checked early at BeginPut and again at CommitPut. The wall clock is a fake
// one (a ManualEnv in EngineOptions::env), so that expiries are exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "engine/flash/checkpoint.h"
#include "testing/manual_env.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::MakeValue;
using test_util::SameBytes;
using test_util::TempDir;

constexpr uint64_t kStartMs = 1'700'000'000'000;  // a plausible wall clock
constexpr uint64_t kValueBytes = 4096;            // one arena page

// An engine over a temp dir with a fake wall clock, reopenable on the same
// data folder (the clock is kept).
class PutConditionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    env_->UseRealMonotonicClock();  // the flusher's intervals run in real time
    Open();
  }

  void Open() {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 4 * kMiB;
    o.disk_bytes = 16 * kMiB;
    o.segment_bytes = 1 * kMiB;
    o.space_wait_ms = 2000;
    o.max_lease_ms = 10'000;
    o.env = env_.get();
    auto r = Engine::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r).value();
  }
  // Clean close, then open again: recovery from the checkpoint written on
  // close, or with full_scan from the records alone.
  void Reopen(bool full_scan = false) {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();
    if (full_scan) {
      std::error_code ec;
      ASSERT_TRUE(std::filesystem::remove(dir_.data_dir() + "/" + kCheckpointFileName, ec)) << ec;
    }
    Open();
    ASSERT_EQ(engine_->Stats().recovered_from_checkpoint, !full_scan);
  }

  uint64_t Now() const { return env_->WallClockMs(); }
  void Advance(uint64_t ms) { env_->AdvanceMs(ms); }

  // Version `version` of key's value (MakeValue), in namespace opts.namespace_id.
  Status Put(std::string_view key, uint64_t version, const WriteOptions& opts = {}) {
    auto v = MakeValue(key, version, kValueBytes);
    return engine_->Put(key, Bytes(v), opts);
  }
  // BeginPut of version `version`, its buffer filled.
  Result<PutReservation> Begin(std::string_view key, uint64_t version,
                               const WriteOptions& opts = {}) {
    auto r = engine_->BeginPut(key, kValueBytes, opts);
    if (r.ok()) {
      auto v = MakeValue(key, version, kValueBytes);
      std::copy(v.begin(), v.end(), r->buffer().begin());
    }
    return r;
  }

  // Whether key (in ns) holds version `version`.
  ::testing::AssertionResult Holds(std::string_view key, uint64_t version,
                                   uint32_t ns = kDefaultNamespaceId) {
    auto got = engine_->Get(ns, key);
    if (!got.ok()) return ::testing::AssertionFailure() << key << ": " << got.status().ToString();
    if (!SameBytes(*got, MakeValue(key, version, kValueBytes))) {
      return ::testing::AssertionFailure() << key << ": not version " << version;
    }
    return ::testing::AssertionSuccess();
  }
  StatusCode GetCode(std::string_view key, uint32_t ns = kDefaultNamespaceId) {
    return engine_->Get(ns, key).status().code();
  }
  ObjectInfo StatOf(std::string_view key, uint32_t ns = kDefaultNamespaceId) {
    auto info = engine_->Stat(ns, key);
    EXPECT_TRUE(info.ok()) << key << ": " << info.status().ToString();
    return info.ok() ? *info : ObjectInfo{};
  }

  TempDir dir_;
  std::shared_ptr<ManualEnv> env_ = std::make_shared<ManualEnv>(kStartMs);
  std::unique_ptr<Engine> engine_;
};

// ---------------------------------------------------------------------------
// only_if_present (SET XX)

TEST_F(PutConditionsTest, OnlyIfPresentOnAnAbsentKeyIsNotFoundAndStoresNothing) {
  EXPECT_EQ(engine_->BeginPut("k", kValueBytes, {.only_if_present = true}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Put("k", 1, {.only_if_present = true}).code(), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
  // An expired key is absent too.
  ASSERT_TRUE(Put("short", 1, {.ttl_ms = 1000}).ok());
  Advance(1000);
  EXPECT_EQ(Put("short", 2, {.only_if_present = true}).code(), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("short"), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(engine_->Stats().puts, 1u);  // "short"'s first version only
  Reopen();
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("short"), StatusCode::kNotFound);
}

TEST_F(PutConditionsTest, OnlyIfPresentReplacesAPresentKeyWithoutOverwrite) {
  ASSERT_TRUE(Put("k", 1).ok());
  ASSERT_TRUE(Put("k", 2, {.only_if_present = true}).ok());  // implies overwrite
  EXPECT_TRUE(Holds("k", 2));
  Reopen();
  EXPECT_TRUE(Holds("k", 2));
}

TEST_F(PutConditionsTest, OnlyIfPresentIsCheckedAgainAtCommit) {
  ASSERT_TRUE(Put("deleted", 1).ok());
  ASSERT_TRUE(Put("expiring", 1, {.ttl_ms = 1000}).ok());
  auto deleted = Begin("deleted", 2, {.only_if_present = true});
  auto expiring = Begin("expiring", 2, {.only_if_present = true});
  ASSERT_TRUE(deleted.ok() && expiring.ok());
  // A delete, and the TTL, come between BeginPut and CommitPut.
  ASSERT_TRUE(engine_->Delete(kDefaultNamespaceId, "deleted", false).ok());
  Advance(1000);
  EXPECT_EQ(engine_->CommitPut(std::move(*deleted), nullptr).code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->CommitPut(std::move(*expiring), nullptr).code(), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("deleted"), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("expiring"), StatusCode::kNotFound);
  Reopen(/*full_scan=*/true);  // no record of version 2 either
  EXPECT_EQ(GetCode("deleted"), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("expiring"), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------
// keep_ttl (SET KEEPTTL)

TEST_F(PutConditionsTest, KeepTtlKeepsTheReplacedVersionsExpiryAcrossRecovery) {
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("k", 1, {.ttl_ms = 10'000}).ok());
  Advance(3000);
  // Its own ttl_ms does not apply: there is an expiry to keep.
  ASSERT_TRUE(Put("k", 2, {.overwrite = true, .keep_ttl = true, .ttl_ms = 500}).ok());
  EXPECT_TRUE(Holds("k", 2));
  EXPECT_EQ(StatOf("k").created_ms, t0 + 3000);
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 10'000);
  // The record says the same as the index: both recoveries find it.
  Reopen();
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 10'000);
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 10'000);
  EXPECT_TRUE(Holds("k", 2));
  Advance(6999);
  EXPECT_TRUE(Holds("k", 2));
  Advance(1);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
}

TEST_F(PutConditionsTest, KeepTtlOfAVersionWithoutExpiryKeepsNone) {
  ASSERT_TRUE(Put("k", 1).ok());
  ASSERT_TRUE(Put("k", 2, {.overwrite = true, .keep_ttl = true, .ttl_ms = 1000}).ok());
  EXPECT_EQ(StatOf("k").expires_ms, 0u);
  // Nor does a namespace default TTL (set since) apply to the kept "never".
  auto ns = engine_->CreateNamespace("t", {});
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(Put("k", 1, {.namespace_id = *ns}).ok());
  ASSERT_TRUE(engine_->SetNamespace("t", {.default_ttl_ms = 1000}).ok());
  ASSERT_TRUE(Put("k", 2, {.overwrite = true, .keep_ttl = true, .namespace_id = *ns}).ok());
  EXPECT_EQ(StatOf("k", *ns).expires_ms, 0u);
  ASSERT_TRUE(Put("k", 3, {.overwrite = true, .namespace_id = *ns}).ok());
  EXPECT_EQ(StatOf("k", *ns).expires_ms, Now() + 1000);  // without keep_ttl, the default
}

TEST_F(PutConditionsTest, KeepTtlWithNothingToReplaceUsesTtl) {
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("absent", 1, {.keep_ttl = true, .ttl_ms = 1000}).ok());
  EXPECT_EQ(StatOf("absent").expires_ms, t0 + 1000);
  // An expired version has no expiry left to keep.
  ASSERT_TRUE(Put("expired", 1, {.ttl_ms = 500}).ok());
  Advance(500);
  ASSERT_TRUE(Put("expired", 2, {.keep_ttl = true, .ttl_ms = 2000}).ok());
  EXPECT_EQ(StatOf("expired").expires_ms, t0 + 500 + 2000);
  EXPECT_TRUE(Holds("expired", 2));
}

TEST_F(PutConditionsTest, KeepTtlOfAVersionOnlyALeaseKeepsVisibleUsesTtl) {
  ASSERT_TRUE(Put("k", 1, {.ttl_ms = 1000}).ok());
  std::vector<std::string_view> keys = {"k"};
  ASSERT_EQ(engine_->MatchPrefix(kDefaultNamespaceId, keys, 5000)->matched, 1u);
  Advance(2000);  // past its expiry, within the lease: still visible
  ASSERT_TRUE(Holds("k", 1));
  // Keeping an expiry already past would hide the new version at once.
  ASSERT_TRUE(Put("k", 2, {.only_if_present = true, .keep_ttl = true, .ttl_ms = 3000}).ok());
  EXPECT_EQ(StatOf("k").expires_ms, Now() + 3000);
  EXPECT_TRUE(Holds("k", 2));
}

TEST_F(PutConditionsTest, KeptExpiryIsCappedByTheNamespaceMaximum) {
  auto ns = engine_->CreateNamespace("t", {});
  ASSERT_TRUE(ns.ok());
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("never", 1, {.namespace_id = *ns}).ok());
  ASSERT_TRUE(Put("long", 1, {.namespace_id = *ns, .ttl_ms = 10'000}).ok());
  ASSERT_TRUE(Put("short", 1, {.namespace_id = *ns, .ttl_ms = 1000}).ok());
  // A maximum set later caps what is kept, as it caps a new TTL.
  ASSERT_TRUE(engine_->SetNamespace("t", {.max_ttl_ms = 2000}).ok());
  Advance(100);
  const WriteOptions keep{.overwrite = true, .keep_ttl = true, .namespace_id = *ns};
  for (const char* key : {"never", "long", "short"}) ASSERT_TRUE(Put(key, 2, keep).ok());
  EXPECT_EQ(StatOf("never", *ns).expires_ms, t0 + 100 + 2000);
  EXPECT_EQ(StatOf("long", *ns).expires_ms, t0 + 100 + 2000);
  EXPECT_EQ(StatOf("short", *ns).expires_ms, t0 + 1000);  // within the cap: kept
}

// ---------------------------------------------------------------------------
// PutReservation::Amend: the conditions as they stand at CommitPut

TEST_F(PutConditionsTest, ConditionsAreBeginPutsUntilAmended) {
  auto r = Begin("k", 1, {.overwrite = true, .keep_ttl = true, .ttl_ms = 1000});
  ASSERT_TRUE(r.ok());
  PutConditions c = r->conditions();
  EXPECT_EQ(c.ttl_ms, 1000u);
  EXPECT_TRUE(c.overwrite);
  EXPECT_FALSE(c.only_if_present);
  EXPECT_TRUE(c.keep_ttl);
  r->Amend({.ttl_ms = 5, .only_if_present = true});
  c = r->conditions();
  EXPECT_EQ(c.ttl_ms, 5u);
  EXPECT_FALSE(c.overwrite);
  EXPECT_TRUE(c.only_if_present);
  EXPECT_FALSE(c.keep_ttl);
}

TEST_F(PutConditionsTest, AmendedNoOverwriteIsExistsAtCommit) {
  ASSERT_TRUE(Put("k", 1).ok());
  // Begun permissively, as when the options have not arrived yet (SET k v NX).
  auto r = Begin("k", 2, {.overwrite = true});
  ASSERT_TRUE(r.ok());
  r->Amend({.overwrite = false});
  EXPECT_EQ(engine_->CommitPut(std::move(*r), nullptr).code(), StatusCode::kExists);
  EXPECT_TRUE(Holds("k", 1));
  // On an absent key the same amended reservation stores.
  auto absent = Begin("absent", 1, {.overwrite = true});
  ASSERT_TRUE(absent.ok());
  absent->Amend({.overwrite = false});
  ASSERT_TRUE(engine_->CommitPut(std::move(*absent), nullptr).ok());
  EXPECT_TRUE(Holds("absent", 1));
}

TEST_F(PutConditionsTest, AmendedOnlyIfPresentIsNotFoundAtCommit) {
  auto r = Begin("k", 1, {.overwrite = true});
  ASSERT_TRUE(r.ok());
  r->Amend({.overwrite = true, .only_if_present = true});  // SET k v XX
  EXPECT_EQ(engine_->CommitPut(std::move(*r), nullptr).code(), StatusCode::kNotFound);
  EXPECT_EQ(GetCode("k"), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(engine_->Stats().objects, 0u);
}

TEST_F(PutConditionsTest, AmendedTtlIsAppliedAndCappedLikeAnyTtl) {
  auto ns = engine_->CreateNamespace("capped", {.max_ttl_ms = 2000});
  ASSERT_TRUE(ns.ok());
  const uint64_t t0 = Now();
  auto plain = Begin("k", 1, {.overwrite = true});
  auto capped = Begin("k", 1, {.overwrite = true, .namespace_id = *ns});
  auto below = Begin("short", 1, {.overwrite = true, .namespace_id = *ns, .ttl_ms = 10'000});
  ASSERT_TRUE(plain.ok() && capped.ok() && below.ok());
  plain->Amend({.ttl_ms = 10'000, .overwrite = true});  // SET k v EX 10
  capped->Amend({.ttl_ms = 10'000, .overwrite = true});
  below->Amend({.ttl_ms = 500, .overwrite = true});
  Advance(100);  // the TTL runs from the commit
  ASSERT_TRUE(engine_->CommitPut(std::move(*plain), nullptr).ok());
  ASSERT_TRUE(engine_->CommitPut(std::move(*capped), nullptr).ok());
  ASSERT_TRUE(engine_->CommitPut(std::move(*below), nullptr).ok());
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 100 + 10'000);
  EXPECT_EQ(StatOf("k", *ns).expires_ms, t0 + 100 + 2000);  // the namespace's maximum
  EXPECT_EQ(StatOf("short", *ns).expires_ms, t0 + 100 + 500);
  Reopen(/*full_scan=*/true);
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 100 + 10'000);
  EXPECT_EQ(StatOf("k", *ns).expires_ms, t0 + 100 + 2000);
}

TEST_F(PutConditionsTest, AmendedKeepTtlKeepsTheReplacedVersionsExpiry) {
  const uint64_t t0 = Now();
  ASSERT_TRUE(Put("k", 1, {.ttl_ms = 10'000}).ok());
  auto r = Begin("k", 2, {.overwrite = true});
  ASSERT_TRUE(r.ok());
  PutConditions c = r->conditions();
  c.keep_ttl = true;  // SET k v KEEPTTL
  r->Amend(c);
  Advance(3000);
  ASSERT_TRUE(engine_->CommitPut(std::move(*r), nullptr).ok());
  EXPECT_TRUE(Holds("k", 2));
  EXPECT_EQ(StatOf("k").expires_ms, t0 + 10'000);
}

}  // namespace
}  // namespace ctxstore::engine
