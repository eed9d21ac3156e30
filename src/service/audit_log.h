// Security events as JSON lines in DATA_DIR/audit.log: failed
// authentication, refused ops, token and namespace changes, deletions.
// One object per line, {"ts": "2026-12-04T14:10:05.123Z", "event": ...,
// fields}. Rotated by size: audit.log -> audit.log.1 -> ... -> audit.log.N,
// the oldest dropped. Lines are written with one write(2) each, in the
// order events happen; they reach the page cache at once (a crash of the
// server loses none) and the disk with the kernel's writeback.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ctxstore/status.h"

namespace ctxstore::service {

inline constexpr const char* kAuditLogFileName = "audit.log";

struct AuditLogOptions {
  std::string dir;
  uint64_t max_file_bytes = 64ull << 20;  // rotate past this
  uint32_t keep_files = 4;                // rotated files kept besides audit.log
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(AuditLogOptions options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Thread-safe. A failure to write is logged (at most once a minute), not
  // returned: auditing never fails the request it describes.
  void Record(std::string_view event, nlohmann::json fields);

 private:
  explicit AuditLog(AuditLogOptions options) : options_(std::move(options)) {}
  std::string PathOf(uint32_t generation) const;
  Status OpenCurrentLocked();
  Status RotateLocked();

  const AuditLogOptions options_;
  std::mutex mu_;
  int fd_ = -1;
  uint64_t file_bytes_ = 0;
  uint64_t last_error_log_ms_ = 0;
};

}  // namespace ctxstore::service
