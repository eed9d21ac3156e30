// The engine's per-object index entry and its flush queue item. Private to
// the engine; separate from engine.h only to keep that header readable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <cstring>

#include "common/check.h"
#include "common/limits.h"
#include "ctxstore/status.h"
#include "engine/context/policy.h"
#include "engine/dram/arena.h"
#include "engine/flash/record.h"
#include "engine/flash/segment.h"
#include "engine/index/meta_interner.h"
#include "engine/security/encryption.h"
#include "engine/types.h"

namespace ctxstore::engine {

// Hashes std::string and std::string_view alike, so that the index can be
// searched with a request's key without building a std::string per lookup.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

// The index is keyed by namespace and key together: the namespace id
// (4 bytes, little-endian) followed by the client's key. The same key in two
// namespaces names two objects.
inline constexpr size_t kIndexKeyPrefix = 4;
// kInvalid unless 1 to kMaxKeyBytes bytes: every public engine call checks.
inline Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return Status::Invalid("keys are 1 to " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  return Status::Ok();
}
class IndexKey {
 public:
  // Keys longer than 512 bytes are cut (callers check lengths first).
  IndexKey(uint32_t ns, std::string_view key)
      : len_(kIndexKeyPrefix + std::min(key.size(), sizeof(buf_) - kIndexKeyPrefix)) {
    std::memcpy(buf_, &ns, kIndexKeyPrefix);
    std::memcpy(buf_ + kIndexKeyPrefix, key.data(), len_ - kIndexKeyPrefix);
  }
  std::string_view view() const { return {buf_, len_}; }
  std::string str() const { return std::string(view()); }

 private:
  char buf_[kIndexKeyPrefix + kMaxKeyBytes];
  size_t len_;
};
inline uint32_t IndexKeyNamespace(std::string_view index_key) {
  uint32_t ns = 0;
  std::memcpy(&ns, index_key.data(), kIndexKeyPrefix);
  return ns;
}
inline std::string_view IndexKeyUserKey(std::string_view index_key) {
  return index_key.substr(kIndexKeyPrefix);
}

// One object in the index. Its user key follows it in memory (see Index),
// and it is its namespace policy's node (Engine::AttachLocked links it).
// Fields are ordered to pack: the small ones fill PolicyNode's tail padding.
// Leases and parent links live in side tables: only objects that have them
// pay for them.
struct Entry : PolicyNode {
  uint8_t lru_level = 0;      // which DRAM list (the namespace priority when added)
  uint16_t key_len = 0;       // the user key's bytes follow the entry
  bool dirty : 1 = false;     // not yet durable: queued, or written but not synced
  bool on_lru : 1 = false;    // on lru_[lru_level] (iff resident and clean)
  bool attached : 1 = false;  // linked into its namespace (AttachLocked)
  bool leased : 1 = false;    // has an entry in Engine::lease_holds_
  bool sealed : 1 = false;    // its flash record is sealed (encrypted; record.h)
  uint32_t namespace_id = 0;
  uint32_t dram_page_plus_one = 0;  // resident in DRAM: its block's first page + 1
  uint64_t seq = 0;                 // of the record that wrote it
  uint64_t value_xxh3 = 0;
  uint64_t created_ms = 0;
  uint64_t expires_ms = 0;     // 0 = never
  MetaRef meta;                // null when it has none
  uint32_t segment_id = 0;     // 0: not on flash
  uint32_t record_offset = 0;  // segments are under 4 GiB
  // Intrusive DRAM LRU links.
  Entry* lru_prev = nullptr;
  Entry* lru_next = nullptr;

