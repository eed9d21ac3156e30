#include "service/audit_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/clock.h"

namespace ctxstore::service {
namespace {

std::string IsoTimeUtc(uint64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03uZ", static_cast<unsigned>(ms % 1000));
  return buf;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditLogOptions options) {
  if (options.max_file_bytes == 0) return Status::Invalid("audit log: max_file_bytes is 0");
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  std::lock_guard lock(log->mu_);
  CTX_RETURN_IF_ERROR(log->OpenCurrentLocked());
  return log;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AuditLog::PathOf(uint32_t generation) const {
  std::string path = options_.dir + "/" + kAuditLogFileName;
  if (generation > 0) {
    // Appended piecewise: "." + std::to_string() trips g++ 12's -Wrestrict.
    path += '.';
    path += std::to_string(generation);
  }
  return path;
}

Status AuditLog::OpenCurrentLocked() {
  std::string path = PathOf(0);
  // Who can read the log learns token ids and key names: owner only.
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  struct stat st;
  file_bytes_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return Status::Ok();
}

Status AuditLog::RotateLocked() {
  ::close(fd_);
  fd_ = -1;
  // audit.log.N-1 -> audit.log.N, ..., audit.log -> audit.log.1.
  if (options_.keep_files == 0) {
    ::unlink(PathOf(0).c_str());
  } else {
    for (uint32_t g = options_.keep_files; g > 0; --g) {
      ::rename(PathOf(g - 1).c_str(), PathOf(g).c_str());  // a missing one is fine
    }
  }
  return OpenCurrentLocked();
}

void AuditLog::Record(std::string_view event, nlohmann::json fields) {
  const uint64_t now_ms = WallClockMs();
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = IsoTimeUtc(now_ms);
  line["event"] = std::string(event);
  for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  // Keys and names are arbitrary bytes: invalid UTF-8 becomes U+FFFD
  // instead of an exception.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  std::lock_guard lock(mu_);
  Status st;
  if (fd_ >= 0 && file_bytes_ > 0 && file_bytes_ + text.size() > options_.max_file_bytes) {
    st = RotateLocked();
  } else if (fd_ < 0) {
    st = OpenCurrentLocked();  // an earlier rotation failed to reopen: try again
  }
  if (st.ok()) {
    ssize_t n = ::write(fd_, text.data(), text.size());
    if (n == static_cast<ssize_t>(text.size())) {
      file_bytes_ += text.size();
      return;
    }
    st = Status::IoError(n < 0 ? std::strerror(errno) : "short write");
  }
  if (now_ms - last_error_log_ms_ >= 60'000) {
    last_error_log_ms_ = now_ms;
    spdlog::error("audit log {}: {} (event {} lost)", PathOf(0), st.ToString(), event);
  }
}

}  // namespace ctxstore::service
