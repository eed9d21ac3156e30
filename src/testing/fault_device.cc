#include "testing/fault_device.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ctxstore::engine {
namespace {

constexpr uint64_t kSectorBytes = 512;

Status Crashed(const std::string& path) {
  return Status::IoError("crashed: " + path);
}

Status FaultStatus(FaultKind kind, const std::string& what, const std::string& path) {
  if (kind == FaultKind::kNoSpace) {
    return Status::NoSpace("injected ENOSPC on " + what + " " + path + ": " +
                           std::strerror(ENOSPC));
  }
  return Status::IoError("injected EIO on " + what + " " + path + ": " + std::strerror(EIO));
}

uint64_t TotalBytes(std::span<const iovec> buffers) {
  uint64_t total = 0;
  for (const iovec& v : buffers) total += v.iov_len;
  return total;
}

// The first `bytes` of buffers, as a new iovec list.
std::vector<iovec> Prefix(std::span<const iovec> buffers, uint64_t bytes) {
  std::vector<iovec> out;
  for (const iovec& v : buffers) {
    if (bytes == 0) break;
    uint64_t n = std::min<uint64_t>(v.iov_len, bytes);
    out.push_back({v.iov_base, n});
    bytes -= n;
  }
  return out;
}

// Writes through a plain descriptor: for torn prefixes on O_DIRECT files,
// which need not be aligned the way O_DIRECT demands, and for crash garbage.
Status RawWrite(const std::string& path, uint64_t offset, std::span<const iovec> buffers) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  Status st;
  for (const iovec& v : buffers) {
    const uint8_t* p = static_cast<const uint8_t*>(v.iov_base);
    size_t left = v.iov_len;
    while (left > 0) {
      ssize_t n = ::pwrite(fd, p, left, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        st = Status::IoError("pwrite " + path + ": " + std::strerror(n < 0 ? errno : EIO));
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    if (!st.ok()) break;
  }
  ::close(fd);
  return st;
}

}  // namespace

// Not in the anonymous namespace: FaultDevice befriends this name.
class FaultFile : public File {
 public:
  FaultFile(FaultDevice* dev, std::unique_ptr<File> base, bool direct)
      : dev_(dev), base_(std::move(base)), direct_(direct) {}

  // Every call holds the device mutex across the base I/O, so that Crash()
  // cannot interleave with a write that would land after the "power loss".
  Status WriteV(uint64_t offset, std::span<const iovec> buffers) override {
    std::unique_lock lock(dev_->mu_);
    ++dev_->writes_waiting_;
    dev_->writes_released_.wait(lock, [this] { return !dev_->hold_writes_ || dev_->crashed_; });
    --dev_->writes_waiting_;
    if (dev_->crashed_) return Crashed(path());
    FaultKind kind;
    if (dev_->TakeFault(FaultOp::kWrite, path(), &kind)) {
      if (kind != FaultKind::kTornWrite) return FaultStatus(kind, "write", path());
      uint64_t total = TotalBytes(buffers);
      uint64_t torn_bytes = 0;
      if (total > 0) torn_bytes = (dev_->rng_() % ((total - 1) / kSectorBytes + 1)) * kSectorBytes;
      if (torn_bytes > 0) {
        std::vector<iovec> prefix = Prefix(buffers, torn_bytes);
        // The fault is an EIO either way; a failing prefix write changes nothing.
        Status ignored = direct_ ? RawWrite(path(), offset, prefix) : base_->WriteV(offset, prefix);
        (void)ignored;
      }
      dev_->files_[path()].dirty = true;
      return Status::IoError("injected torn write on " + path() + ": " +
                             std::to_string(torn_bytes) + " of " + std::to_string(total) +
                             " bytes written");
    }
    Status st = base_->WriteV(offset, buffers);
    if (st.ok()) {
      ++dev_->writes_;
      dev_->files_[path()].dirty = true;
    }
    return st;
  }

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> buf) override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->crashed_) return Crashed(path());
    FaultKind kind;
    if (dev_->TakeFault(FaultOp::kRead, path(), &kind)) return FaultStatus(kind, "read", path());
    return base_->ReadAt(offset, buf);
  }

  Status Sync() override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->crashed_) return Crashed(path());
    FaultKind kind;
    if (dev_->TakeFault(FaultOp::kSync, path(), &kind)) return FaultStatus(kind, "sync", path());
    CTX_RETURN_IF_ERROR(base_->Sync());
    auto size = base_->Size();
    if (!size.ok()) return size.status();
    FaultDevice::FileState& state = dev_->files_[path()];
    state.synced_size = *size;
    state.dirty = false;
    ++dev_->syncs_;
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->crashed_) return Crashed(path());
    return base_->Size();
  }

  const std::string& path() const override { return base_->path(); }

 private:
  FaultDevice* const dev_;
  const std::unique_ptr<File> base_;
  const bool direct_;
};

