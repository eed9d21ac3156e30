#include "crash_sim/checker.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "common/hash.h"
#include "crash_sim/values.h"
#include "engine/flash/segment.h"

namespace ctxstore::engine::crash_sim {
namespace {

// More failures than this in one check add nothing but noise.
constexpr int kMaxFailuresShown = 10;

int FailureCount() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

}  // namespace

Checker::Recovered Checker::Check(Engine& engine, FaultDevice& device, uint64_t now_ms) {
  Recovered recovered;
  uint64_t present = 0, present_bytes = 0, expired = 0;
  const int failures_before = FailureCount();
  for (const auto& [key, versions] : model_->versions()) {
    if (FailureCount() - failures_before >= kMaxFailuresShown) {
      ADD_FAILURE() << "too many failures; the other keys are not checked";
      break;
    }
    ++coverage_->keys_checked;
    std::optional<uint64_t> seen;
    bool fault_detected = false;
    if (!Read(engine, device, key, &seen, &fault_detected)) continue;
    log_->Event("recovered {} -> {}", key, seen ? fmt::format("v{}", *seen) : "absent");
    recovered[key] = seen;
    present += seen.has_value();
    const Version* served = seen ? model_->FindVersion(key, *seen) : nullptr;
    present_bytes += served != nullptr ? served->len : 0;
    if (served != nullptr && served->ExpiredAt(now_ms)) {
      ADD_FAILURE() << key << " came back as v" << *seen << ", expired at "
                    << served->expires_ms << " (now " << now_ms << ")\n  "
                    << model_->Describe(key);
      continue;
    }
    bool any_expired = false;  // an expired object not yet swept still counts
    for (const Version& v : versions) any_expired |= v.ExpiredAt(now_ms);
    expired += !seen && any_expired;
    const Allowed allowed = model_->AllowedAfterCrash(key);
    if (allowed.Allows(seen)) continue;
    bool allowed_expired = false;  // an allowed version expired: it may be gone
    for (uint64_t v : allowed.versions) {
      const Version* put = model_->FindVersion(key, v);
      allowed_expired |= put != nullptr && put->ExpiredAt(now_ms);
    }
    if (!seen && allowed_expired) {
      ++coverage_->expired_gone;
      continue;
    }
    if (!seen && model_->Reclaimable(key, /*after_crash=*/true)) {
      ++coverage_->lost_to_reclaim;
      continue;
    }
    if (fault_detected || model_->Tainted(key)) {
      ++coverage_->lost_to_faults;
      continue;
    }
    ++coverage_->crash_losses;
    ADD_FAILURE() << key << " came back "
                  << (seen ? fmt::format("as v{}, older than acknowledged", *seen)
                           : "absent although acknowledged")
                  << "\n  " << model_->Describe(key);
  }
  // The store's objects are the namespaces' (the scratch ones are checked
  // against their own model, namespaces.h); the default namespace holds
  // what the model says, and its own counts (its quota is kept by them)
  // agree.
  uint64_t all_namespaces = 0;
  for (const NamespaceInfo& ns : engine.ListNamespaces()) all_namespaces += ns.objects;
  EXPECT_EQ(engine.Stats().objects, all_namespaces) << "the store's objects";
  auto info = engine.GetNamespace(kDefaultNamespaceName);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  if (info.ok()) {
    EXPECT_GE(info->objects, present);
    EXPECT_LE(info->objects, present + expired) << "objects the model does not know exist";
    EXPECT_GE(info->bytes, present_bytes) << "the namespace's bytes";
    if (expired == 0) {
      EXPECT_EQ(info->bytes, present_bytes) << "the namespace's bytes";
    }
  }
  return recovered;
}

void Checker::CheckFlash(Engine& engine, Device& base, const std::string& data_dir) {
  auto names = base.ListDir(data_dir);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  uint64_t segments = 0, bytes = 0;
  for (const std::string& name : *names) {
    uint64_t id = 0;
    if (!ParseSegmentFileName(name, &id)) continue;
    OpenOptions read_only;
    read_only.read_only = true;
    auto file = base.Open(data_dir + "/" + name, read_only);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto size = (*file)->Size();
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    // What recovery counts of a segment: its whole blocks, at least its header.
    bytes += std::max<uint64_t>(*size & ~(kBlockSize - 1), kSegmentHeaderBytes);
    ++segments;
  }
  const EngineStats st = engine.Stats();
  EXPECT_EQ(st.flash_segments, segments) << "segment files on the device";
  EXPECT_EQ(st.flash_bytes, bytes) << "flash bytes of the segment files on the device";
  log_->Event("flash: {} segments, {} bytes", segments, bytes);
}

bool Checker::Read(Engine& engine, FaultDevice& device, const std::string& key,
                   std::optional<uint64_t>* seen, bool* fault_detected) {
  const uint64_t flips_before = device.fault_counts().corrupt_reads;
  auto got = engine.Get(kDefaultNamespaceId, key);
  if (got.ok()) {
    std::vector<Version> found = model_->FindVersions(key, got->size, Xxh3(got->data, got->size));
    std::erase_if(found, [&](const Version& v) {
      return !IsValue(seed_, key, v.value_version(), got->bytes());
    });
    if (found.empty()) {
      ADD_FAILURE() << key << ": " << got->size << " bytes that match no value ever put\n  "
                    << model_->Describe(key);
      return false;
    }
    // Versions of the same bytes (an expiry change, or two puts of an empty
    // value) are told apart by the expiry the engine recovered, when one
    // has it; then by whether they are allowed.
    auto info = engine.Stat(kDefaultNamespaceId, key);
    if (info.ok() && std::any_of(found.begin(), found.end(), [&](const Version& v) {
          return v.expires_ms == info->expires_ms;
        })) {
      std::erase_if(found, [&](const Version& v) { return v.expires_ms != info->expires_ms; });
    }
    const Allowed allowed = model_->AllowedAfterCrash(key);
    auto ok = std::find_if(found.begin(), found.end(),
                           [&](const Version& v) { return allowed.Allows(v.version); });
    *seen = (ok != found.end() ? *ok : found.back()).version;
    return true;
  }
  if (got.status().code() == StatusCode::kNotFound) return true;
  const bool injected = model_->Tainted(key) || device.fault_counts().corrupt_reads > flips_before;
  if (got.status().code() == StatusCode::kCorrupt && injected) {
    // Detected, and the object dropped (with a tombstone not yet durable):
    // what comes back of it after the next crash depends on that fault.
    ++coverage_->corrupt_answers;
    model_->Taint(key);
    *fault_detected = true;
    return true;
  }
  ADD_FAILURE() << key << ": " << got.status().ToString() << "\n  " << model_->Describe(key);
  return false;
}

void Checker::CheckCatalog(Engine& engine, const std::string& encryption_key) {
  auto info = engine.GetNamespace(kDefaultNamespaceName);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::vector<uint8_t> allowed = model_->AllowedPriorities();
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), info->config.priority), allowed.end())
      << "the namespace's priority came back as " << int{info->config.priority}
      << ", which was never acknowledged (nor attempted since)";
  EXPECT_EQ(info->config.encryption_key, encryption_key);
  log_->Event("recovered priority {}", info->config.priority);
  model_->RebasePriority(info->config.priority);
}

}  // namespace ctxstore::engine::crash_sim
