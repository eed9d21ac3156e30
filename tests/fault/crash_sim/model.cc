#include "crash_sim/model.h"

#include <algorithm>
#include <sstream>

namespace ctxstore::engine::crash_sim {

bool Allowed::Allows(std::optional<uint64_t> version) const {
  if (!version) return absent;
  return std::find(versions.begin(), versions.end(), *version) != versions.end();
}

uint64_t Model::Put(const std::string& key, const Version& v) {
  versions_[key].push_back(v);
  keys_[key].mutations.push_back({.is_put = true, .version = v.version, .index = next_index_});
  return next_index_++;
}

uint64_t Model::Delete(const std::string& key, bool by_engine) {
  keys_[key].mutations.push_back({.is_put = false, .index = next_index_, .by_engine = by_engine});
  return next_index_++;
}

void Model::Retract(const std::string& key, uint64_t index) {
  std::vector<Mutation>& ms = keys_[key].mutations;
  if (!ms.empty() && ms.back().index == index) ms.pop_back();
}

void Model::AckSync(const std::string& key, uint64_t index) {
  for (Mutation& m : keys_[key].mutations) {
    if (m.index == index) m.durable = true;
  }
}

void Model::AckAllBefore(uint64_t index) {
  durable_before_ = std::max(durable_before_, index);
}

bool Model::Present(const std::string& key) const {
  return Current(key).has_value();
}

std::optional<Version> Model::Current(const std::string& key) const {
  auto it = keys_.find(key);
  if (it == keys_.end() || it->second.mutations.empty() || !it->second.mutations.back().is_put) {
    return std::nullopt;
  }
  const uint64_t version = it->second.mutations.back().version;
  for (const Version& v : versions_.at(key)) {
    if (v.version == version) return v;
  }
  return std::nullopt;
}

std::vector<Version> Model::FindVersions(const std::string& key, uint64_t len,
                                         uint64_t xxh3) const {
  std::vector<Version> found;
  auto it = versions_.find(key);
  if (it == versions_.end()) return found;
  for (const Version& v : it->second) {
    if (v.len == len && v.xxh3 == xxh3) found.push_back(v);
  }
  return found;
}

Allowed Model::AllowedAfterCrash(const std::string& key) const {
  Allowed allowed;
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    allowed.absent = true;
    return allowed;
  }
  const std::vector<Mutation>& ms = it->second.mutations;
  // The newest durable mutation, or before the first when none is.
  size_t first = 0;
  bool any_durable = false;
  for (size_t i = 0; i < ms.size(); ++i) {
    if (Durable(ms[i])) {
      first = i;
      any_durable = true;
    }
  }
  allowed.absent = !any_durable;
  for (size_t i = first; i < ms.size(); ++i) {
    if (ms[i].is_put) {
      allowed.versions.push_back(ms[i].version);
    } else {
      allowed.absent = true;
    }
  }
  return allowed;
}

std::string Model::Describe(const std::string& key) const {
  std::ostringstream out;
  out << "history of " << key << (Tainted(key) ? " (tainted by an injected fault)" : "") << ":";
  auto it = keys_.find(key);
  if (it == keys_.end()) return out.str() + " none";
  for (const Mutation& m : it->second.mutations) {
    out << "\n    #" << m.index << " " << (m.is_put ? "put v" : "delete");
    if (m.is_put) out << m.version;
    if (m.by_engine) out << " (by the engine)";
    if (m.durable) out << " acked";
    if (m.index < durable_before_) out << " flushed";
  }
  return out.str();
}

bool Model::Tainted(const std::string& key) const {
  auto it = keys_.find(key);
  return it != keys_.end() && it->second.tainted;
}

void Model::Rebase(const std::map<std::string, std::optional<uint64_t>>& recovered) {
  for (auto& [key, state] : keys_) {
    auto it = recovered.find(key);
    Mutation base{.is_put = false, .index = next_index_++, .durable = true};
    if (it != recovered.end() && it->second) {
      base.is_put = true;
      base.version = *it->second;
    }
    state.mutations.assign(1, base);
  }
}

void Model::SetPriority(uint8_t priority, bool acked) {
  if (acked) {
    priority_ = priority;
    priority_maybe_.clear();
  } else {
    priority_maybe_.push_back(priority);
  }
}

std::vector<uint8_t> Model::AllowedPriorities() const {
  std::vector<uint8_t> allowed = priority_maybe_;
  allowed.push_back(priority_);
  return allowed;
}

void Model::RebasePriority(uint8_t priority) {
  priority_ = priority;
  priority_maybe_.clear();
}

Seen Model::Visible(const std::string& key, uint64_t now_ms) const {
  const std::optional<Version> v = Current(key);
  if (!v) return Seen::kNo;
  if (!v->ExpiredAt(now_ms)) return Seen::kYes;
  auto lease = leases_.find(key);
  if (lease == leases_.end() || lease->second < now_ms) return Seen::kNo;
  return Seen::kEither;  // held by a lease (which may or may not cover this version), or its end
}

void Model::Lease(const std::string& key, uint64_t until_ms) {
  uint64_t& until = leases_[key];
  until = std::max(until, until_ms);
}

bool Model::Reclaimable(const std::string& key, bool after_crash) const {
  if (!reclaim_) return false;
  auto pin = pinned_.find(key);
  auto it = keys_.find(key);
  if (pin == pinned_.end() || it == keys_.end()) return true;
  const std::vector<Mutation>& ms = it->second.mutations;
  for (size_t i = 0; i < ms.size(); ++i) {
    const bool current = i + 1 == ms.size() && !after_crash;
    if (ms[i].is_put && ms[i].index >= pin->second && (current || Durable(ms[i]))) return false;
  }
  return true;
}

std::vector<std::string> Model::GroupMembers(const std::string& group) const {
  std::vector<std::string> out;
  for (const auto& [key, state] : keys_) {
    const std::optional<Version> v = Current(key);
    if (v && v->group == group) out.push_back(key);
  }
  return out;
}

const Version* Model::FindVersion(const std::string& key, uint64_t version) const {
  auto it = versions_.find(key);
  if (it == versions_.end()) return nullptr;
  for (const Version& v : it->second) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

std::vector<std::string> Model::Keys(bool present) const {
  std::vector<std::string> out;
  for (const auto& [key, state] : keys_) {
    const bool is_present = !state.mutations.empty() && state.mutations.back().is_put;
    if (is_present == present) out.push_back(key);
  }
  return out;
}

}  // namespace ctxstore::engine::crash_sim
