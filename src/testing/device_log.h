// A running digest of every operation a device saw, in order: its kind,
// path, offset and length, a hash of the bytes written or returned, and its
// outcome. Two runs that did the same I/O end with the same digest; the
// crash simulator compares them to prove a seed reproduces bit for bit.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/hash.h"
#include "ctxstore/status.h"

namespace ctxstore::engine {

enum class DeviceOp {
  kOpen,
  kCreate,  // an open that creates or truncates
  kWrite,
  kRead,
  kSync,
  kSize,
  kRemove,
  kRename,
  kCreateDir,
  kSyncDir,
  kListDir,
  kExists,
};

const char* DeviceOpName(DeviceOp op);

class DeviceLog {
 public:
  void Add(DeviceOp op, std::string_view path, uint64_t offset, uint64_t length,
           uint64_t bytes_hash, StatusCode outcome) {
    const uint64_t fields[] = {
        digest_,    static_cast<uint64_t>(op),     Xxh3(path.data(), path.size()), offset, length,
        bytes_hash, static_cast<uint64_t>(outcome)};
    digest_ = Xxh3(fields, sizeof(fields));
    ++count_;
  }
  uint64_t digest() const { return digest_; }
  uint64_t count() const { return count_; }

 private:
  uint64_t digest_ = 0;
  uint64_t count_ = 0;
};

inline const char* DeviceOpName(DeviceOp op) {
  switch (op) {
    case DeviceOp::kOpen:
      return "open";
    case DeviceOp::kCreate:
      return "create";
    case DeviceOp::kWrite:
      return "write";
    case DeviceOp::kRead:
      return "read";
    case DeviceOp::kSync:
      return "sync";
    case DeviceOp::kSize:
      return "size";
    case DeviceOp::kRemove:
      return "remove";
    case DeviceOp::kRename:
      return "rename";
    case DeviceOp::kCreateDir:
      return "create-dir";
    case DeviceOp::kSyncDir:
      return "sync-dir";
    case DeviceOp::kListDir:
      return "list-dir";
    case DeviceOp::kExists:
      return "exists";
  }
  return "?";
}

}  // namespace ctxstore::engine
