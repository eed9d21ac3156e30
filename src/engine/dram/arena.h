// The DRAM tier: one preallocated region, carved into blocks by a best-fit
// allocator with coalescing (no malloc per value). The region is a memfd
// mapping so that it can later be shared with same-host clients and
// registered for RDMA. Blocks are multiples of kPageSize and page-aligned, so
// they can be written to and read from flash with O_DIRECT as they are.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <utility>

#include "ctxstore/status.h"

namespace ctxstore::engine {

class Arena;

// A block owned by an index entry: 8 bytes where a shared_ptr to an
// ArenaBlock would cost 16 in the entry and 48 on the heap per object.
struct DramRef {
  uint32_t page = 0;   // the block's first page
  uint32_t pages = 0;  // 0: no block
  explicit operator bool() const { return pages != 0; }
};

// A counted reference to one allocation (a value being received, written to
// flash or sent). Readers hold one while they send from it, so eviction never
// pulls bytes out from under a reply. The block returns to the arena when its
// last reference, counted or an entry's DramRef, is gone.
class ArenaBlock {
 public:
  ArenaBlock(Arena* arena, uint64_t offset, uint64_t size)
      : arena_(arena), offset_(offset), size_(size) {}
  ~ArenaBlock();
  ArenaBlock(const ArenaBlock&) = delete;
  ArenaBlock& operator=(const ArenaBlock&) = delete;

  uint8_t* data() const;
  uint64_t offset() const { return offset_; }  // within the arena (memfd offset)
  uint64_t size() const { return size_; }      // allocated bytes, a multiple of kPageSize

 private:
  Arena* arena_;
  uint64_t offset_;
  uint64_t size_;
};

class Arena {
 public:
  static constexpr uint64_t kPageSize = 4096;

  // Maps capacity_bytes (rounded up to kPageSize) of a memfd. With populate,
  // its pages are faulted in by a background thread (so that values do not
  // pay a page fault per 4 KiB, and a restart need not wait for gigabytes of
  // faults); without, on first touch (a small arena that a fuzzer opens
  // thousands of times a second).
  static Result<std::unique_ptr<Arena>> Create(uint64_t capacity_bytes, bool populate = true);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // A block of at least `bytes` (rounded up to kPageSize; 0 takes one page),
  // or nullptr when no free run is large enough. Thread-safe.
  std::shared_ptr<ArenaBlock> Allocate(uint64_t bytes);

  // Block references. Each block's count lives in a side array indexed by its
  // first page (4 bytes per page of the region, fixed), so an index entry
  // holds a block with a DramRef alone. Thread-safe; Adopt and Share need a
  // reference to be held already (the count is never revived from 0).
  DramRef Adopt(const ArenaBlock& block);  // one more, for an entry
  // Another counted handle to the entry's block (a reader, the flusher),
  // keeping it allocated while held. Not a pin rule (context/catalog.h).
  std::shared_ptr<ArenaBlock> Share(DramRef ref);
  void Release(DramRef& ref);  // the entry's is gone; clears ref
  uint8_t* data(DramRef ref) const { return base_ + uint64_t{ref.page} * kPageSize; }
  // Pages in the block Allocate(bytes) returns.
  static uint64_t PagesFor(uint64_t bytes) {
    return bytes == 0 ? 1 : (bytes + kPageSize - 1) / kPageSize;
  }

  uint64_t capacity_bytes() const { return capacity_; }
  uint64_t used_bytes() const;
  uint64_t largest_free_bytes() const;
  // How much of the region the background thread has faulted in so far
  // (capacity_bytes() once it is done).
  uint64_t populated_bytes() const { return populated_.load(std::memory_order_relaxed); }
  uint8_t* base() const { return base_; }
  int memfd() const { return memfd_; }

 private:
  friend class ArenaBlock;
  Arena(int memfd, uint8_t* base, uint64_t capacity, std::atomic<uint32_t>* refs, bool populate);
  void Unref(uint64_t offset, uint64_t size);  // frees the block on the last reference
  void Free(uint64_t offset, uint64_t size);
  void Populate();                              // the background thread's body
  void TouchPages(uint64_t off, uint64_t len);  // a read of each page from user space

  const int memfd_;
  uint8_t* const base_;
  const uint64_t capacity_;
  // References per block, at its first page (calloc'd: pages of the array
  // that no block has used cost nothing).
  std::atomic<uint32_t>* const refs_;
  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> free_by_offset_;           // offset -> length
  std::set<std::pair<uint64_t, uint64_t>> free_by_size_;  // (length, offset)
  uint64_t used_ = 0;
  std::atomic<bool> stop_populating_{false};
  std::atomic<uint64_t> populated_{0};
  std::thread populator_;  // not started without populate
};

}  // namespace ctxstore::engine
