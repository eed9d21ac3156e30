// The workload's context calls (pins, group deletes, expiry changes) and
// the puts of other clients: a put begun by one client and committed steps
// later, with other clients' operations (on the same keys, too) in between.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/units.h"
#include "crash_sim/workload.h"

namespace ctxstore::engine::crash_sim {
namespace {

// Pinned objects are carried forward by flash reclaim: few of them, and
// small, so that they fit in the small flash of the seeds that reclaim.
constexpr size_t kMaxPinnedKeys = 4;
constexpr size_t kMaxOpenPuts = 3;  // clients with a put begun

std::string_view Code(const Status& st) {
  return StatusCodeName(st.code());
}

}  // namespace

void Workload::ChangeExpiry() {
  const std::string key = PickKey(true);
  if (key.empty()) return;
  const uint64_t now = NowMs();
  const std::optional<Version> current = model_->Current(key);
  const Seen seen = model_->Visible(key, now);
  // PERSIST, TTLs around the clock's steps, or an expiry already past (the
  // object goes at once, unless a lease holds it).
  static constexpr uint64_t kTtls[] = {30, 300, 3000};
  const uint64_t r = (*rng_)() % 5;
  const uint64_t expires_ms = r == 0 ? 0 : r == 4 ? now : now + kTtls[r - 1];
  const uint64_t flips_before = device_->fault_counts().corrupt_reads;
  const uint64_t index = model_->next_index();
  Status st = engine_->SetExpiry(kDefaultNamespaceId, key, expires_ms);
  log_->Event("set expiry {} {} #{} -> {}", key, expires_ms, index, Code(st));
  if (st.ok() && current && seen != Seen::kNo) {
    // A new version with the current one's bytes, written behind as a put is.
    Version v = *current;
    v.bytes_of = current->value_version();
    v.version = next_version_++;
    v.expires_ms = expires_ms;
    model_->Put(key, v);
    ++coverage_->expiry_changes;
  } else if (st.ok()) {
    ADD_FAILURE() << "set expiry " << key << " found a deleted or expired key\n  "
                  << model_->Describe(key);
  } else if (st.code() == StatusCode::kNotFound) {
    if (seen == Seen::kYes) GoneFromEngine(key, "set expiry");
  } else if (st.code() == StatusCode::kCorrupt && current &&
             (model_->Tainted(key) || device_->fault_counts().corrupt_reads > flips_before)) {
    // Read from flash first: an injected fault, detected; the engine dropped it.
    model_->Delete(key, /*by_engine=*/true);
    ++coverage_->corrupt_answers;
    ++coverage_->lost_to_faults;
  } else if (st.code() != StatusCode::kNoSpace) {  // DRAM full of unwritten data: unchanged
    ADD_FAILURE() << "set expiry " << key << ": " << st.ToString() << "\n  "
                  << model_->Describe(key);
  }
}

void Workload::PinKey() {
  if (model_->pinned_count() >= kMaxPinnedKeys) return;
  const std::string key = PickKey(true);
  if (key.empty()) return;
  const std::optional<Version> v = model_->Current(key);
  if (!v || v->len > kMaxPinnedValueBytes) return;
  const Seen seen = model_->Visible(key, NowMs());
  auto pinned = engine_->Pin(kDefaultNamespaceId, key, {});
  log_->Event("pin {} -> {}", key, Code(pinned.status()));
  if (pinned.ok()) {
    EXPECT_NE(seen, Seen::kNo) << "pinned an expired key " << key;
    model_->Pin(key);  // in the catalog, durable: from now on its objects survive reclaim
    ++coverage_->pins;
    return;
  }
  if (pinned.status().code() == StatusCode::kNotFound) {
    if (seen == Seen::kYes) GoneFromEngine(key, "pin");
    return;
  }
  // A pin whose catalog write failed may or may not be there: the model
  // keeps the object unprotected.
  ExpectOkUnlessCrashed(pinned.status(), "pin " + key);
}

void Workload::DeleteGroup() {
  const std::string group = fmt::format("g{}", (*rng_)() % 3);
  const uint64_t now = NowMs();
  const std::vector<std::string> members = model_->GroupMembers(group);
  uint64_t visible = 0, maybe = 0, reclaimable = 0;
  for (const std::string& key : members) {
    const Seen seen = model_->Visible(key, now);
    visible += seen == Seen::kYes;
    maybe += seen == Seen::kEither;
    reclaimable += seen == Seen::kYes && model_->Reclaimable(key);
  }
  auto deleted = engine_->DeleteGroup(kDefaultNamespaceId, group);
  log_->Event("delete group {} ({} members) -> {} {}", group, members.size(),
              Code(deleted.status()), deleted.ok() ? *deleted : 0);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  // Expired members go too, but are not counted; reclaimed ones are gone.
  EXPECT_LE(*deleted, visible + maybe) << "group " << group;
  EXPECT_GE(*deleted + reclaimable, visible) << "group " << group;
  for (const std::string& key : members) model_->Delete(key);
  ++coverage_->group_deletes;
}

void Workload::BeginOpenPut() {
  if (open_puts_.size() >= kMaxOpenPuts) return CommitOpenPut();
  // An overwrite of a present key, or a put-if-absent of an absent one
  // (which another client may put before this one commits).
  bool overwrite = (*rng_)() % 2 == 0;
  std::string key = PickKey(overwrite);
  if (key.empty()) {
    overwrite = false;
    key = PickKey(false);
  }
  OpenPut open{DrawPut(key, overwrite), {}};
  if (!Begin(open.plan, &open.reservation)) return;
  log_->Event("begin put {} v{} {}B", key, open.plan.version, open.plan.len);
  ++coverage_->open_puts;
  open_puts_.push_back(std::move(open));
}

void Workload::CommitOpenPut() {
  if (open_puts_.empty()) return;
  const size_t i = (*rng_)() % open_puts_.size();
  OpenPut open = std::move(open_puts_[i]);
  open_puts_.erase(open_puts_.begin() + static_cast<long>(i));
  Commit(open.plan, std::move(open.reservation));
}

}  // namespace ctxstore::engine::crash_sim