FaultDevice::FaultDevice(Device* base, uint64_t seed) : base_(base), rng_(seed) {}

FaultDevice::~FaultDevice() = default;

void FaultDevice::InjectFault(FaultOp op, FaultKind kind, const std::string& path_substring,
                              int count) {
  if (count <= 0) return;
  std::lock_guard lock(mu_);
  rules_.push_back(Rule{op, kind, path_substring, count});
}

void FaultDevice::ClearFaults() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

void FaultDevice::HoldWrites() {
  std::lock_guard lock(mu_);
  hold_writes_ = true;
}

int FaultDevice::writes_waiting() const {
  std::lock_guard lock(mu_);
  return writes_waiting_;
}

void FaultDevice::ReleaseWrites() {
  {
    std::lock_guard lock(mu_);
    hold_writes_ = false;
  }
  writes_released_.notify_all();
}

bool FaultDevice::TakeFault(FaultOp op, const std::string& path, FaultKind* kind) {
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (it->op != op || path.find(it->path_substring) == std::string::npos) continue;
    *kind = it->kind;
    ++injected_;
    if (--it->remaining <= 0) rules_.erase(it);
    return true;
  }
  return false;
}

void FaultDevice::Crash(bool keep_torn_prefix) {
  std::lock_guard lock(mu_);
  if (crashed_) return;
  crashed_ = true;
  writes_released_.notify_all();  // held writes fail now
  // std::map iterates in path order, so the rng draws below are reproducible.
  for (const auto& [path, state] : files_) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;  // removed behind our back
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size <= state.synced_size) continue;
    uint64_t tail = size - state.synced_size;
    uint64_t keep = 0;
    if (keep_torn_prefix) keep = (rng_() % ((tail - 1) / kSectorBytes + 1)) * kSectorBytes;
    uint64_t new_size = state.synced_size + keep;
    if (::truncate(path.c_str(), static_cast<off_t>(new_size)) != 0) continue;
    // A torn prefix may end in a half-written sector: garbage, not data.
    if (keep > 0 && rng_() % 2 == 0) {
      uint8_t garbage[kSectorBytes];
      for (size_t i = 0; i < kSectorBytes; i += 8) {
        uint64_t r = rng_();
        std::memcpy(garbage + i, &r, 8);
      }
      iovec v{garbage, kSectorBytes};
      Status ignored = RawWrite(path, new_size - kSectorBytes, std::span<const iovec>(&v, 1));
      (void)ignored;
    }
  }
}

bool FaultDevice::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

uint64_t FaultDevice::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

uint64_t FaultDevice::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

uint64_t FaultDevice::injected_faults() const {
  std::lock_guard lock(mu_);
  return injected_;
}

Result<std::unique_ptr<File>> FaultDevice::Open(const std::string& path, const OpenOptions& opts) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(path);
  FaultKind kind;
  if (opts.create && TakeFault(FaultOp::kOpenCreate, path, &kind)) {
    return FaultStatus(kind, "create", path);
  }
  bool existed = base_->FileExists(path);
  auto file = base_->Open(path, opts);
  if (!file.ok()) return file.status();
  auto it = files_.find(path);
  if (!existed || opts.truncate) {
    files_[path] = FileState{};  // nothing of it is durable yet
  } else if (it == files_.end()) {
    // A file from before this device (e.g. before a simulated restart) is
    // taken as durable as it stands.
    auto size = (*file)->Size();
    if (!size.ok()) return size.status();
    files_[path] = FileState{*size, false};
  }
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, std::move(file).value(), opts.direct));
}

Status FaultDevice::Remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(path);
  CTX_RETURN_IF_ERROR(base_->Remove(path));
  files_.erase(path);
  return Status::Ok();
}

Status FaultDevice::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(from);
  CTX_RETURN_IF_ERROR(base_->Rename(from, to));
  auto it = files_.find(from);
  if (it == files_.end()) {
    files_.erase(to);  // replaced by an untracked (durable) file
  } else {
    files_[to] = it->second;
    files_.erase(it);
  }
  return Status::Ok();
}

Status FaultDevice::CreateDir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(path);
  return base_->CreateDir(path);
}

Status FaultDevice::SyncDir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(path);
  return base_->SyncDir(path);
}

Result<std::vector<std::string>> FaultDevice::ListDir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(path);
  return base_->ListDir(path);
}

bool FaultDevice::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  if (crashed_) return false;
  return base_->FileExists(path);
}

}  // namespace ctxstore::engine
