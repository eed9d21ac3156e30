#include "crash_sim/namespaces.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace ctxstore::engine::crash_sim {
namespace {

std::string Describe(const NamespaceModel::State& s) {
  return s ? fmt::format("quota {}", *s) : std::string("absent");
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

void NamespaceModel::CheckAndRebase(Engine& engine, RunLog* log) {
  for (auto& [name, h] : states_) {
    auto info = engine.GetNamespace(name);
    State found;
    if (info.ok()) {
      found = info->config.quota_bytes;
    } else {
      EXPECT_EQ(info.status().code(), StatusCode::kNotFound) << name << ": "
                                                             << info.status().ToString();
    }
    const bool allowed = found == h.acked ||
                         std::find(h.maybe.begin(), h.maybe.end(), found) != h.maybe.end();
    EXPECT_TRUE(allowed) << "namespace " << name << " came back " << Describe(found)
                         << "; acknowledged: " << Describe(h.acked) << ", with "
                         << h.maybe.size() << " failed changes since";
    log->Event("recovered namespace {}: {}", name, Describe(found));
    h.acked = found;
    h.maybe.clear();
  }
}

}  // namespace ctxstore::engine::crash_sim
