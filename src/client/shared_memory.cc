#include "ctxstore/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace ctxstore {

Result<std::shared_ptr<SharedMemory>> SharedMemory::Create(size_t bytes) {
  static std::atomic<uint64_t> next_id{1};
  if (bytes == 0) return Status::Invalid("shared memory of 0 bytes");
  const int fd = ::memfd_create("ctxstore-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Status::NoSpace(std::string("memfd_create: ") + std::strerror(errno));
  // Sealed before it is mapped by anyone: a size that can never change.
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0 ||
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::NoSpace("cannot size shared memory of " + std::to_string(bytes) +
                           " bytes: " + std::strerror(err));
  }
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return Status::NoSpace("cannot map shared memory of " + std::to_string(bytes) +
                           " bytes: " + std::strerror(err));
  }
  return std::shared_ptr<SharedMemory>(
      new SharedMemory(fd, static_cast<uint8_t*>(base), bytes, next_id.fetch_add(1)));
}

SharedMemory::~SharedMemory() {
  ::munmap(base_, size_);
  ::close(fd_);
}

bool SharedMemory::Contains(const void* data, size_t len) const {
  const auto p = reinterpret_cast<uintptr_t>(data);
  const auto b = reinterpret_cast<uintptr_t>(base_);
  return p >= b && len <= size_ && p - b <= size_ - len;
}

}  // namespace ctxstore
