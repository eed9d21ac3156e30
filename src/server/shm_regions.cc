#include "server/shm_regions.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ctxstore::server {
namespace {

// The checks of shm_regions.h, in order; the first that fails is named.
Status CheckMemfd(int fd, uint64_t length) {
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) {
    return Status::Invalid(
        "shared memory must be a memfd (memfd_create with MFD_ALLOW_SEALING), not another file");
  }
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0 || fs.f_type != TMPFS_MAGIC) {
    return Status::Invalid("shared memory must be a memfd on tmpfs (not hugetlbfs)");
  }
  if ((seals & F_SEAL_SHRINK) == 0) {
    return Status::Invalid("the memfd must be sealed against shrinking (F_SEAL_SHRINK)");
  }
  if ((seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0) {
    return Status::Invalid("the memfd must be writable (no F_SEAL_WRITE or F_SEAL_FUTURE_WRITE)");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Invalid("cannot stat the memfd");
  if (static_cast<uint64_t>(st.st_size) < length) {
    return Status::Invalid("the memfd holds " + std::to_string(st.st_size) + " bytes, " +
                           std::to_string(length) + " declared");
  }
  return Status::Ok();
}

}  // namespace

ShmRegions::~ShmRegions() {
  for (const auto& [id, region] : regions_) Unmap(region);
}

void ShmRegions::Unmap(const Region& region) {
  ::munmap(region.base, region.length);
  counters_->shm_regions--;
  counters_->shm_mapped_bytes -= region.length;
}

Status ShmRegions::Refuse(Status why) {
  counters_->shm_refused++;
  return why;
}

Result<uint32_t> ShmRegions::Register(UniqueFd fd, uint64_t length) {
  if (length == 0) return Refuse(Status::Invalid("a region of 0 bytes"));
  if (Status st = CheckMemfd(fd.get(), length); !st.ok()) return Refuse(st);
  if (regions_.size() >= kMaxRegionsPerConnection) {
    return Refuse(Status::NoSpace("a connection registers at most " +
                                  std::to_string(kMaxRegionsPerConnection) + " regions"));
  }
  // Reserve the bytes first: two connections registering at once cannot
  // both pass the limit.
  const uint64_t before = counters_->shm_mapped_bytes.fetch_add(length);
  if (before + length > max_mapped_bytes_ || before + length < before) {
    counters_->shm_mapped_bytes -= length;
    return Refuse(Status::NoSpace("shared memory past the server's limit of " +
                                  std::to_string(max_mapped_bytes_) + " bytes"));
  }
  void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    counters_->shm_mapped_bytes -= length;
    return Refuse(Status::NoSpace("cannot map " + std::to_string(length) +
                                  " bytes of shared memory: " + std::strerror(err)));
  }
  counters_->shm_regions++;
  const uint32_t id = next_id_++;
  regions_[id] = Region{static_cast<uint8_t*>(base), length};
  return id;
}

Status ShmRegions::Unregister(uint32_t region_id) {
  auto it = regions_.find(region_id);
  if (it == regions_.end()) {
    return Status::NotFound("no shared-memory region " + std::to_string(region_id));
  }
  Unmap(it->second);
  regions_.erase(it);
  return Status::Ok();
}

Result<std::span<uint8_t>> ShmRegions::Find(const protocol::ShmRange& range) const {
  auto it = regions_.find(range.region_id);
  if (it == regions_.end()) {
    return Status::NotFound("no shared-memory region " + std::to_string(range.region_id) +
                            " on this connection");
  }
  const Region& r = it->second;
  if (range.length > r.length || range.offset > r.length - range.length) {
    return Status::Invalid("bytes " + std::to_string(range.offset) + "+" +
                           std::to_string(range.length) + " lie outside region " +
                           std::to_string(range.region_id) + " of " + std::to_string(r.length) +
                           " bytes");
  }
  return std::span<uint8_t>(r.base + range.offset, range.length);
}

}  // namespace ctxstore::server
