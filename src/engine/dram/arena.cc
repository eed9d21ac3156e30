#include "engine/dram/arena.h"

#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "common/check.h"
#include "common/thread_name.h"

// Every check names the arena, so that a failure says whose invariant broke.
namespace ctxstore::engine {
namespace {

Status ErrnoStatus(std::string_view op, int err) {
  std::string msg = "arena " + std::string(op) + ": " + std::strerror(err);
  if (err == ENOMEM || err == ENOSPC) return Status::NoSpace(std::move(msg));
  return Status::IoError(std::move(msg));
}

}  // namespace

ArenaBlock::~ArenaBlock() {
  arena_->Unref(offset_, size_);
}

uint8_t* ArenaBlock::data() const {
  return arena_->base() + offset_;
}

Result<std::unique_ptr<Arena>> Arena::Create(uint64_t capacity_bytes, bool populate) {
  if (capacity_bytes == 0) return Status::Invalid("arena capacity must be positive");
  if (capacity_bytes > UINT64_MAX - kPageSize) return Status::TooLarge("arena capacity too large");
  uint64_t capacity = (capacity_bytes + kPageSize - 1) / kPageSize * kPageSize;
  // DramRef holds page numbers in 32 bits.
  if (capacity / kPageSize > UINT32_MAX) return Status::TooLarge("arena capacity over 16 TiB");
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  auto* refs = static_cast<std::atomic<uint32_t>*>(
      std::calloc(capacity / kPageSize, sizeof(std::atomic<uint32_t>)));
  if (refs == nullptr) return Status::NoSpace("arena: no memory for block references");
  int fd = ::memfd_create("ctxstore-arena", MFD_CLOEXEC);
  if (fd < 0) {
    std::free(refs);
    return ErrnoStatus("memfd_create", errno);
  }
  if (::ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    int err = errno;
    ::close(fd);
    std::free(refs);
    return ErrnoStatus("ftruncate", err);
  }
  void* base = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    std::free(refs);
    return ErrnoStatus("mmap", err);
  }
  return std::unique_ptr<Arena>(
      new Arena(fd, static_cast<uint8_t*>(base), capacity, refs, populate));
}

Arena::Arena(int memfd, uint8_t* base, uint64_t capacity, std::atomic<uint32_t>* refs,
             bool populate)
    : memfd_(memfd), base_(base), capacity_(capacity), refs_(refs) {
  free_by_offset_.emplace(0, capacity_);
  free_by_size_.emplace(capacity_, 0);
  if (!populate) return;
  populator_ = std::thread([this] {
    SetThreadName("ctx-populate");
    Populate();
  });
}

void Arena::Populate() {
  // Chunk by chunk, so that the destructor need not wait for all of it.
  constexpr uint64_t kChunkBytes = 64ull << 20;
  for (uint64_t off = 0; off < capacity_ && !stop_populating_.load(); off += kChunkBytes) {
    uint64_t len = std::min(kChunkBytes, capacity_ - off);
    // Older kernels: the read faults of TouchPages allocate the pages as well.
    (void)::madvise(base_ + off, len, MADV_POPULATE_WRITE);
    TouchPages(off, len);
    populated_.store(off + len, std::memory_order_relaxed);
  }
}

