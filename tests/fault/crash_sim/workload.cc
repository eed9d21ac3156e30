#include "crash_sim/workload.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "common/hash.h"
#include "common/units.h"
#include "crash_sim/values.h"

namespace ctxstore::engine::crash_sim {
namespace {

std::string_view Code(const Status& st) {
  return StatusCodeName(st.code());
}

}  // namespace

void Workload::Step() {
  // Weights out of 100: writes and reads, the calls that promise
  // durability, the context calls, other clients' puts, and the background
  // work and time that drive the flusher.
  const uint64_t r = (*rng_)() % 100;
  if (r < 22) return PutNew();
  if (r < 31) return Overwrite();
  if (r < 33) return PutIfAbsentOnPresent();
  if (r < 39) return DeletePresent();
  if (r < 40) return DeleteAbsent();
  if (r < 49) return Read();
  if (r < 51) return ChangeExpiry();
  if (r < 54) return MatchPrefix();
  if (r < 58) return FlushAsync();
  if (r < 59) return FlushAndWait();
  if (r < 60) return Checkpoint();
  if (r < 61) return ChangeCatalog();
  if (r < 62) return PinKey();
  if (r < 63) return DeleteGroup();
  if (r < 66) return BeginOpenPut();
  if (r < 69) return CommitOpenPut();
  if (r < 84) return StepFlusher();
  if (r < 88) return PutScratch();
  if (r < 89) return ReadScratch();
  if (r < 90) return ChangeNamespaces();
  return AdvanceClock();
}

void Workload::PutNew() {
  Put(PickKey(false), /*overwrite=*/false);
}

void Workload::Overwrite() {
  const std::string key = PickKey(true);
  if (!key.empty()) Put(key, /*overwrite=*/true);
}

void Workload::PutIfAbsentOnPresent() {
  const std::string key = PickKey(true);
  if (key.empty()) return;
  const Seen seen = model_->Visible(key, NowMs());
  auto r = engine_->BeginPut(key, 10, {});
  log_->Event("put-if-absent {} -> {}", key, Code(r.status()));
  if (r.status().code() == StatusCode::kExists && seen != Seen::kNo) return;
  if (r.ok() && seen == Seen::kYes) return GoneFromEngine(key, "put-if-absent");
  // Expired: it may begin (the reservation is dropped, nothing is put).
  if (r.ok() && seen != Seen::kYes) return;
  ADD_FAILURE() << "put-if-absent " << key << ": " << r.status().ToString() << "\n  "
                << model_->Describe(key);
}

Workload::PutPlan Workload::DrawPut(const std::string& key, bool overwrite) {
  PutPlan p{.key = key, .overwrite = overwrite};
  p.sync = (*rng_)() % 100 < 35;
  p.len = RandomLen();
  if (model_->Pinned(key)) p.len = std::min(p.len, kMaxPinnedValueBytes);
  p.version = next_version_++;
  // TTLs around the clock's steps (1 ms to 1.1 s), so that objects expire
  // between operations, in DRAM and on flash, before and after a crash.
  static constexpr uint64_t kTtls[] = {30, 300, 3000};
  if ((*rng_)() % 100 < 25) p.ttl_ms = kTtls[(*rng_)() % std::size(kTtls)];
  if ((*rng_)() % 100 < 30) p.group = fmt::format("g{}", (*rng_)() % 3);
  return p;
}

bool Workload::Begin(const PutPlan& p, PutReservation* r) {
  auto begun = engine_->BeginPut(
      p.key, p.len,
      {.sync = p.sync, .overwrite = p.overwrite, .ttl_ms = p.ttl_ms, .group = p.group});
  if (begun.ok()) {
    *r = std::move(*begun);
    FillValue(seed_, p.key, p.version, r->buffer());
    return true;
  }
  log_->Event("put {} v{} {}B -> {}", p.key, p.version, p.len, Code(begun.status()));
  // Without a flusher thread a PUT does not wait for DRAM to drain.
  if (begun.status().code() == StatusCode::kNoSpace) {
    ++coverage_->no_space_puts;
  } else {
    ADD_FAILURE() << "put " << p.key << ": " << begun.status().ToString();
  }
  return false;
}

void Workload::Commit(const PutPlan& p, PutReservation r) {
  const std::span<uint8_t> buffer = r.buffer();
  const uint64_t now = NowMs();
  const Version v{.version = p.version,
                  .len = p.len,
                  .xxh3 = Xxh3(buffer.data(), buffer.size()),
                  .expires_ms = p.ttl_ms == 0 ? 0 : now + p.ttl_ms,
                  .group = p.group};
  // Another client may have put the key since this one began.
  const Seen before = model_->Visible(p.key, now);
  const uint64_t index = model_->Put(p.key, v);
  Status st = engine_->CommitPut(std::move(r), p.sync ? SyncAck(p.key, index) : nullptr);
  log_->Event("put {} v{} {}B{} ttl {} {} #{} -> {}", p.key, p.version, p.len,
              p.sync ? " sync" : "", p.ttl_ms, p.group, index, Code(st));
  if (st.ok()) {
    coverage_->ttl_puts += p.ttl_ms != 0;
    if (p.overwrite || before != Seen::kYes) return;
    // Put-if-absent on a visible key: only if flash reclaim dropped it.
    EXPECT_TRUE(model_->Reclaimable(p.key)) << "put-if-absent " << p.key << " replaced it\n  "
                                             << model_->Describe(p.key);
    ++coverage_->reclaimed_seen;
    return;
  }
  model_->Retract(p.key, index);
  if (st.code() == StatusCode::kExists && !p.overwrite && before != Seen::kNo) {
    ++coverage_->put_races;  // lost the race to another client's put
    return;
  }
  ADD_FAILURE() << "commit " << p.key << ": " << st.ToString() << "\n  " << model_->Describe(p.key);
}

void Workload::Put(const std::string& key, bool overwrite) {
  const PutPlan p = DrawPut(key, overwrite);
  PutReservation r;
  if (Begin(p, &r)) Commit(p, std::move(r));
}

DurableCallback Workload::SyncAck(const std::string& key, uint64_t index) {
  return [this, key, index](Status st) {
    log_->Event("ack {} #{} -> {}", key, index, Code(st));
    if (!st.ok()) return;  // not yet durable: the write stays, unpromised
    model_->AckSync(key, index);
    ++coverage_->durable_acks;
  };
}

void Workload::AllDurableBefore(uint64_t index, const Status& st, const char* what) {
  log_->Event("{} before #{} -> {}", what, index, Code(st));
  if (!st.ok()) return;
  model_->AckAllBefore(index);
  ++coverage_->durable_acks;
}

void Workload::ExpectOkUnlessCrashed(const Status& st, const std::string& what) {
  // Only a power cut or an injected failure makes the device fail.
  if (st.ok() || device_->crashed()) return;
  if (ErrorsInjected(*device_)) {
    ++coverage_->failed_answers;
    return;
  }
  ADD_FAILURE() << what << ": " << st.ToString();
}

void Workload::GoneFromEngine(const std::string& key, const char* what) {
  if (model_->Pinned(key) && engine_->Stats().pinned_lost > 0) model_->ForgetPins();
  if (model_->Reclaimable(key)) {
    model_->Delete(key, /*by_engine=*/true);
    ++coverage_->reclaimed_seen;
    return;
  }
  ADD_FAILURE() << what << " " << key << ": the engine has no such key\n  "
                << model_->Describe(key);
}

void Workload::DeletePresent() {
  const std::string key = PickKey(true);
  if (key.empty()) return;
  const bool sync = (*rng_)() % 100 < 35;
  const Seen seen = model_->Visible(key, NowMs());
  const uint64_t index = model_->next_index();
  Status st = engine_->Delete(kDefaultNamespaceId, key, sync, sync ? SyncAck(key, index) : nullptr);
  log_->Event("delete {}{} #{} -> {}", key, sync ? " sync" : "", index, Code(st));
  // An expired object is removed too, but reported absent.
  if (st.ok() && seen != Seen::kNo) {
    model_->Delete(key);
  } else if (st.code() == StatusCode::kNotFound && seen != Seen::kYes) {
    model_->Delete(key);
  } else if (st.code() == StatusCode::kNotFound) {
    GoneFromEngine(key, "delete");
  } else {
    ADD_FAILURE() << "delete " << key << ": " << st.ToString() << "\n  " << model_->Describe(key);
  }
}

void Workload::DeleteAbsent() {
  const std::string key = PickKey(false);
  Status st = engine_->Delete(kDefaultNamespaceId, key, false, nullptr);
  log_->Event("delete absent {} -> {}", key, Code(st));
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << key << ": " << st.ToString();
}

void Workload::Read() {
  const std::string key = AnyKey();
  if (key.empty()) return;
  const std::optional<Version> want = model_->Current(key);
  const Seen seen = model_->Visible(key, NowMs());
  const uint64_t flips_before = device_->fault_counts().corrupt_reads;
  auto got = engine_->Get(kDefaultNamespaceId, key);
  log_->Event("get {} -> {} {}", key, Code(got.status()),
              got.ok() ? Xxh3(got->data, got->size) : 0);
  if (got.ok() && want && seen != Seen::kNo) {
    EXPECT_TRUE(got->size == want->len && IsValue(seed_, key, want->value_version(), got->bytes()))
        << "get " << key << " returned other bytes than v" << want->version << "\n  "
        << model_->Describe(key);
  } else if (got.ok()) {
    ADD_FAILURE() << "get " << key << " found a deleted or expired key\n  "
                  << model_->Describe(key);
  } else if (got.status().code() == StatusCode::kCorrupt && want &&
             (model_->Tainted(key) || device_->fault_counts().corrupt_reads > flips_before)) {
    // An injected fault, detected: the engine dropped the object.
    model_->Delete(key, /*by_engine=*/true);
    ++coverage_->corrupt_answers;
    ++coverage_->lost_to_faults;
  } else if (got.status().code() == StatusCode::kNotFound) {
    if (seen == Seen::kYes) GoneFromEngine(key, "get");
    coverage_->expired_seen += want && seen != Seen::kYes;
  } else {
    ADD_FAILURE() << "get " << key << ": " << got.status().ToString() << "\n  "
                  << model_->Describe(key);
  }
}

void Workload::MatchPrefix() {
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) {
    std::string key = PickKey((*rng_)() % 4 != 0);  // mostly present ones
    keys.push_back(key.empty() ? PickKey(false) : key);
  }
  std::vector<std::string_view> views(keys.begin(), keys.end());
  // Half of them take a lease, which holds the matched objects' expiry off.
  static constexpr uint64_t kLeases[] = {50, 500, 5000};
  const uint64_t lease_ms = (*rng_)() % 2 == 0 ? 0 : kLeases[(*rng_)() % std::size(kLeases)];
  const uint64_t now = NowMs();
  auto got = engine_->MatchPrefix(kDefaultNamespaceId, views, lease_ms);
  log_->Event("match_prefix {} keys lease {} -> {}", views.size(), lease_ms,
              got.ok() ? got->matched : 999);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // Every key before the count may be visible, the one at it may not.
  const uint32_t matched = std::min<uint32_t>(got->matched, 4);
  for (uint32_t i = 0; i < matched; ++i) {
    EXPECT_NE(model_->Visible(keys[i], now), Seen::kNo)
        << "match_prefix matched " << keys[i] << "\n  " << model_->Describe(keys[i]);
    if (lease_ms != 0) model_->Lease(keys[i], now + lease_ms);
  }
  if (matched < keys.size() && model_->Visible(keys[matched], now) == Seen::kYes) {
    GoneFromEngine(keys[matched], "match_prefix");
  }
  coverage_->leases += lease_ms != 0 && matched > 0;
}

