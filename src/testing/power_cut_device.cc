#include "testing/power_cut_device.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ctxstore::engine {
namespace {

Status CutStatus(const std::string& path) {
  return Status::IoError("power cut: " + path);
}

Status FaultStatus(DiskFault fault, const char* what, const std::string& path) {
  if (fault == DiskFault::kNoSpace) {
    return Status::NoSpace(std::string("injected ENOSPC on ") + what + " " + path + ": " +
                           std::strerror(ENOSPC));
  }
  return Status::IoError(std::string("injected EIO on ") + what + " " + path + ": " +
                         std::strerror(EIO));
}

// A directory as SyncDir and DirOf name it, so that the two compare equal.
std::string NormalDir(const std::string& dir) {
  std::string s = std::filesystem::path(dir).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s.empty() ? "." : s;
}

std::string DirOf(const std::string& path) {
  return NormalDir(std::filesystem::path(NormalDir(path)).parent_path().string());
}

uint64_t TotalBytes(std::span<const iovec> buffers) {
  uint64_t total = 0;
  for (const iovec& v : buffers) total += v.iov_len;
  return total;
}

// Through buffered opens of the base: undo records need not suit O_DIRECT.
Result<std::string> ReadRange(Device* base, const std::string& path, uint64_t offset,
                              uint64_t len) {
  OpenOptions opts;
  opts.read_only = true;
  auto file = base->Open(path, opts);
  if (!file.ok()) return file.status();
  std::string out(len, '\0');
  uint64_t done = 0;
  while (done < len) {
    auto n = (*file)->ReadAt(offset + done, {reinterpret_cast<uint8_t*>(out.data()) + done,
                                             static_cast<size_t>(len - done)});
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  out.resize(done);
  return out;
}

Status WriteRange(Device* base, const std::string& path, uint64_t offset, std::string_view bytes) {
  auto file = base->Open(path, OpenOptions{});
  if (!file.ok()) return file.status();
  if (bytes.empty()) return Status::Ok();
  iovec v{const_cast<char*>(bytes.data()), bytes.size()};
  return (*file)->WriteV(offset, {&v, 1});
}

uint64_t SizeOf(Device* base, const std::string& path) {
  OpenOptions opts;
  opts.read_only = true;
  auto file = base->Open(path, opts);
  if (!file.ok()) return 0;
  auto size = (*file)->Size();
  return size.ok() ? *size : 0;
}

}  // namespace

// Not in the anonymous namespace: PowerCutDevice befriends this name. Every
// call holds the device's lock across the base I/O (see the header).
class PowerCutFile : public File {
 public:
  PowerCutFile(PowerCutDevice* dev, uint64_t id, std::unique_ptr<File> base)
      : dev_(dev), id_(id), base_(std::move(base)) {}

  Status WriteV(uint64_t offset, std::span<const iovec> buffers) override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->cut_) return CutStatus(path());
    bool lands = false;
    if (dev_->AtCutPointLocked("write", path(), &lands)) {
      if (lands) (void)WriteLocked(offset, buffers);
      return dev_->CutAtOpLocked();
    }
    CTX_RETURN_IF_ERROR(dev_->FaultLocked(DiskOp::kWrite, path()));
    return WriteLocked(offset, buffers);
  }

  // Under the lock too: a read never sees a file halfway through a cut.
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> buf) override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->cut_) return CutStatus(path());
    CTX_RETURN_IF_ERROR(dev_->FaultLocked(DiskOp::kRead, path()));
    return base_->ReadAt(offset, buf);
  }

  Status Sync() override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->cut_) return CutStatus(path());
    bool lands = false;
    if (dev_->AtCutPointLocked("sync", path(), &lands)) {
      if (lands && base_->Sync().ok()) (void)dev_->SyncedLocked(id_, base_.get());
      return dev_->CutAtOpLocked();
    }
    CTX_RETURN_IF_ERROR(dev_->FaultLocked(DiskOp::kSync, path()));
    CTX_RETURN_IF_ERROR(base_->Sync());
    return dev_->SyncedLocked(id_, base_.get());
  }

  Result<uint64_t> Size() override {
    std::lock_guard lock(dev_->mu_);
    if (dev_->cut_) return CutStatus(path());
    return base_->Size();
  }

  const std::string& path() const override { return base_->path(); }

 private:
  Status WriteLocked(uint64_t offset, std::span<const iovec> buffers) {
    CTX_RETURN_IF_ERROR(dev_->SaveUndoLocked(id_, offset, TotalBytes(buffers)));
    return base_->WriteV(offset, buffers);
  }

  PowerCutDevice* const dev_;
  const uint64_t id_;
  const std::unique_ptr<File> base_;
};

