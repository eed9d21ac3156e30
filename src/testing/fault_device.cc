#include "testing/fault_device.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/hash.h"

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

uint64_t HashBuffers(std::span<const iovec> buffers) {
  Xxh3Stream h;
  for (const iovec& v : buffers) h.Update(v.iov_base, v.iov_len);
  return h.Digest();
}

}  // namespace

// Not in the anonymous namespace: FaultDevice befriends this name. Every
// call holds the device mutex across the base I/O, so that a crash cannot
// interleave with a write that would land after the "power loss".
class FaultFile : public File {
 public:
  FaultFile(FaultDevice* dev, std::unique_ptr<File> base) : dev_(dev), base_(std::move(base)) {}

  Status WriteV(uint64_t offset, std::span<const iovec> buffers) override {
    std::unique_lock lock(dev_->mu_);
    ++dev_->writes_waiting_;
    dev_->writes_released_.wait(lock, [this] { return !dev_->hold_writes_ || dev_->crashed_; });
    --dev_->writes_waiting_;
    Status st = WriteLocked(offset, buffers);
    dev_->log_.Add(DeviceOp::kWrite, path(), offset, TotalBytes(buffers), HashBuffers(buffers),
                   st.code());
    return st;
  }

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> buf) override {
    std::lock_guard lock(dev_->mu_);
    Result<size_t> n = ReadLocked(offset, buf);
    dev_->log_.Add(DeviceOp::kRead, path(), offset, buf.size(), n.ok() ? Xxh3(buf.data(), *n) : 0,
                   n.status().code());
    return n;
  }

  Status Sync() override {
    std::lock_guard lock(dev_->mu_);
    Status st = SyncLocked();
    dev_->log_.Add(DeviceOp::kSync, path(), 0, 0, 0, st.code());
    return st;
  }

  Result<uint64_t> Size() override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->crashed_) return Crashed(path());
    auto size = base_->Size();
    dev_->log_.Add(DeviceOp::kSize, path(), size.ok() ? *size : 0, 0, 0, size.status().code());
    return size;
  }

  const std::string& path() const override { return base_->path(); }

 private:
  Status WriteLocked(uint64_t offset, std::span<const iovec> buffers) {
    if (dev_->crashed_) return Crashed(path());
    bool lands = false;
    if (dev_->AtCrashPointLocked(DeviceOp::kWrite, path(), &lands)) {
      // What landed is unsynced: the power loss decides what of it stays.
      if (lands) (void)base_->WriteV(offset, buffers);
      dev_->CrashLocked(dev_->crash_at_tail_);
      return Crashed(path());
    }
    FaultKind kind;
    if (dev_->TakeFault(FaultOp::kWrite, path(), &kind)) {
      if (kind != FaultKind::kTornWrite) return FaultStatus(kind, "write", path());
      return TornWriteLocked(offset, buffers);
    }
    if (dev_->DrawFailLocked(dev_->plan_.torn_write_one_in, path())) {
      ++dev_->counts_.torn_writes;
      return TornWriteLocked(offset, buffers);
    }
    if (dev_->DrawFailLocked(dev_->plan_.write_error_one_in, path())) {
      ++dev_->counts_.write_errors;
      return FaultStatus(FaultKind::kIoError, "write", path());
    }
    if (dev_->DrawFailLocked(dev_->plan_.no_space_one_in, path())) {
      ++dev_->counts_.no_space;
      return FaultStatus(FaultKind::kNoSpace, "write", path());
    }
    if (dev_->DrawFaultLocked(dev_->plan_.misdirect_write_one_in, path())) {
      return dev_->MisdirectLocked(path(), offset, buffers);
    }
    if (dev_->DrawFaultLocked(dev_->plan_.lost_write_one_in, path())) {
      return dev_->LoseWriteLocked(path(), offset, buffers);
    }
    Status st = base_->WriteV(offset, buffers);
    if (st.ok()) ++dev_->writes_;
    return st;
  }

  Status TornWriteLocked(uint64_t offset, std::span<const iovec> buffers) {
    const uint64_t total = TotalBytes(buffers);
    uint64_t torn_bytes = 0;
    if (total > 0) torn_bytes = (dev_->rng_() % ((total - 1) / kSectorBytes + 1)) * kSectorBytes;
    if (torn_bytes > 0) {
      // Through a buffered open: the prefix need not suit O_DIRECT. The
      // fault is an EIO either way; a failing prefix write changes nothing.
      (void)dev_->WriteBaseLocked(path(), offset, Prefix(buffers, torn_bytes));
    }
    return Status::IoError("injected torn write on " + path() + ": " + std::to_string(torn_bytes) +
                           " of " + std::to_string(total) + " bytes written");
  }

  Result<size_t> ReadLocked(uint64_t offset, std::span<uint8_t> buf) {
    if (dev_->crashed_) return Crashed(path());
    FaultKind kind;
    if (dev_->TakeFault(FaultOp::kRead, path(), &kind)) return FaultStatus(kind, "read", path());
    Result<size_t> n = base_->ReadAt(offset, buf);
    if (n.ok() && *n > 0 && dev_->DrawFaultLocked(dev_->plan_.corrupt_read_one_in, path())) {
      dev_->CorruptReadLocked(path(), offset, buf.first(*n));
    }
    return n;
  }

  Status SyncLocked() {
    if (dev_->crashed_) return Crashed(path());
    bool lands = false;
    if (dev_->AtCrashPointLocked(DeviceOp::kSync, path(), &lands)) {
      if (lands && base_->Sync().ok()) (void)MarkSyncedLocked();
      dev_->CrashLocked(dev_->crash_at_tail_);
      return Crashed(path());
    }
    FaultKind kind;
    if (dev_->TakeFault(FaultOp::kSync, path(), &kind)) return FaultStatus(kind, "sync", path());
    if (dev_->DrawFailLocked(dev_->plan_.failed_sync_one_in, path())) {
      ++dev_->counts_.failed_syncs;
      // What it was to make durable reached the media, or not: either
      // way the caller was told it did not.
      if (dev_->plan_rng_() % 2 == 0 && base_->Sync().ok()) (void)MarkSyncedLocked();
      return Status::IoError("injected failed sync of " + path());
    }
    CTX_RETURN_IF_ERROR(base_->Sync());
    CTX_RETURN_IF_ERROR(MarkSyncedLocked());
    ++dev_->syncs_;
    dev_->MaybeRotLocked(path());
    return Status::Ok();
  }

  Status MarkSyncedLocked() {
    auto size = base_->Size();
    if (!size.ok()) return size.status();
    dev_->files_[path()].synced_size = *size;
    return Status::Ok();
  }

  FaultDevice* const dev_;
  const std::unique_ptr<File> base_;
};

