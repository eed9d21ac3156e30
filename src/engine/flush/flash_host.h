// The flusher's view of the engine (FlusherHost): the object table, the
// catalog and the segment set answer its questions. The flusher holds the
// engine's mutex for every call but NewSegment and SegmentIsBad.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/env.h"
#include "common/mutex.h"
#include "engine/context/catalog.h"
#include "engine/flash/segment_set.h"
#include "engine/flush/flusher.h"
#include "engine/index/object_table.h"

namespace ctxstore::engine {

class FlashHost : public FlusherHost {
 public:
  // mu is the engine's mutex, which guards the components.
  FlashHost(Mutex* mu, ObjectTable* objects, Catalog* catalog, SegmentSet* segments, Env* env)
      : mu_(mu), objects_(objects), catalog_(catalog), segments_(segments), env_(env) {}

  std::optional<uint64_t> CurrentSeqLocked(std::string_view index_key) override REQUIRES(mu_);
  void MarkDurableLocked(const FlushItem& item) override REQUIRES(mu_);
  Retry PrepareRetryLocked(FlushItem& item, bool closing) override REQUIRES(mu_);
  // Expired objects, lapsed leases and pins.
  void SweepExpiredLocked() override REQUIRES(mu_);
  void SnapshotLocked(Checkpoint* checkpoint) override REQUIRES(mu_);
  void AppendedLocked(uint64_t bytes) override REQUIRES(mu_);
  Result<std::shared_ptr<Segment>> NewSegment(uint64_t record_len) override EXCLUDES(mu_);
  bool SegmentIsBad(uint64_t segment_id) override;

 private:
  Mutex* const mu_;
  ObjectTable* const objects_ PT_GUARDED_BY(mu_);
  Catalog* const catalog_ PT_GUARDED_BY(mu_);
  SegmentSet* const segments_ PT_GUARDED_BY(mu_);
  Env* const env_;
};

}  // namespace ctxstore::engine