PowerCutDevice::PowerCutDevice(Device* base, std::string stash_dir)
    : base_(base), stash_dir_(std::move(stash_dir)) {
  std::error_code ec;
  std::filesystem::remove_all(stash_dir_, ec);  // a previous run's links are not ours
  std::filesystem::create_directories(stash_dir_, ec);
}

PowerCutDevice::~PowerCutDevice() = default;

Result<CutReport> PowerCutDevice::CutPower(CrashTail tail, uint64_t seed) {
  std::lock_guard lock(mu_);
  rng_.seed(seed);
  return CutLocked(tail);
}

void PowerCutDevice::CutPowerAtOp(uint64_t n, CrashTail tail, uint64_t seed,
                                  std::function<void(const Result<CutReport>&)> on_cut) {
  std::lock_guard lock(mu_);
  cut_at_op_ = counts_.mutating_ops + std::max<uint64_t>(n, 1);
  cut_tail_ = tail;
  rng_.seed(seed);
  on_cut_ = std::move(on_cut);
}

void PowerCutDevice::AddFault(DiskOp op, DiskFault fault, std::string path_substring) {
  std::lock_guard lock(mu_);
  rules_.push_back(Rule{op, fault, std::move(path_substring)});
}

void PowerCutDevice::ClearFaults() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

PowerCutCounts PowerCutDevice::counts() const {
  std::lock_guard lock(mu_);
  PowerCutCounts c = counts_;
  c.unsynced_bytes = UnsyncedBytesLocked();
  c.pending_names = pending_names_.size();
  return c;
}

Status PowerCutDevice::FaultLocked(DiskOp op, const std::string& path) {
  for (const Rule& rule : rules_) {
    if (rule.op != op || path.find(rule.path_substring) == std::string::npos) continue;
    ++counts_.injected_faults;
    static constexpr const char* kOpNames[] = {"write", "sync", "read", "create"};
    return FaultStatus(rule.fault, kOpNames[static_cast<int>(op)], path);
  }
  return Status::Ok();
}

bool PowerCutDevice::AtCutPointLocked(const std::string& what, const std::string& path,
                                      bool* lands) {
  ++counts_.mutating_ops;
  if (cut_at_op_ == 0 || counts_.mutating_ops < cut_at_op_) return false;
  *lands = rng_() % 2 == 0;
  armed_report_.at_op = counts_.mutating_ops;
  armed_report_.at = what + " " + path + (*lands ? " (landed)" : " (did not land)");
  return true;
}

Status PowerCutDevice::CutAtOpLocked() {
  cut_at_op_ = 0;
  Result<CutReport> report = CutLocked(cut_tail_);
  if (report.ok()) {
    report->at_op = armed_report_.at_op;
    report->at = armed_report_.at;
  }
  if (on_cut_) on_cut_(report);
  return CutStatus(armed_report_.at);
}

Result<CutReport> PowerCutDevice::CutLocked(CrashTail tail) {
  if (cut_) return Status::Invalid("the power is already out");
  cut_ = true;
  CutReport report;
  report.unsynced_bytes = UnsyncedBytesLocked();
  // Contents first, on the files' present names (a name change does not
  // touch a file's bytes); then the names, newest change first.
  for (auto& [id, file] : files_) CTX_RETURN_IF_ERROR(RollBackFileLocked(file, tail, &report));
  for (auto it = pending_names_.rbegin(); it != pending_names_.rend(); ++it) {
    CTX_RETURN_IF_ERROR(UndoNameLocked(*it));
    ++report.names_undone;
  }
  pending_names_.clear();
  return report;
}

Status PowerCutDevice::RollBackFileLocked(Tracked& file, CrashTail tail, CutReport* report) {
  if (!base_->FileExists(file.path)) return Status::Ok();
  const bool had_undo = !file.undo.empty();
  for (auto it = file.undo.rbegin(); it != file.undo.rend(); ++it) {
    CTX_RETURN_IF_ERROR(WriteRange(base_, file.path, it->offset, it->old_bytes));
  }
  file.undo.clear();
  auto out = ApplyPowerLoss(base_, file.path, file.synced_size, tail, rng_);
  if (!out.ok()) return out.status();
  report->kept_bytes += out->kept_bytes;
  if (had_undo || out->tail_bytes > 0) ++report->files_rolled_back;
  return Status::Ok();
}