FaultDevice::FaultDevice(Device* base, uint64_t seed)
    : base_(base), rng_(seed), plan_rng_(seed ^ 0x5bd1e995u), names_(base) {}

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

void FaultDevice::SetFaultPlan(FaultPlan plan, FaultObserver* observer) {
  std::lock_guard lock(mu_);
  plan_ = std::move(plan);
  observer_ = observer;
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

bool FaultDevice::AtCrashPointLocked(DeviceOp op, const std::string& path, bool* lands) {
  ++mutating_ops_;
  if (crash_at_op_ == 0 || mutating_ops_ < crash_at_op_) return false;
  *lands = plan_rng_() % 2 == 0;
  crash_point_ = CrashPoint{mutating_ops_, op, path, *lands};
  return true;
}

void FaultDevice::CrashAtOp(uint64_t n, CrashTail tail) {
  std::lock_guard lock(mu_);
  crash_at_op_ = mutating_ops_ + std::max<uint64_t>(n, 1);
  crash_at_tail_ = tail;
}

void FaultDevice::Crash(CrashTail tail) {
  std::lock_guard lock(mu_);
  CrashLocked(tail);
}

void FaultDevice::CrashLocked(CrashTail tail) {
  if (crashed_) return;
  crashed_ = true;
  writes_released_.notify_all();  // held writes fail now
  // Names first: a file whose remove is undone comes back with its
  // unsynced tail, which the power loss below then treats like any other.
  counts_.names_undone += names_.UndoAtCrash(rng_, &files_);
  // files_ iterates in path order, so the draws below are reproducible.
  for (const auto& [path, state] : files_) {
    auto out = ApplyPowerLoss(base_, path, state.synced_size, tail, rng_);
    if (!out.ok() || out->tail_bytes == 0) continue;
    ++(out->kept_bytes > 0 ? counts_.torn_tails : counts_.dropped_tails);
  }
}

bool FaultDevice::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

std::optional<CrashPoint> FaultDevice::crash_point() const {
  std::lock_guard lock(mu_);
  return crash_point_;
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

uint64_t FaultDevice::mutating_ops() const {
  std::lock_guard lock(mu_);
  return mutating_ops_;
}

FaultCounts FaultDevice::fault_counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

Status FaultDevice::WriteBaseLocked(const std::string& path, uint64_t offset,
                                    std::span<const iovec> buffers) {
  auto file = base_->Open(path, OpenOptions{});
  if (!file.ok()) return file.status();
  return (*file)->WriteV(offset, buffers);
}

uint64_t FaultDevice::BaseSizeLocked(const std::string& path) {
  OpenOptions opts;
  opts.read_only = true;
  auto file = base_->Open(path, opts);
  if (!file.ok()) return 0;
  auto size = (*file)->Size();
  return size.ok() ? *size : 0;
}

Result<std::unique_ptr<File>> FaultDevice::Open(const std::string& path, const OpenOptions& opts) {
  std::lock_guard lock(mu_);
  std::unique_ptr<File> file;
  Status st = OpenLocked(path, opts, &file);
  const bool creates = opts.create || opts.truncate;
  log_.Add(creates ? DeviceOp::kCreate : DeviceOp::kOpen, path, opts.truncate, opts.direct, 0,
           st.code());
  if (!st.ok()) return st;
  return file;
}

Status FaultDevice::OpenLocked(const std::string& path, const OpenOptions& opts,
                               std::unique_ptr<File>* out) {
  if (crashed_) return Crashed(path);
  const bool existed = base_->FileExists(path);
  bool lands = false;
  if ((opts.truncate || (opts.create && !existed)) &&
      AtCrashPointLocked(DeviceOp::kCreate, path, &lands)) {
    if (lands && base_->Open(path, opts).ok()) {
      files_[path] = TrackedFile{};
      if (!existed) names_.Created(path);
    }
    CrashLocked(crash_at_tail_);
    return Crashed(path);
  }
  FaultKind kind;
  if (opts.create && TakeFault(FaultOp::kOpenCreate, path, &kind)) {
    return FaultStatus(kind, "create", path);
  }
  auto file = base_->Open(path, opts);
  if (!file.ok()) return file.status();
  if (!existed) names_.Created(path);
  if (!existed || opts.truncate) {
    files_[path] = TrackedFile{};  // nothing of it is durable yet
  } else if (!files_.contains(path)) {
    // A file from before this device (e.g. before a simulated restart) is
    // taken as durable as it stands.
    auto size = (*file)->Size();
    if (!size.ok()) return size.status();
    files_[path] = TrackedFile{*size};
  }
  *out = std::make_unique<FaultFile>(this, std::move(file).value());
  return Status::Ok();
}

Status FaultDevice::Remove(const std::string& path) {
  std::lock_guard lock(mu_);
  Status st = [&] {
    if (crashed_) return Crashed(path);
    bool lands = false;
    if (AtCrashPointLocked(DeviceOp::kRemove, path, &lands)) {
      if (lands) (void)names_.Remove(path, &files_);
      CrashLocked(crash_at_tail_);
      return Crashed(path);
    }
    return names_.Remove(path, &files_);
  }();
  log_.Add(DeviceOp::kRemove, path, 0, 0, 0, st.code());
  return st;
}

Status FaultDevice::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  auto rename = [&] { return names_.Rename(from, to, &files_); };
  Status st = [&] {
    if (crashed_) return Crashed(from);
    bool lands = false;
    if (AtCrashPointLocked(DeviceOp::kRename, to, &lands)) {
      if (lands) (void)rename();
      CrashLocked(crash_at_tail_);
      return Crashed(from);
    }
    return rename();
  }();
  log_.Add(DeviceOp::kRename, from + " -> " + to, 0, 0, 0, st.code());
  return st;
}

Status FaultDevice::CreateDir(const std::string& path) {
  std::lock_guard lock(mu_);
  Status st = crashed_ ? Crashed(path) : base_->CreateDir(path);
  log_.Add(DeviceOp::kCreateDir, path, 0, 0, 0, st.code());
  return st;
}

Status FaultDevice::SyncDir(const std::string& path) {
  std::lock_guard lock(mu_);
  Status st = [&] {
    if (crashed_) return Crashed(path);
    bool lands = false;
    if (AtCrashPointLocked(DeviceOp::kSyncDir, path, &lands)) {
      if (lands && base_->SyncDir(path).ok()) names_.Synced(path);
      CrashLocked(crash_at_tail_);
      return Crashed(path);
    }
    if (DrawFailLocked(plan_.failed_sync_one_in, path)) {
      ++counts_.failed_syncs;
      if (plan_rng_() % 2 == 0 && base_->SyncDir(path).ok()) names_.Synced(path);
      return Status::IoError("injected failed sync of directory " + path);
    }
    CTX_RETURN_IF_ERROR(base_->SyncDir(path));
    names_.Synced(path);
    return Status::Ok();
  }();
  log_.Add(DeviceOp::kSyncDir, path, 0, 0, 0, st.code());
  return st;
}

Result<std::vector<std::string>> FaultDevice::ListDir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (crashed_) return Crashed(path);
  auto names = base_->ListDir(path);
  uint64_t h = 0;
  if (names.ok()) {
    for (const std::string& n : *names) h = Xxh3(n.data(), n.size(), h);
  }
  log_.Add(DeviceOp::kListDir, path, 0, names.ok() ? names->size() : 0, h, names.status().code());
  return names;
}

bool FaultDevice::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  const bool exists = !crashed_ && base_->FileExists(path);
  log_.Add(DeviceOp::kExists, path, exists, 0, 0, StatusCode::kOk);
  return exists;
}

}  // namespace ctxstore::engine
