// Shared metadata for objects that carry only a writer name.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/record.h"

namespace ctxstore::engine {

// Most objects' metadata is just their writer (a client's PUTs without a
// group, parent or blob), and one client writes many objects: sharing one
// ObjectMeta per writer makes provenance cost a pointer per object instead
// of an allocation holding a copy of the name. Metadata with any other field
// is not shared. Thread-safe.
class MetaInterner {
 public:
  // nullptr when m is empty.
  std::shared_ptr<const ObjectMeta> Make(ObjectMeta m) {
    if (m.empty()) return nullptr;
    if (!m.group.empty() || !m.parent.empty() || !m.meta.empty()) {
      return std::make_shared<const ObjectMeta>(std::move(m));
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_writer_.find(m.writer);
    if (it != by_writer_.end()) return it->second;
    if (by_writer_.size() >= kMaxWriters) {
      // Forget writers no object refers to any more; past the bound, the
      // rest are simply not shared.
      std::erase_if(by_writer_, [](const auto& kv) { return kv.second.use_count() == 1; });
    }
    auto shared = std::make_shared<const ObjectMeta>(m);
    if (by_writer_.size() < kMaxWriters) by_writer_.emplace(std::move(m.writer), shared);
    return shared;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_writer_.size();
  }

 private:
  static constexpr size_t kMaxWriters = 4096;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const ObjectMeta>> by_writer_;
};

}  // namespace ctxstore::engine