Status PowerCutDevice::UndoNameLocked(const NameChange& change) {
  switch (change.kind) {
    case NameChange::kCreated:
      return base_->FileExists(change.path) ? base_->Remove(change.path) : Status::Ok();
    case NameChange::kRemoved:
      return base_->Rename(change.stash, change.path);
    case NameChange::kRenamed:
      CTX_RETURN_IF_ERROR(base_->Rename(change.path, change.from));
      return change.stash.empty() ? Status::Ok() : base_->Rename(change.stash, change.path);
    case NameChange::kMadeDir: {
      std::error_code ec;
      std::filesystem::remove_all(change.path, ec);
      if (ec) return Status::IoError("remove " + change.path + ": " + ec.message());
      return Status::Ok();
    }
  }
  return Status::Ok();
}

uint64_t PowerCutDevice::UnsyncedBytesLocked() const {
  uint64_t total = 0;
  for (const auto& [id, file] : files_) {
    const uint64_t size = SizeOf(base_, file.path);
    if (size > file.synced_size) total += size - file.synced_size;
  }
  return total;
}

uint64_t PowerCutDevice::TrackLocked(const std::string& path, uint64_t synced_size) {
  const uint64_t id = next_id_++;
  files_[id] = Tracked{path, synced_size, {}};
  ids_[path] = id;
  return id;
}

Status PowerCutDevice::SaveUndoLocked(uint64_t id, uint64_t offset, uint64_t len) {
  auto it = files_.find(id);
  if (it == files_.end()) return Status::Ok();  // removed for good: nothing to restore
  Tracked& file = it->second;
  const uint64_t end = std::min(offset + len, file.synced_size);
  if (offset >= end) return Status::Ok();  // an append: the tail needs no undo record
  auto old_bytes = ReadRange(base_, file.path, offset, end - offset);
  if (!old_bytes.ok()) return old_bytes.status();
  file.undo.push_back(Undo{offset, std::move(*old_bytes)});
  return Status::Ok();
}

Status PowerCutDevice::SyncedLocked(uint64_t id, File* base_file) {
  auto size = base_file->Size();
  if (!size.ok()) return size.status();
  ++counts_.syncs;
  auto it = files_.find(id);
  if (it == files_.end()) return Status::Ok();  // removed for good
  it->second.synced_size = *size;
  it->second.undo.clear();
  return Status::Ok();
}

Result<std::string> PowerCutDevice::StashLocked(const std::string& path) {
  const std::string link = stash_dir_ + "/" + std::to_string(next_stash_++);
  if (::link(path.c_str(), link.c_str()) != 0) {
    return Status::IoError("link " + path + " -> " + link + ": " + std::strerror(errno));
  }
  return link;
}

// ---- names: every change is pending until its directory is synced

Result<std::unique_ptr<File>> PowerCutDevice::Open(const std::string& path,
                                                   const OpenOptions& opts) {
  std::lock_guard lock(mu_);
  if (cut_) return CutStatus(path);
  const bool existed = base_->FileExists(path);
  if ((opts.create && !existed) || (opts.truncate && existed)) {
    bool lands = false;
    if (AtCutPointLocked(existed ? "truncate" : "create", path, &lands)) {
      std::unique_ptr<File> ignored;
      if (lands) (void)OpenLocked(path, opts, &ignored);
      return CutAtOpLocked();
    }
    CTX_RETURN_IF_ERROR(FaultLocked(DiskOp::kCreate, path));
  }
  std::unique_ptr<File> file;
  CTX_RETURN_IF_ERROR(OpenLocked(path, opts, &file));
  return file;
}

Status PowerCutDevice::OpenLocked(const std::string& path, const OpenOptions& opts,
                                  std::unique_ptr<File>* out) {
  const bool existed = base_->FileExists(path);
  uint64_t id = 0;
  if (existed) {
    // A file first seen now (from before this device) is durable as it stands.
    auto it = ids_.find(path);
    id = it != ids_.end() ? it->second : TrackLocked(path, SizeOf(base_, path));
    if (opts.truncate) CTX_RETURN_IF_ERROR(SaveUndoLocked(id, 0, files_.at(id).synced_size));
  }
  auto file = base_->Open(path, opts);
  if (!file.ok()) return file.status();
  if (!existed) {
    id = TrackLocked(path, 0);
    pending_names_.push_back({NameChange::kCreated, DirOf(path), path, "", ""});
  }
  *out = std::make_unique<PowerCutFile>(this, id, std::move(*file));
  return Status::Ok();
}