  // The value's length is the policy's charged size (PolicyNode::bytes);
  // EngineOptions::max_value_bytes keeps it under 4 GiB.
  uint64_t value_len() const { return bytes; }
  void set_value_len(uint64_t len) { bytes = static_cast<uint32_t>(len); }
  // The DRAM block, of Arena::PagesFor(value_len()) pages; empty when not resident.
  DramRef dram() const {
    if (dram_page_plus_one == 0) return DramRef{};
    return DramRef{dram_page_plus_one - 1, static_cast<uint32_t>(Arena::PagesFor(value_len()))};
  }
  // The client's key; with namespace_id, the object's identity.
  std::string_view user_key() const { return {reinterpret_cast<const char*>(this + 1), key_len}; }
  IndexKey index_key() const { return IndexKey(namespace_id, user_key()); }
  // Every field back to its default but the identity, for a new version.
  void Reset() {
    CTX_CHECK(dram_page_plus_one == 0 && "the engine releases an entry's DRAM block first");
    const uint16_t len = key_len;
    const uint32_t ns = namespace_id;
    *this = Entry{};
    key_len = len;
    namespace_id = ns;
  }
};
#if defined(__x86_64__) || defined(__aarch64__)
// 27 bytes of PolicyNode, the small fields in its tail padding, then 9
// words. Each byte here is a megabyte per million objects: grow it knowingly.
static_assert(sizeof(Entry) == 104, "Entry layout changed");
#endif

// Intrusive list of Entry, front = most recently used.
class EntryList {
 public:
  void PushFront(Entry* e) {
    e->lru_prev = nullptr;
    e->lru_next = head_;
    if (head_) head_->lru_prev = e;
    head_ = e;
    if (!tail_) tail_ = e;
    e->on_lru = true;
    ++size_;
  }
  void Remove(Entry* e) {
    if (!e->on_lru) return;
    if (e->lru_prev)
      e->lru_prev->lru_next = e->lru_next;
    else
      head_ = e->lru_next;
    if (e->lru_next)
      e->lru_next->lru_prev = e->lru_prev;
    else
      tail_ = e->lru_prev;
    e->lru_prev = e->lru_next = nullptr;
    e->on_lru = false;
    --size_;
  }
  void Touch(Entry* e) {
    Remove(e);
    PushFront(e);
  }
  Entry* back() const { return tail_; }
  uint64_t size() const { return size_; }

 private:
  uint64_t size_ = 0;
  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
};

// Work for the flusher thread, in commit order.
struct FlushItem {
  enum class Kind { kPut, kTombstone, kBarrier };
  Kind kind = Kind::kPut;
  std::string key;  // the index key (namespace + key)
  uint64_t seq = 0;
  uint64_t value_len = 0;
  uint64_t value_xxh3 = 0;
  uint64_t created_ms = 0;
  uint64_t expires_ms = 0;
  std::string attrs;                  // the record's attrs (EncodeRecordAttrs)
  std::shared_ptr<ArenaBlock> block;  // the value, for kPut
  // kPut: the key its namespace seals values with; null: stored in the clear.
  std::shared_ptr<const EncryptionKey> seal_key;
  // A pinned object carried forward out of a segment being reclaimed: its
  // entry stays clean and readable where it is until this copy is durable.
  bool carry = false;
  std::shared_ptr<AlignedBuffer> carried_value;  // the value, when carry
  const uint8_t* value_data() const { return carry ? carried_value->data : block->data(); }
  uint64_t value_capacity() const { return carry ? carried_value->size : block->size(); }
  DurableCallback on_durable;           // sync waiters and barriers
  uint64_t lost_writes_at_enqueue = 0;  // barriers: drops since count against them
  bool retry = false;                   // re-queued after its segment failed
  // A committed put of e's current version, its value in block.
  static FlushItem ForPut(const Entry& e, std::string index_key, std::string attrs,
                          std::shared_ptr<ArenaBlock> block,
                          std::shared_ptr<const EncryptionKey> seal_key,
                          DurableCallback on_durable) {
    FlushItem item;
    item.kind = Kind::kPut;
    item.key = std::move(index_key);
    item.seq = e.seq;
    item.value_len = e.value_len();
    item.value_xxh3 = e.value_xxh3;
    item.created_ms = e.created_ms;
    item.expires_ms = e.expires_ms;
    item.attrs = std::move(attrs);
    item.block = std::move(block);
    item.seal_key = std::move(seal_key);
    item.on_durable = std::move(on_durable);
    return item;
  }
  // Filled while writing.
  bool appended = false;
  uint64_t segment_id = 0;
  uint64_t record_offset = 0;
};

}  // namespace ctxstore::engine
