// Shared metadata for objects that carry only a writer name.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/flash/record.h"

namespace ctxstore::engine {

// A counted reference to immutable metadata, like shared_ptr<const
// ObjectMeta> but 8 bytes (the count lives beside the metadata): every index
// entry holds one.
class MetaRef {
 public:
  MetaRef() = default;
  MetaRef(std::nullptr_t) {}  // NOLINT: converts like a null shared_ptr
  static MetaRef Make(ObjectMeta m) { return MetaRef(new Holder{{1}, std::move(m)}); }
  MetaRef(const MetaRef& o) : h_(o.h_) {
    if (h_ != nullptr) h_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  MetaRef(MetaRef&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  MetaRef& operator=(MetaRef o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~MetaRef() {
    if (h_ != nullptr && h_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete h_;
  }

  const ObjectMeta* get() const { return h_ == nullptr ? nullptr : &h_->meta; }
  const ObjectMeta* operator->() const { return get(); }
  const ObjectMeta& operator*() const { return h_->meta; }
  explicit operator bool() const { return h_ != nullptr; }
  bool operator==(std::nullptr_t) const { return h_ == nullptr; }
  uint32_t use_count() const {
    return h_ == nullptr ? 0 : h_->refs.load(std::memory_order_relaxed);
  }

 private:
  struct Holder {
    std::atomic<uint32_t> refs;
    const ObjectMeta meta;
  };
  explicit MetaRef(Holder* h) : h_(h) {}
  Holder* h_ = nullptr;
};

// Most objects' metadata is just their writer (a client's PUTs without a
// group, parent or blob), and one client writes many objects: sharing one
// ObjectMeta per writer makes provenance cost a pointer per object instead
// of an allocation holding a copy of the name. Metadata with any other field
// is not shared. Thread-safe.
class MetaInterner {
 public:
  // nullptr when m is empty.
  MetaRef Make(ObjectMeta m) {
    if (m.empty()) return nullptr;
    if (!m.group.empty() || !m.parent.empty() || !m.meta.empty()) {
      return MetaRef::Make(std::move(m));
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_writer_.find(m.writer);
    if (it != by_writer_.end()) return it->second;
    if (by_writer_.size() >= kMaxWriters) {
      // Forget writers no object refers to any more; past the bound, the
      // rest are simply not shared.
      std::erase_if(by_writer_, [](const auto& kv) { return kv.second.use_count() == 1; });
    }
    MetaRef shared = MetaRef::Make(m);
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
  std::unordered_map<std::string, MetaRef> by_writer_;
};

}  // namespace ctxstore::engine
