// The workload's scratch namespaces (namespaces.h): created, changed and
// deleted, with objects in them. Their quotas are a few times the values
// put, so that quota evictions come often, and deletes find objects.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iterator>

#include "common/hash.h"
#include "common/units.h"
#include "crash_sim/values.h"
#include "crash_sim/workload.h"

namespace ctxstore::engine::crash_sim {
namespace {

constexpr uint64_t kMaxScratchValueBytes = 24 * kKiB;  // below the smallest quota

std::string_view Code(const Status& st) {
  return StatusCodeName(st.code());
}

}  // namespace

std::string Workload::ScratchName() {
  return fmt::format("scratch-{}", (*rng_)() % 3);
}

void Workload::ChangeNamespaces() {
  const std::string name = ScratchName();
  // 32 KiB to 256 KiB: room for one to a few dozen values.
  const uint64_t quota = (1 + (*rng_)() % 8) * 32 * kKiB;
  auto info = engine_->GetNamespace(name);
  Status st;
  NamespaceModel::State state = NamespaceModel::Ns{0, quota};
  const char* what = "create";
  uint64_t dropped = 0;
  if (!info.ok()) {
    NamespaceConfig config;
    config.quota_bytes = quota;
    auto id = engine_->CreateNamespace(name, config);
    st = id.status();
    if (id.ok()) state->id = *id;
  } else if ((*rng_)() % 3 != 0) {
    NamespaceConfig config = info->config;
    config.quota_bytes = quota;
    st = engine_->SetNamespace(name, config);
    state->id = info->id;
    what = "set";
  } else {
    st = engine_->DeleteNamespace(name);
    state = std::nullopt;
    what = "delete";
    if (st.ok()) dropped = namespaces_->DeleteObjectsOf(info->id);
  }
  log_->Event("namespace {} {} quota {} -> {} ({} objects dropped)", what, name, quota, Code(st),
              dropped);
  namespaces_->Changed(name, state, st.ok());
  coverage_->namespace_changes += st.ok();
  coverage_->namespace_deletes_with_objects += dropped > 0;
  ExpectOkUnlessCrashed(st, fmt::format("namespace {} {}", what, name));
  // A smaller quota evicts at once.
  if (st.ok() && state) coverage_->quota_evictions += namespaces_->Audit(*engine_, name, log_);
}

void Workload::PutScratch() {
  const std::string name = ScratchName();
  auto info = engine_->GetNamespace(name);
  if (!info.ok()) return ChangeNamespaces();
  const std::string key = fmt::format("skey-{}", next_key_++);
  const bool sync = (*rng_)() % 100 < 50;
  const uint64_t version = next_version_++;
  const uint64_t len = (*rng_)() % kMaxScratchValueBytes;
  auto begun = engine_->BeginPut(key, len, {.sync = sync, .namespace_id = info->id});
  if (!begun.ok()) {
    log_->Event("put {}/{} {}B -> {}", name, key, len, Code(begun.status()));
    if (begun.status().code() == StatusCode::kNoSpace) return;  // DRAM full of unwritten data
    return ExpectOkUnlessCrashed(begun.status(), "put " + name + "/" + key);
  }
  FillValue(seed_, key, version, begun->buffer());
  const NamespaceModel::Object o{
      .ns = info->id, .version = version, .len = len, .xxh3 = Xxh3(begun->buffer().data(), len)};
  DurableCallback on_durable;
  if (sync) {
    on_durable = [this, key, version](Status st) {
      log_->Event("ack {} v{} -> {}", key, version, Code(st));
      if (st.ok()) namespaces_->AckSync(key, version);
    };
  }
  Status st = engine_->CommitPut(std::move(*begun), std::move(on_durable));
  log_->Event("put {}/{} v{} {}B{} -> {}", name, key, version, len, sync ? " sync" : "", Code(st));
  if (!st.ok()) return ExpectOkUnlessCrashed(st, "commit " + name + "/" + key);
  namespaces_->Put(key, o);
  ++coverage_->scratch_puts;
  coverage_->quota_evictions += namespaces_->Audit(*engine_, name, log_);
}

void Workload::ReadScratch() {
  const auto& all = namespaces_->objects();
  if (all.empty()) return;
  auto it = all.begin();
  std::advance(it, static_cast<long>((*rng_)() % all.size()));
  const std::string key = it->first;
  const NamespaceModel::Object o = it->second;
  auto got = engine_->Get(o.ns, key);
  log_->Event("get ns {} {} -> {}", o.ns, key, Code(got.status()));
  if (got.ok()) {
    EXPECT_FALSE(o.gone) << key << " (namespace id " << o.ns
                         << ") was evicted or its namespace deleted, and is served";
    EXPECT_TRUE(got->size == o.len && IsValue(seed_, key, o.version, got->bytes()))
        << key << " (namespace id " << o.ns << ") returned other bytes";
    return;
  }
  if (got.status().code() == StatusCode::kNotFound) {
    // Evicted since the last look, or (without the strict promise) dropped
    // by flash reclaim or a detected fault.
    if (!o.gone && namespaces_->strict()) {
      coverage_->quota_evictions += namespaces_->Audit(*engine_, "scratch-0", log_) +
                                    namespaces_->Audit(*engine_, "scratch-1", log_) +
                                    namespaces_->Audit(*engine_, "scratch-2", log_);
      EXPECT_TRUE(namespaces_->objects().at(key).gone)
          << key << " (namespace id " << o.ns << ") is not found, yet its namespace lists it";
    }
    namespaces_->MarkGone(key);
    return;
  }
  if (!namespaces_->strict() && got.status().code() == StatusCode::kCorrupt) {
    namespaces_->MarkGone(key);  // an injected fault, detected: the object dropped
    return;
  }
  ExpectOkUnlessCrashed(got.status(), "get " + key);
}

}  // namespace ctxstore::engine::crash_sim
