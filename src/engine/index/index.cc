#include "engine/index/index.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>

#include "common/check.h"
#include "common/hash.h"

namespace ctxstore::engine {
namespace {

size_t GranulesFor(size_t key_len) {
  return (sizeof(Entry) + key_len + 7) / 8;
}

}  // namespace

MappedMemory::MappedMemory(size_t bytes) {
  if (bytes == 0) return;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = p;
  bytes_ = bytes;
}

MappedMemory::~MappedMemory() {
  // The kernel unmaps whole pages; the length says so too. ThreadSanitizer
  // forgets what it knew about unmapped memory only over the length given,
  // and whole pages only: after munmap(p, 64) it kept the accesses to the
  // small first table's page, and an io_uring ring the kernel later mapped
  // at that address (invisibly to it) was reported as racing with them.
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  if (data_ != nullptr) ::munmap(data_, (bytes_ + page - 1) / page * page);
}

void Index::Swap(Index& other) noexcept {
  std::swap(table_, other.table_);
  std::swap(slots_, other.slots_);
  std::swap(capacity_, other.capacity_);
  std::swap(size_, other.size_);
  std::swap(used_, other.used_);
  std::swap(chunks_, other.chunks_);
  std::swap(bump_, other.bump_);
  std::swap(bump_left_, other.bump_left_);
  std::swap(free_by_class_, other.free_by_class_);
}

Index::~Index() {
  for (size_t pos = 0; pos < capacity_; ++pos) {
    if (Live(slots_[pos])) EntryAt(pos)->~Entry();
  }
}

size_t Index::NextLive(size_t pos) const {
  while (pos < capacity_ && !Live(slots_[pos])) ++pos;
  return pos;
}

uint64_t Index::Hash(uint32_t ns, std::string_view user_key) {
  return Xxh3(user_key.data(), user_key.size(), ns);
}

size_t Index::Home(uint64_t hash) const {
  // The high bits pick the slot (multiply-shift: any capacity, not only
  // powers of two); the low 16 are the tag.
  __extension__ using Uint128 = unsigned __int128;
  return static_cast<size_t>((static_cast<Uint128>(hash) * capacity_) >> 64);
}

Index::iterator Index::find(std::string_view index_key) const {
  if (size_ == 0 || index_key.size() <= kIndexKeyPrefix) return end();
  const uint32_t ns = IndexKeyNamespace(index_key);
  const std::string_view key = IndexKeyUserKey(index_key);
  return {this, FindSlot(ns, key, Hash(ns, key))};
}

size_t Index::FindSlot(uint32_t ns, std::string_view key, uint64_t hash) const {
  if (size_ == 0) return capacity_;
  const uint64_t tag = hash << kTagShift;
  const size_t n = capacity_;
  for (size_t pos = Home(hash), probes = 0; probes < n;
       ++probes, pos = pos + 1 == n ? 0 : pos + 1) {
    const uint64_t slot = slots_[pos];
    if (slot == kEmpty) break;
    if (!Live(slot) || (slot & ~kPointerMask) != tag) continue;
    const Entry* e = EntryAt(pos);
    if (e->namespace_id == ns && e->user_key() == key) return pos;
  }
  return capacity_;
}

std::pair<Index::iterator, bool> Index::try_emplace(std::string_view index_key) {
  CTX_CHECK(index_key.size() > kIndexKeyPrefix &&
            index_key.size() <= kIndexKeyPrefix + kMaxKeyBytes);
  const uint32_t ns = IndexKeyNamespace(index_key);
  const std::string_view key = IndexKeyUserKey(index_key);
  const uint64_t hash = Hash(ns, key);  // once: the lookup and the insert share it
  if (size_t pos = FindSlot(ns, key, hash); pos != capacity_) return {{this, pos}, false};
  if ((used_ + 1) * 100 > capacity_ * kMaxLoadPercent) {
    // Full of live entries and tombstones: rebuild without the tombstones at
    // two thirds of the maximum load. That grows the table by half when it
    // holds no tombstones, and shrinks it when most entries were erased.
    Rehash(std::max<size_t>(16, (size_ + 1) * 100 * 3 / (kMaxLoadPercent * 2)));
  }
  void* mem = AllocateEntry(sizeof(Entry) + key.size());
  Entry* e = new (mem) Entry();
  e->key_len = static_cast<uint16_t>(key.size());
  e->namespace_id = ns;
  std::memcpy(reinterpret_cast<char*>(e + 1), key.data(), key.size());
  const uint64_t ptr = reinterpret_cast<uint64_t>(e);
  CTX_CHECK((ptr & ~kPointerMask) == 0 && ptr > kErased);

  const size_t n = capacity_;
  size_t pos = Home(hash);
  while (Live(slots_[pos])) pos = pos + 1 == n ? 0 : pos + 1;
  if (slots_[pos] == kEmpty) ++used_;
  slots_[pos] = (hash << kTagShift) | ptr;
  ++size_;
  return {{this, pos}, true};
}

void Index::erase(iterator it) {
  CTX_CHECK(it.index_ == this && it.pos_ < capacity_ && Live(slots_[it.pos_]));
  Entry* e = EntryAt(it.pos_);
  slots_[it.pos_] = kErased;
  --size_;
  FreeEntry(e);
}

void Index::reserve(size_t objects) {
  const size_t capacity = objects * 100 / kMaxLoadPercent + 1;
  if (capacity > capacity_) Rehash(capacity);
}

void Index::Rehash(size_t capacity) {
  MappedMemory old = std::exchange(table_, MappedMemory(capacity * sizeof(uint64_t)));
  const uint64_t* old_slots = slots_;
  const size_t old_capacity = capacity_;
  slots_ = static_cast<uint64_t*>(table_.data());  // zeroed: every slot kEmpty
  capacity_ = capacity;
  const size_t n = capacity_;
  for (size_t i = 0; i < old_capacity; ++i) {
    const uint64_t slot = old_slots[i];
    if (!Live(slot)) continue;
    const Entry* e = reinterpret_cast<const Entry*>(slot & kPointerMask);
    size_t pos = Home(Hash(e->namespace_id, e->user_key()));
    while (slots_[pos] != kEmpty) pos = pos + 1 == n ? 0 : pos + 1;
    slots_[pos] = slot;
  }
  used_ = size_;
}

void* Index::AllocateEntry(size_t bytes) {
  const size_t granules = (bytes + kGranule - 1) / kGranule;
  CTX_CHECK(granules < std::size(free_by_class_));
  if (void* head = free_by_class_[granules]) {
    std::memcpy(&free_by_class_[granules], head, sizeof(void*));
    return head;
  }
  const size_t rounded = granules * kGranule;
  if (bump_left_ < rounded) {
    // The rest of the old chunk (under one entry) is left unused.
    chunks_.emplace_back(kChunkBytes);
    bump_ = static_cast<char*>(chunks_.back().data());
    bump_left_ = kChunkBytes;
  }
  void* mem = bump_;
  bump_ += rounded;
  bump_left_ -= rounded;
  return mem;
}

void Index::FreeEntry(Entry* e) {
  const size_t granules = GranulesFor(e->key_len);
  e->~Entry();
  void* mem = e;
  std::memcpy(mem, &free_by_class_[granules], sizeof(void*));
  free_by_class_[granules] = mem;
}

uint64_t Index::memory_bytes() const {
  return table_.bytes() + chunks_.size() * kChunkBytes;
}

}  // namespace ctxstore::engine
