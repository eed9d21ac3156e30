// The object index: index key -> Entry, in about 10 bytes of table per
// object plus the entry itself with its key inline (no node, no separate key
// allocation, no malloc header). Private to the engine; not thread-safe (the
// engine's mutex guards it).
//
//   table: [slot][slot][slot]...     slot = 8 bytes, linear probing
//           |
//           +-- bits 63..48: 16 bits of the key's hash (a probe reads an
//           |                entry only when they match)
//           +-- bits 47..0:  Entry* (x86-64 and AArch64 user pointers fit)
//                            0 = empty, 1 = erased (a tombstone)
//
//   entry:  [Entry fields ...][user key bytes (Entry::key_len)]
//           (the namespace id is a field: IndexKey's prefix is not stored)
//           carved from 1 MiB chunks in 8-byte size classes, freed entries
//           reused by the next entry of the same size
//
// Entries never move: the engine links them by pointer (policy and DRAM
// lists, groups, children). Erasing leaves a tombstone, so iteration may erase
// the entry it is on; inserting may rehash and invalidates iterators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/index/entry.h"

namespace ctxstore::engine {

// Memory mapped straight from the kernel: zeroed, backed as it is touched,
// and returned whole when freed. The index's large allocations stay out of
// the malloc heap, where short-lived allocations would fragment around them
// and keep freed pages resident.
class MappedMemory {
 public:
  MappedMemory() = default;
  explicit MappedMemory(size_t bytes);  // throws std::bad_alloc
  ~MappedMemory();
  MappedMemory(MappedMemory&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  MappedMemory& operator=(MappedMemory&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

class Index {
 public:
  struct KeyAndEntry {
    std::string_view first;  // the user key (Entry::user_key; the namespace is second.namespace_id)
    Entry& second;
  };

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = KeyAndEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = KeyAndEntry;

    iterator() = default;
    KeyAndEntry operator*() const {
      Entry* e = index_->EntryAt(pos_);
      return {e->user_key(), *e};
    }
    struct Arrow {
      KeyAndEntry kv;
      const KeyAndEntry* operator->() const { return &kv; }
    };
    Arrow operator->() const { return {**this}; }
    iterator& operator++() {
      pos_ = index_->NextLive(pos_ + 1);
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return pos_ == o.pos_; }

   private:
    friend class Index;
    iterator(const Index* index, size_t pos) : index_(index), pos_(pos) {}
    const Index* index_ = nullptr;
    size_t pos_ = 0;
  };

  Index() = default;
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;
  // Moving moves the table and the entry chunks: entries stay where they are.
  Index(Index&& other) noexcept { Swap(other); }
  Index& operator=(Index&& other) noexcept {
    Swap(other);  // other destroys what this held
    return *this;
  }

  iterator begin() const { return {this, NextLive(0)}; }
  iterator end() const { return {this, capacity_}; }
  // Both take an index key (IndexKey: namespace id, then the user key).
  iterator find(std::string_view index_key) const;
  // The entry of the key, inserted (default fields but namespace_id and the
  // key) when absent; .second is true when it was inserted.
  std::pair<iterator, bool> try_emplace(std::string_view index_key);
  void erase(iterator it);  // destroys the entry
  size_t size() const { return size_; }
  void reserve(size_t objects);

  // Bytes held: table, entry chunks (used or free).
  uint64_t memory_bytes() const;

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kErased = 1;
  static constexpr int kTagShift = 48;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << kTagShift) - 1;
  // Table at most 85% full (tombstones count): linear probing stays short.
  static constexpr size_t kMaxLoadPercent = 85;
  static constexpr size_t kChunkBytes = 1 << 20;
  static constexpr size_t kGranule = 8;

  static bool Live(uint64_t slot) { return slot > kErased; }
  Entry* EntryAt(size_t pos) const { return reinterpret_cast<Entry*>(slots_[pos] & kPointerMask); }
  size_t NextLive(size_t pos) const;
  static uint64_t Hash(uint32_t ns, std::string_view user_key);
  size_t Home(uint64_t hash) const;  // the first slot to probe
  // The key's slot, or capacity_ when it is absent.
  size_t FindSlot(uint32_t ns, std::string_view key, uint64_t hash) const;
  void Rehash(size_t capacity);
  void Swap(Index& other) noexcept;
  void* AllocateEntry(size_t bytes);
  void FreeEntry(Entry* e);

  MappedMemory table_;
  uint64_t* slots_ = nullptr;  // table_'s slots
  size_t capacity_ = 0;        // slots
  size_t size_ = 0;            // live entries
  size_t used_ = 0;            // live entries and tombstones

  // Entry storage.
  std::vector<MappedMemory> chunks_;
  char* bump_ = nullptr;  // the free tail of the newest chunk
  size_t bump_left_ = 0;
  // Freed entries by size in granules, each linked through its first bytes.
  void* free_by_class_[(sizeof(Entry) + kMaxKeyBytes + kGranule - 1) / kGranule + 1] = {};
};

}  // namespace ctxstore::engine
