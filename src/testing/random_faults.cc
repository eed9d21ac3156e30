// FaultDevice's random faults (fault_plan.h): the draws, and what each
// silent fault does to the base device. The failing kinds (a failed sync, a
// torn write) are injected where the operation runs (fault_device.cc).
#include <algorithm>
#include <vector>

#include "testing/fault_device.h"

namespace ctxstore::engine {
namespace {

uint64_t TotalBytes(std::span<const iovec> buffers) {
  uint64_t total = 0;
  for (const iovec& v : buffers) total += v.iov_len;
  return total;
}

std::vector<uint8_t> Gather(std::span<const iovec> buffers) {
  std::vector<uint8_t> data;
  data.reserve(TotalBytes(buffers));
  for (const iovec& v : buffers) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    data.insert(data.end(), p, p + v.iov_len);
  }
  return data;
}

}  // namespace

bool FaultDevice::DrawFaultLocked(uint64_t one_in, const std::string& path) {
  if (one_in == 0 || (plan_.eligible && !plan_.eligible(path))) return false;
  return plan_rng_() % one_in == 0;
}

bool FaultDevice::DrawFailLocked(uint64_t one_in, const std::string& path) {
  if (one_in == 0 || (plan_.fails_eligible && !plan_.fails_eligible(path))) return false;
  return plan_rng_() % one_in == 0;
}

void FaultDevice::CorruptReadLocked(const std::string& path, uint64_t offset,
                                    std::span<uint8_t> bytes) {
  const uint64_t at = plan_rng_() % bytes.size();
  const uint8_t bit = static_cast<uint8_t>(1u << (plan_rng_() % 8));
  if (observer_ != nullptr) {
    observer_->OnFault({FaultEventKind::kCorruptRead, path, offset + at, 1, {}});
  }
  bytes[at] ^= bit;
  ++counts_.corrupt_reads;
}

Status FaultDevice::MisdirectLocked(const std::string& path, uint64_t offset,
                                    std::span<const iovec> buffers) {
  ++counts_.misdirected_writes;
  std::vector<uint8_t> data = Gather(buffers);
  // Where it lands: a whole block inside what an eligible file (this one
  // or another) holds now. A misdirected block write overwrites blocks; it
  // allocates none, so it may also vanish (a file without a whole block).
  std::vector<const std::string*> targets;
  for (const auto& [p, state] : files_) {
    if (!plan_.eligible || plan_.eligible(p)) targets.push_back(&p);
  }
  const std::string target = targets.empty() ? path : *targets[plan_rng_() % targets.size()];
  const uint64_t target_size = BaseSizeLocked(target);
  const uint64_t blocks = target_size / kDirectIoAlignment;
  const uint64_t land = blocks == 0 ? 0 : (plan_rng_() % blocks) * kDirectIoAlignment;
  const uint64_t len = std::min<uint64_t>(data.size(), target_size - land);
  if (observer_ != nullptr) {
    observer_->OnFault({FaultEventKind::kMisdirectedFrom, path, offset, data.size(), data});
    if (len > 0) observer_->OnFault({FaultEventKind::kMisdirectedTo, target, land, len, {}});
  }
  if (len > 0) {
    iovec v{data.data(), len};
    CTX_RETURN_IF_ERROR(WriteBaseLocked(target, land, std::span<const iovec>(&v, 1)));
  }
  // The intended place keeps its old bytes: zeros where the file had none
  // (its size still grows, as the file system allocated the blocks).
  CTX_RETURN_IF_ERROR(ZeroExtendLocked(path, offset + data.size()));
  return Status::Ok();  // as far as the caller can tell
}

Status FaultDevice::LoseWriteLocked(const std::string& path, uint64_t offset,
                                    std::span<const iovec> buffers) {
  ++counts_.lost_writes;
  const std::vector<uint8_t> data = Gather(buffers);
  if (observer_ != nullptr) {
    observer_->OnFault({FaultEventKind::kLostWrite, path, offset, data.size(), data});
  }
  // Nothing reaches the media; blocks past the end were allocated (zeros).
  CTX_RETURN_IF_ERROR(ZeroExtendLocked(path, offset + data.size()));
  return Status::Ok();  // as far as the caller can tell
}

void FaultDevice::MaybeRotLocked(const std::string& synced_path) {
  if (!DrawFaultLocked(plan_.bit_rot_one_in, synced_path)) return;
  // Which file: one whose synced part reaches past bit_rot_from_bytes.
  std::vector<std::pair<const std::string*, uint64_t>> targets;
  for (const auto& [p, state] : files_) {
    if (plan_.eligible && !plan_.eligible(p)) continue;
    if (state.synced_size > plan_.bit_rot_from_bytes) targets.emplace_back(&p, state.synced_size);
  }
  if (targets.empty()) return;
  const auto& [path, synced] = targets[plan_rng_() % targets.size()];
  const uint64_t at = plan_.bit_rot_from_bytes + plan_rng_() % (synced - plan_.bit_rot_from_bytes);
  const uint8_t bit = static_cast<uint8_t>(1u << (plan_rng_() % 8));
  OpenOptions opts;
  opts.read_only = true;
  auto file = base_->Open(*path, opts);
  uint8_t byte = 0;
  if (!file.ok() || !(*file)->ReadAt(at, {&byte, 1}).ok()) return;
  if (observer_ != nullptr) observer_->OnFault({FaultEventKind::kBitRot, *path, at, 1, {}});
  byte ^= bit;
  iovec v{&byte, 1};
  if (WriteBaseLocked(*path, at, std::span<const iovec>(&v, 1)).ok()) ++counts_.bit_rot;
}

Status FaultDevice::ZeroExtendLocked(const std::string& path, uint64_t end) {
  const uint64_t old_size = BaseSizeLocked(path);
  if (end <= old_size) return Status::Ok();
  std::vector<uint8_t> zeros(end - old_size, 0);
  iovec z{zeros.data(), zeros.size()};
  return WriteBaseLocked(path, old_size, std::span<const iovec>(&z, 1));
}

}  // namespace ctxstore::engine