void Workload::FlushAsync() {
  const uint64_t index = model_->next_index();
  engine_->Flush([this, index](Status st) { AllDurableBefore(index, st, "flush ack"); });
}

void Workload::FlushAndWait() {
  const uint64_t index = model_->next_index();
  Status st = engine_->Flush();
  AllDurableBefore(index, st, "flush");
  ExpectOkUnlessCrashed(st, "flush");
}

void Workload::Checkpoint() {
  const uint64_t index = model_->next_index();
  Status st = engine_->WriteCheckpointNow();
  AllDurableBefore(index, st, "checkpoint");
  ExpectOkUnlessCrashed(st, "checkpoint");
}

void Workload::ChangeCatalog() {
  auto info = engine_->GetNamespace(kDefaultNamespaceName);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  NamespaceConfig config = info->config;
  config.priority = static_cast<uint8_t>((*rng_)() % kPriorityLevels);
  Status st = engine_->SetNamespace(kDefaultNamespaceName, config);
  log_->Event("set priority {} -> {}", config.priority, Code(st));
  model_->SetPriority(config.priority, st.ok());
  coverage_->catalog_changes += st.ok() ? 1 : 0;
  ExpectOkUnlessCrashed(st, "set namespace");
}

void Workload::StepFlusher() {
  const uint64_t steps = 1 + (*rng_)() % 4;
  uint64_t worked = 0;
  for (uint64_t i = 0; i < steps && !device_->crashed(); ++i) worked += engine_->RunFlusherOnce();
  log_->Event("flusher {} steps, {} worked", steps, worked);
}

