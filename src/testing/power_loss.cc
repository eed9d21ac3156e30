#include "testing/power_loss.h"

#include <cstring>

namespace ctxstore::engine {
namespace {

constexpr uint64_t kSectorBytes = 512;
constexpr uint64_t kBlockBytes = 4096;

// Replaces the whole content of an existing file (a buffered open: the
// new size need not suit O_DIRECT).
Status Rewrite(Device* base, const std::string& path, std::string_view data) {
  OpenOptions opts;
  opts.truncate = true;
  auto file = base->Open(path, opts);
  if (!file.ok()) return file.status();
  if (data.empty()) return Status::Ok();
  iovec v{const_cast<char*>(data.data()), data.size()};
  return (*file)->WriteV(0, std::span<const iovec>(&v, 1));
}

void KeepTornPrefix(std::string* tail, std::mt19937_64& rng, PowerLossOutcome* out) {
  const uint64_t n = tail->size();
  const uint64_t keep = (rng() % ((n - 1) / kSectorBytes + 1)) * kSectorBytes;
  tail->resize(keep);
  // The sector being written when the power went: garbage, not data.
  if (keep > 0 && rng() % 2 == 0) {
    for (uint64_t i = keep - kSectorBytes; i < keep; i += 8) {
      const uint64_t r = rng();
      std::memcpy(tail->data() + i, &r, 8);
    }
    out->garbage = true;
  }
}

void KeepScatteredBlocks(std::string* tail, std::mt19937_64& rng) {
  const uint64_t blocks = (tail->size() + kBlockBytes - 1) / kBlockBytes;
  uint64_t end = 0;  // the end of the last block that survives
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint64_t from = b * kBlockBytes;
    const uint64_t len = std::min<uint64_t>(kBlockBytes, tail->size() - from);
    if (rng() % 2 == 0) {
      std::memset(tail->data() + from, 0, len);
    } else {
      end = from + len;
    }
  }
  tail->resize(end);
}

}  // namespace

const char* CrashTailName(CrashTail tail) {
  switch (tail) {
    case CrashTail::kDrop:
      return "drop";
    case CrashTail::kTornPrefix:
      return "torn-prefix";
    case CrashTail::kScattered:
      return "scattered";
    case CrashTail::kAny:
      return "any";
  }
  return "?";
}

Result<PowerLossOutcome> ApplyPowerLoss(Device* base, const std::string& path, uint64_t synced_size,
                                        CrashTail tail, std::mt19937_64& rng) {
  PowerLossOutcome out;
  if (!base->FileExists(path)) return out;
  {
    OpenOptions opts;
    opts.read_only = true;
    auto file = base->Open(path, opts);
    if (!file.ok()) return file.status();
    auto size = (*file)->Size();
    if (!size.ok()) return size.status();
    if (*size <= synced_size) return out;  // most files: nothing unsynced, nothing to read
  }
  auto content = base->ReadFile(path);
  if (!content.ok()) return content.status();
  if (content->size() <= synced_size) return out;
  std::string unsynced = content->substr(synced_size);
  out.tail_bytes = unsynced.size();
  if (tail == CrashTail::kAny) tail = static_cast<CrashTail>(rng() % 3);
  switch (tail) {
    case CrashTail::kDrop:
    case CrashTail::kAny:
      unsynced.clear();
      break;
    case CrashTail::kTornPrefix:
      KeepTornPrefix(&unsynced, rng, &out);
      break;
    case CrashTail::kScattered:
      KeepScatteredBlocks(&unsynced, rng);
      break;
  }
  out.kept_bytes = unsynced.size();
  content->resize(synced_size);
  content->append(unsynced);
  CTX_RETURN_IF_ERROR(Rewrite(base, path, *content));
  return out;
}

}  // namespace ctxstore::engine