Status PowerCutDevice::Remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (cut_) return CutStatus(path);
  bool lands = false;
  if (AtCutPointLocked("remove", path, &lands)) {
    if (lands) (void)RemoveLocked(path);
    return CutAtOpLocked();
  }
  return RemoveLocked(path);
}

Status PowerCutDevice::RemoveLocked(const std::string& path) {
  auto stash = StashLocked(path);
  // A missing file: the base's own error.
  if (!stash.ok()) return base_->FileExists(path) ? stash.status() : base_->Remove(path);
  if (Status st = base_->Remove(path); !st.ok()) {
    ::unlink(stash->c_str());
    return st;
  }
  if (auto it = ids_.find(path); it != ids_.end()) {
    files_.at(it->second).path = *stash;
    ids_[*stash] = it->second;
    ids_.erase(it);
  }
  pending_names_.push_back({NameChange::kRemoved, DirOf(path), path, "", *stash});
  return Status::Ok();
}

Status PowerCutDevice::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (cut_) return CutStatus(from);
  bool lands = false;
  if (AtCutPointLocked("rename", from + " -> " + to, &lands)) {
    if (lands) (void)RenameLocked(from, to);
    return CutAtOpLocked();
  }
  return RenameLocked(from, to);
}

// Only the target's directory is tracked: the engine renames within a folder.
Status PowerCutDevice::RenameLocked(const std::string& from, const std::string& to) {
  std::string replaced;
  if (base_->FileExists(to)) {
    auto stash = StashLocked(to);
    if (!stash.ok()) return stash.status();
    replaced = *stash;
  }
  if (Status st = base_->Rename(from, to); !st.ok()) {
    if (!replaced.empty()) ::unlink(replaced.c_str());
    return st;
  }
  if (auto it = ids_.find(to); it != ids_.end()) {
    files_.at(it->second).path = replaced;
    if (!replaced.empty()) ids_[replaced] = it->second;
    ids_.erase(it);
  }
  if (auto it = ids_.find(from); it != ids_.end()) {
    const uint64_t id = it->second;
    ids_.erase(it);
    ids_[to] = id;
    files_.at(id).path = to;
  }
  pending_names_.push_back({NameChange::kRenamed, DirOf(to), to, from, replaced});
  return Status::Ok();
}

Status PowerCutDevice::CreateDir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (cut_) return CutStatus(path);
  const std::string dir = NormalDir(path);
  if (base_->FileExists(dir)) return base_->CreateDir(dir);
  bool lands = false;
  if (AtCutPointLocked("mkdir", dir, &lands)) {
    if (lands) (void)CreateDirLocked(dir);
    return CutAtOpLocked();
  }
  return CreateDirLocked(dir);
}

Status PowerCutDevice::CreateDirLocked(const std::string& dir) {
  CTX_RETURN_IF_ERROR(base_->CreateDir(dir));
  pending_names_.push_back({NameChange::kMadeDir, DirOf(dir), dir, "", ""});
  return Status::Ok();
}

Status PowerCutDevice::SyncDir(const std::string& path) {
  std::lock_guard lock(mu_);
  const std::string dir = NormalDir(path);
  if (cut_) return CutStatus(dir);
  bool lands = false;
  if (AtCutPointLocked("syncdir", dir, &lands)) {
    if (lands && base_->SyncDir(dir).ok()) (void)SyncDirLocked(dir);
    return CutAtOpLocked();
  }
  CTX_RETURN_IF_ERROR(FaultLocked(DiskOp::kSync, dir));
  CTX_RETURN_IF_ERROR(base_->SyncDir(dir));
  return SyncDirLocked(dir);
}

// The directory's pending changes are durable now: removed and replaced
// files are gone for good.
Status PowerCutDevice::SyncDirLocked(const std::string& dir) {
  std::erase_if(pending_names_, [&](const NameChange& change) {
    if (change.dir != dir) return false;
    if (!change.stash.empty()) {
      if (auto it = ids_.find(change.stash); it != ids_.end()) {
        files_.erase(it->second);
        ids_.erase(it);
      }
      ::unlink(change.stash.c_str());
    }
    return true;
  });
  ++counts_.dir_syncs;
  return Status::Ok();
}

Result<std::vector<std::string>> PowerCutDevice::ListDir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (cut_) return CutStatus(path);
  return base_->ListDir(path);
}

bool PowerCutDevice::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  return !cut_ && base_->FileExists(path);
}

}  // namespace ctxstore::engine