// MADV_POPULATE_WRITE maps the pages from the kernel. Under a hypervisor
// that shadows the guest's page tables (the 2-core CI VM's), the first
// access to a page through its address still faults to the host, once from
// user space and once more from the kernel (a recv into it): measured there,
// the first memcpy into populated pages ran at 0.6 GB/s and the first
// read() into them at 0.8 GB/s, against 16-18 GB/s after, so that a 64 KiB
// PUT of a new key cost about 200 us more than an overwrite. TouchPages takes
// both faults here, in the background: a read of a byte per page from user
// space, and a copy of each page into a pipe by the kernel (about 2.6 s per
// GiB on that VM, with one core). Never a write: a value may be
// landing in these pages right now; the reads race with it harmlessly (what
// they read is discarded), hence no TSan check of the user-space one.
#if defined(__clang__) || defined(__GNUC__)
__attribute__((no_sanitize("thread")))
#endif
void Arena::TouchPages(uint64_t off, uint64_t len) {
  for (uint64_t p = off; p < off + len; p += kPageSize) {
    (void)*static_cast<volatile uint8_t*>(base_ + p);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;  // best effort: only slower
  constexpr uint64_t kPieceBytes = 64 << 10;      // a pipe's default capacity
  std::vector<uint8_t> sink(kPieceBytes);
  for (uint64_t p = off; p < off + len && !stop_populating_.load(); p += kPieceBytes) {
    // syscall(): a sanitizer's write() would check the pages as a read
    // that races with a PUT.
    const long n =
        ::syscall(SYS_write, pipe_fds[1], base_ + p, std::min(kPieceBytes, off + len - p));
    if (n <= 0 || ::read(pipe_fds[0], sink.data(), static_cast<size_t>(n)) != n) break;
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

Arena::~Arena() {
  stop_populating_.store(true);
  if (populator_.joinable()) populator_.join();
  // A block outliving its arena would free into freed memory.
  CTX_CHECK(used_ == 0 && "ArenaBlock outlived its Arena");
  ::munmap(base_, capacity_);
  ::close(memfd_);
  std::free(refs_);
}

std::shared_ptr<ArenaBlock> Arena::Allocate(uint64_t bytes) {
  if (bytes > capacity_) return nullptr;  // also keeps the rounding below from overflowing
  uint64_t size = bytes == 0 ? kPageSize : (bytes + kPageSize - 1) / kPageSize * kPageSize;
  uint64_t offset;
  {
    std::lock_guard lock(mu_);
    // Best fit: the smallest free run that is large enough, lowest offset on ties.
    auto it = free_by_size_.lower_bound({size, 0});
    if (it == free_by_size_.end()) return nullptr;
    auto [run_len, run_offset] = *it;
    free_by_size_.erase(it);
    size_t erased = free_by_offset_.erase(run_offset);
    CTX_CHECK(erased == 1 && "arena invariant");
    if (run_len > size) {
      free_by_offset_.emplace(run_offset + size, run_len - size);
      free_by_size_.emplace(run_len - size, run_offset + size);
    }
    offset = run_offset;
    used_ += size;
    CTX_CHECK(used_ <= capacity_ && "arena invariant");
  }
  refs_[offset / kPageSize].store(1, std::memory_order_relaxed);
  return std::make_shared<ArenaBlock>(this, offset, size);
}

DramRef Arena::Adopt(const ArenaBlock& block) {
  uint32_t before = refs_[block.offset() / kPageSize].fetch_add(1, std::memory_order_relaxed);
  CTX_CHECK(before > 0 && "arena invariant");
  return DramRef{static_cast<uint32_t>(block.offset() / kPageSize),
                 static_cast<uint32_t>(block.size() / kPageSize)};
}

std::shared_ptr<ArenaBlock> Arena::Share(DramRef ref) {
  CTX_CHECK(ref.pages > 0 && "arena invariant");
  uint32_t before = refs_[ref.page].fetch_add(1, std::memory_order_relaxed);
  CTX_CHECK(before > 0 && "arena invariant");
  return std::make_shared<ArenaBlock>(this, uint64_t{ref.page} * kPageSize,
                                      uint64_t{ref.pages} * kPageSize);
}

void Arena::Release(DramRef& ref) {
  CTX_CHECK(ref.pages > 0 && "arena invariant");
  Unref(uint64_t{ref.page} * kPageSize, uint64_t{ref.pages} * kPageSize);
  ref = DramRef{};
}

void Arena::Unref(uint64_t offset, uint64_t size) {
  CTX_CHECK((offset < capacity_ && offset % kPageSize == 0) && "arena invariant");
  // acq_rel: the freeing thread sees every write made through other references.
  uint32_t before = refs_[offset / kPageSize].fetch_sub(1, std::memory_order_acq_rel);
  CTX_CHECK(before > 0 && "arena invariant");
  if (before == 1) Free(offset, size);
}

void Arena::Free(uint64_t offset, uint64_t size) {
  std::lock_guard lock(mu_);
  CTX_CHECK((size > 0 && size % kPageSize == 0 && offset % kPageSize == 0) && "arena invariant");
  CTX_CHECK((offset < capacity_ && size <= capacity_ - offset) && "arena invariant");
  CTX_CHECK(size <= used_ && "arena invariant");
  // The freed range must not overlap a free run: that would be a double free
  // or a range this arena never handed out.
  auto next = free_by_offset_.lower_bound(offset);
  CTX_CHECK((next == free_by_offset_.end() || offset + size <= next->first) && "arena invariant");
  auto prev = next == free_by_offset_.begin() ? free_by_offset_.end() : std::prev(next);
  CTX_CHECK((prev == free_by_offset_.end() || prev->first + prev->second <= offset) &&
            "arena invariant");

  uint64_t start = offset;
  uint64_t len = size;
  if (prev != free_by_offset_.end() && prev->first + prev->second == offset) {
    start = prev->first;
    len += prev->second;
    free_by_size_.erase({prev->second, prev->first});
    free_by_offset_.erase(prev);
  }
  if (next != free_by_offset_.end() && next->first == offset + size) {
    len += next->second;
    free_by_size_.erase({next->second, next->first});
    free_by_offset_.erase(next);
  }
  free_by_offset_.emplace(start, len);
  free_by_size_.emplace(len, start);
  used_ -= size;
}

uint64_t Arena::used_bytes() const {
  std::lock_guard lock(mu_);
  return used_;
}

uint64_t Arena::largest_free_bytes() const {
  std::lock_guard lock(mu_);
  return free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
}

}  // namespace ctxstore::engine
