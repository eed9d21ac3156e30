#include "engine/options.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/units.h"
#include "engine/dram/arena.h"
#include "engine/flash/record.h"

namespace ctxstore::engine {

Status Normalize(EngineOptions* o) {
  if (o->memory_bytes < 4 * Arena::kPageSize) return Status::Invalid("memory size too small");
  if (o->disk_bytes < 4 * kMiB) return Status::Invalid("disk size must be at least 4 MiB");
  if (o->segment_bytes == 0) {
    o->segment_bytes = std::clamp<uint64_t>(o->disk_bytes / 16, 1 * kMiB, 256 * kMiB);
  }
  // Index entries hold record offsets and value lengths in 32 bits.
  o->segment_bytes = RoundUpToBlock(std::min<uint64_t>(o->segment_bytes, 1 * kGiB));
  // A value must fit in DRAM (it is received there) and leave room on flash.
  const uint64_t value_cap = std::min({o->memory_bytes, o->disk_bytes / 2, uint64_t{UINT32_MAX}});
  if (o->max_value_bytes > value_cap) {
    spdlog::warn("max value lowered from {} to {} to fit the DRAM and flash sizes",
                 FormatSize(o->max_value_bytes), FormatSize(value_cap));
    o->max_value_bytes = value_cap;
  }
  return Status::Ok();
}
}  // namespace ctxstore::engine
