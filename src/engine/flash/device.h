// All file I/O of the engine goes through a Device, so that tests can swap in
// a fault-injecting one (fault_device.h) that drops unsynced writes, tears
// writes, or fails with EIO / ENOSPC. The POSIX implementation does data I/O
// through io_uring (one ring per thread), with O_DIRECT where asked.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::engine {

// O_DIRECT needs offsets, buffer addresses and lengths aligned to this.
inline constexpr uint64_t kDirectIoAlignment = 4096;

class File {
 public:
  virtual ~File() = default;
  // Writes all buffers back to back starting at offset, completely or not at
  // all as far as the caller is concerned: a short write is an error (EIO).
  // ENOSPC maps to kNoSpace, other errors to kIoError.
  virtual Status WriteV(uint64_t offset, std::span<const iovec> buffers) = 0;
  // Reads up to buf.size() bytes at offset; returns the count (short at EOF).
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> buf) = 0;
  // fdatasync.
  virtual Status Sync() = 0;
  virtual Result<uint64_t> Size() = 0;
  virtual const std::string& path() const = 0;
};

struct OpenOptions {
  bool create = false;    // create if missing (O_CREAT)
  bool truncate = false;  // O_TRUNC
  bool direct = false;    // O_DIRECT: caller keeps to kDirectIoAlignment
  bool read_only = false;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& opts) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status CreateDir(const std::string& path) = 0;  // ok if it exists
  virtual Status SyncDir(const std::string& path) = 0;    // fsync of a directory
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;  // names only
  virtual bool FileExists(const std::string& path) = 0;

  // Crash-safe replace: writes path.tmp, fsyncs it, renames over path,
  // fsyncs the directory. Readers see the old or the new file, never a mix.
  Status WriteFileAtomic(const std::string& path, std::string_view data);
  // Reads a whole (small) file with buffered I/O.
  Result<std::string> ReadFile(const std::string& path);
};

// The folder a path is in ("." for a bare name): what SyncDir must sync to
// make a name in it durable.
std::string ParentDir(const std::string& path);

// The real device: POSIX files, data I/O through io_uring (falls back to
// pwritev/preadv where io_uring is unavailable).
std::unique_ptr<Device> NewPosixDevice();

}  // namespace ctxstore::engine
