#include "engine/flush/flash_host.h"

namespace ctxstore::engine {

std::optional<uint64_t> FlashHost::CurrentSeqLocked(std::string_view index_key) {
  return objects_->CurrentSeq(index_key);
}

void FlashHost::MarkDurableLocked(const FlushItem& item) {
  objects_->MarkDurable(item);
}

FlusherHost::Retry FlashHost::PrepareRetryLocked(FlushItem& item, bool closing) {
  return objects_->PrepareRetry(item, closing);
}

void FlashHost::SweepExpiredLocked() {
  const uint64_t now = env_->WallClockMs();
  objects_->SweepExpired(now);
  catalog_->SweepLapsedPins(now);
}

void FlashHost::SnapshotLocked(Checkpoint* checkpoint) {
  checkpoint->store_id = segments_->store_id();
  // Where recovery starts scanning when no segment is active (the flusher
  // names the active one's end otherwise).
  checkpoint->replay_segment_id = segments_->next_id();
  checkpoint->replay_offset = kSegmentHeaderBytes;
  objects_->AddToCheckpoint(checkpoint);
}

void FlashHost::AppendedLocked(uint64_t bytes) {
  segments_->Appended(bytes);
}

Result<std::shared_ptr<Segment>> FlashHost::NewSegment(uint64_t record_len) {
  MutexLock lock(mu_);
  return segments_->Create(record_len, mu_);
}

// IsBad reads an atomic: no mutex needed, and the flusher asks without it.
bool FlashHost::SegmentIsBad(uint64_t segment_id) NO_THREAD_SAFETY_ANALYSIS {
  return segments_->IsBad(segment_id);
}

}  // namespace ctxstore::engine