void Workload::AdvanceClock() {
  // Past the sync intervals (2, 25, 1000 ms), the maintenance pass (100 ms)
  // and, now and then, a checkpoint interval.
  static constexpr uint64_t kSteps[] = {1, 5, 30, 120, 1100};
  const uint64_t ms = kSteps[(*rng_)() % std::size(kSteps)];
  env_->AdvanceMs(ms);
  log_->Event("clock +{} ms", ms);
}

uint64_t Workload::RandomLen() {
  const uint64_t r = (*rng_)() % 100;
  if (r < 8) return 256 * kKiB + (*rng_)() % (768 * kKiB);  // large: up to DRAM/4
  if (r < 20) return (*rng_)() % 64;                        // tiny, packed (some empty)
  return (*rng_)() % (96 * kKiB);                           // packed up to 64 KiB, then aligned
}

std::string Workload::PickKey(bool present) {
  std::vector<std::string> candidates = model_->Keys(present);
  if (!present && (candidates.empty() || (*rng_)() % 3 == 0)) {
    return fmt::format("key-{}", next_key_++);
  }
  if (candidates.empty()) return {};
  return candidates[(*rng_)() % candidates.size()];
}

std::string Workload::AnyKey() {
  const auto& all = model_->versions();
  if (all.empty()) return {};
  auto it = all.begin();
  std::advance(it, static_cast<long>((*rng_)() % all.size()));
  return it->first;
}

}  // namespace ctxstore::engine::crash_sim
