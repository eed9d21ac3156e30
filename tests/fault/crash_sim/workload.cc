#include "crash_sim/workload.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

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
  // durability, and the background work and time that drive the flusher.
  const uint64_t r = (*rng_)() % 100;
  if (r < 28) return PutNew();
  if (r < 38) return Overwrite();
  if (r < 40) return PutIfAbsentOnPresent();
  if (r < 47) return DeletePresent();
  if (r < 48) return DeleteAbsent();
  if (r < 60) return Read();
  if (r < 63) return MatchPrefix();
  if (r < 67) return FlushAsync();
  if (r < 68) return FlushAndWait();
  if (r < 69) return Checkpoint();
  if (r < 70) return ChangeCatalog();
  if (r < 90) return StepFlusher();
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
  auto r = engine_->BeginPut(key, 10, {});
  log_->Event("put-if-absent {} -> {}", key, Code(r.status()));
  EXPECT_EQ(r.status().code(), StatusCode::kExists) << key << ": " << r.status().ToString();
}

void Workload::Put(const std::string& key, bool overwrite) {
  const bool sync = (*rng_)() % 100 < 35;
  const uint64_t len = RandomLen();
  const uint64_t version = next_version_++;
  auto r = engine_->BeginPut(key, len, {.sync = sync, .overwrite = overwrite});
  if (!r.ok()) {
    log_->Event("put {} v{} {}B -> {}", key, version, len, Code(r.status()));
    // Without a flusher thread a PUT does not wait for DRAM to drain.
    if (r.status().code() == StatusCode::kNoSpace) {
      ++coverage_->no_space_puts;
    } else {
      ADD_FAILURE() << "put " << key << ": " << r.status().ToString();
    }
    return;
  }
  const std::span<uint8_t> buffer = r->buffer();
  FillValue(seed_, key, version, buffer);
  const uint64_t index = model_->Put(key, {version, len, Xxh3(buffer.data(), buffer.size())});
  Status st = engine_->CommitPut(std::move(*r), sync ? SyncAck(key, index) : nullptr);
  log_->Event("put {} v{} {}B{} #{} -> {}", key, version, len, sync ? " sync" : "", index,
              Code(st));
  if (!st.ok()) {
    model_->Retract(key, index);
    ADD_FAILURE() << "commit " << key << ": " << st.ToString();
  }
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
  // In this simulation only a power cut makes the device fail.
  if (!st.ok() && !device_->crashed()) ADD_FAILURE() << what << ": " << st.ToString();
}

void Workload::DeletePresent() {
  const std::string key = PickKey(true);
  if (key.empty()) return;
  const bool sync = (*rng_)() % 100 < 35;
  const uint64_t index = model_->next_index();
  Status st = engine_->Delete(kDefaultNamespaceId, key, sync, sync ? SyncAck(key, index) : nullptr);
  log_->Event("delete {}{} #{} -> {}", key, sync ? " sync" : "", index, Code(st));
  if (st.ok()) {
    model_->Delete(key);
  } else {
    ADD_FAILURE() << "delete " << key << ": " << st.ToString();
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
  const uint64_t flips_before = device_->fault_counts().corrupt_reads;
  auto got = engine_->Get(kDefaultNamespaceId, key);
  log_->Event("get {} -> {} {}", key, Code(got.status()),
              got.ok() ? Xxh3(got->data, got->size) : 0);
  if (got.ok() && want) {
    EXPECT_TRUE(got->size == want->len && IsValue(seed_, key, want->version, got->bytes()))
        << "get " << key << " returned other bytes than v" << want->version << "\n  "
        << model_->Describe(key);
  } else if (got.ok()) {
    ADD_FAILURE() << "get " << key << " found a deleted key\n  " << model_->Describe(key);
  } else if (got.status().code() == StatusCode::kCorrupt && want &&
             (model_->Tainted(key) || device_->fault_counts().corrupt_reads > flips_before)) {
    // An injected fault, detected: the engine dropped the object.
    model_->Delete(key, /*by_engine=*/true);
    ++coverage_->corrupt_answers;
    ++coverage_->lost_to_faults;
  } else if (got.status().code() != StatusCode::kNotFound || want) {
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
  uint32_t want = 0;
  while (want < keys.size() && model_->Present(keys[want])) ++want;
  auto got = engine_->MatchPrefix(kDefaultNamespaceId, views, 0);
  log_->Event("match_prefix {} keys -> {}", views.size(), got.ok() ? got->matched : 999);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->matched, want);
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
