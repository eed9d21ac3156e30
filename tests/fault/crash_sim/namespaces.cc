#include "crash_sim/namespaces.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "crash_sim/values.h"

namespace ctxstore::engine::crash_sim {
namespace {

std::string Describe(const NamespaceModel::State& s) {
  return s ? fmt::format("id {} quota {}", s->id, s->quota) : std::string("absent");
}

}  // namespace

void NamespaceModel::Changed(const std::string& name, State state, bool acked) {
  History& h = states_[name];
  if (acked) {
    h.acked = state;
    h.maybe.clear();
  } else {
    h.maybe.push_back(state);
  }
}

void NamespaceModel::AckSync(const std::string& key, uint64_t version) {
  auto it = objects_.find(key);
  if (it != objects_.end() && it->second.version == version) it->second.durable = true;
}

uint64_t NamespaceModel::DeleteObjectsOf(uint32_t id) {
  uint64_t live = 0;
  for (auto& [key, o] : objects_) {
    if (o.ns != id || o.gone) continue;
    o.gone = true;
    ++live;
  }
  return live;
}

std::vector<std::string> NamespaceModel::ListChecked(Engine& engine, const NamespaceInfo& info) {
  std::vector<std::string> keys;
  uint64_t bytes = 0;
  ListOptions opts;
  opts.limit = 1000;
  for (;;) {
    auto page = engine.List(info.id, opts);
    EXPECT_TRUE(page.ok()) << "list " << info.name << ": " << page.status().ToString();
    if (!page.ok()) return keys;
    for (const ObjectInfo& item : page->items) {
      keys.push_back(item.key);
      bytes += item.value_len;
      auto it = objects_.find(item.key);
      // Never an object of another namespace (a deleted one's, say), nor
      // one with other bytes than were put.
      EXPECT_TRUE(it != objects_.end() && it->second.ns == info.id &&
                  it->second.len == item.value_len && it->second.xxh3 == item.value_xxh3)
          << "namespace " << info.name << " (id " << info.id << ") lists " << item.key
          << ", which was not put there with those bytes";
    }
    if (page->next_cursor.empty()) break;
    opts.cursor = page->next_cursor;
  }
  EXPECT_EQ(info.objects, keys.size()) << "namespace " << info.name << ": object count";
  EXPECT_EQ(info.bytes, bytes) << "namespace " << info.name << ": bytes";
  return keys;
}

uint64_t NamespaceModel::Audit(Engine& engine, const std::string& name, RunLog* log) {
  auto info = engine.GetNamespace(name);
  if (!info.ok()) return 0;
  const std::vector<std::string> listed = ListChecked(engine, *info);
  if (info->config.quota_bytes != 0) {
    EXPECT_LE(info->bytes, info->config.quota_bytes) << "namespace " << name << " over its quota";
  }
  const std::set<std::string> present(listed.begin(), listed.end());
  uint64_t evicted = 0;
  for (auto& [key, o] : objects_) {
    if (o.ns != info->id || o.gone || present.contains(key)) continue;
    o.gone = true;
    ++evicted;
  }
  log->Event("namespace {}: {} objects, {} bytes, {} evicted now", name, info->objects, info->bytes,
             evicted);
  return evicted;
}

void NamespaceModel::CheckNamespace(const std::string& name, History& h, const State& found,
                                    RunLog* log) {
  const bool allowed =
      found == h.acked || std::find(h.maybe.begin(), h.maybe.end(), found) != h.maybe.end();
  EXPECT_TRUE(allowed) << "namespace " << name << " came back " << Describe(found)
                       << "; acknowledged: " << Describe(h.acked) << ", with " << h.maybe.size()
                       << " failed changes since";
  log->Event("recovered namespace {}: {}", name, Describe(found));
  h.acked = found;
  h.maybe.clear();
}

void NamespaceModel::CheckObject(Engine& engine, const std::string& key, Object& o, bool alive) {
  ++objects_checked_;
  auto got = engine.Get(o.ns, key);
  if (got.ok()) {
    EXPECT_TRUE(alive) << key << " came back, though the delete of its namespace (id " << o.ns
                       << ") was acknowledged";
    EXPECT_TRUE(got->size == o.len && IsValue(seed_, key, o.version, got->bytes()))
        << key << " (namespace id " << o.ns << ") came back with other bytes";
  } else {
    // With random faults a damaged object may be found out now (CORRUPT).
    if (strict_ || got.status().code() != StatusCode::kCorrupt) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound)
          << key << ": " << got.status().ToString();
    }
    const bool required = alive && strict_ && o.durable && !o.gone;
    EXPECT_FALSE(required) << key << " (namespace id " << o.ns
                           << "): its sync put was acknowledged, and it is gone";
    lost_ += required;
  }
  o.durable = got.ok();
  o.gone = !got.ok();
}

void NamespaceModel::CheckAndRebase(Engine& engine, RunLog* log) {
  std::set<uint32_t> alive;
  for (auto& [name, h] : states_) {
    auto info = engine.GetNamespace(name);
    State found;
    if (info.ok()) {
      found = Ns{info->id, info->config.quota_bytes};
      alive.insert(info->id);
      ListChecked(engine, *info);
    } else {
      EXPECT_EQ(info.status().code(), StatusCode::kNotFound)
          << name << ": " << info.status().ToString();
    }
    CheckNamespace(name, h, found, log);
  }
  for (auto& [key, o] : objects_) CheckObject(engine, key, o, alive.contains(o.ns));
  // A namespace that did not come back never will (ids are not reused):
  // its objects are done with.
  std::erase_if(objects_, [&](const auto& kv) { return !alive.contains(kv.second.ns); });
}

}  // namespace ctxstore::engine::crash_sim
