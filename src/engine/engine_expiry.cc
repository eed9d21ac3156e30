// Engine::SetExpiry (engine.h): a Redis front end's EXPIRE, PEXPIRE and
// PERSIST. Apart from engine.cc only to keep that file within the size limit.
//
// Objects are immutable and a record carries its expiry in its header, so a
// new expiry is a new version: the same value, checksum, metadata and
// creation time, with the next seq and the new expiry, queued for the
// flusher as a PUT's version is (FlushItem::ForPut, sealed as a PUT's is).
// Everything that already tells versions apart then does the rest: a newer
// seq wins at recovery (from the checkpoint or a scan), a queued older
// version is coalesced away unless a sync write or a FLUSH needs it, and
// an older version in flight no longer marks the entry durable
// (MarkDurable compares seqs). No format change.
//
// The version is written from the object's DRAM block. An object only on
// flash is read into DRAM first, as a GET promotes it (SegmentSet::Read:
// verified against its XXH3, opened if sealed): a dirty entry in DRAM is
// what the flusher, its retries and eviction already handle. Writing the
// new record from a private copy instead (as reclaim carries pinned
// objects) would leave a clean, evictable entry whose flash location names
// a record of another seq (a sealed record's AAD includes it), and an
// unpinned flash-only object that reclaim dropped meanwhile could come back
// at recovery from the copy.
#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "common/units.h"
#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

// Loading a flash-only object releases the mutex, and the object may change
// meanwhile; each try looks it up again. A replaced object is in DRAM (a
// PUT's version is), so a second try nearly always settles it.
constexpr int kMaxLoadTries = 3;

}  // namespace

Status Engine::SetExpiry(uint32_t ns, std::string_view key, uint64_t expires_ms, bool never_block) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  IndexKey ikey(ns, key);
  MutexLock lock(&mu_);
  // Once, as CommitPut does: waiting releases the mutex, and a promoted
  // object could be evicted again before the next try looked.
  queue_.WaitWhileCommitsPaused(&mu_);
  for (int tries = 0; tries < kMaxLoadTries; ++tries) {
    if (closed_) return Status::Unavailable("engine closed");
    Entry* e = objects_.FindVisible(ikey.view());
    if (e == nullptr) return Status::NotFound();
    if (e->dram()) return RewriteWithExpiry(*e, expires_ms);
    if (never_block) return Status::Busy("only on flash");
    CTX_RETURN_IF_ERROR(LoadForRewrite(*e));
  }
  return Status::Busy("the object kept changing while it was read from flash; try again");
}

Status Engine::RewriteWithExpiry(Entry& e, uint64_t expires_ms) {
  Namespace* ns = catalog_.Find(e.namespace_id);
  if (ns == nullptr) return Status::NotFound("namespace does not exist");
  // Never written in the clear when the namespace's key is not loaded: the
  // object is left as it was, as a PUT is refused.
  auto seal_key = catalog_.SealKey(*ns);
  if (!seal_key.ok()) return seal_key.status();
  // Written from this block, tail and all (a large clear record): CommitPut
  // and SegmentSet::Read zeroed the tail.
  std::shared_ptr<ArenaBlock> block = arena_->Share(e.dram());
  CTX_DCHECK(std::all_of(block->data() + e.value_len(), block->data() + block->size(),
                         [](uint8_t b) { return b == 0; }));
  objects_.SetExpiry(e, ns->KeptExpiry(expires_ms, NowMs()));
  queue_.Push(FlushItem::ForPut(e, e.index_key().str(), EncodeRecordAttrs(e.meta.get()),
                                std::move(block), std::move(*seal_key), nullptr));
  return Status::Ok();
}

Status Engine::LoadForRewrite(Entry& e) {
  const std::string key = e.index_key().str();
  const uint64_t seq = e.seq;
  // A GET's read: promoted into a free DRAM block when there is one.
  Result<ValueRef> value = segments_.Read(e, &mu_);
  if (!value.ok()) return value.status();
  auto unchanged_on_flash = [&]() REQUIRES(mu_) {
    const Entry* again = objects_.Find(key);
    return again != nullptr && again->seq == seq && !again->dram();
  };
  if (!unchanged_on_flash()) return Status::Ok();  // promoted, or changed: the caller looks again
  // Read into the heap: DRAM is full of unwritten data. Wait for a block as
  // a PUT does, then put the value there as the promotion would have.
  std::shared_ptr<ArenaBlock> block = objects_.Allocate(value->size, SpaceWaitMs(), &mu_);
  if (!block) {
    return Status::NoSpace("DRAM tier full of data not yet written to flash, pinned or leased (" +
                           FormatSize(arena_->used_bytes()) + " in use)");
  }
  if (!unchanged_on_flash()) return Status::Ok();
  std::memcpy(block->data(), value->data, value->size);
  std::memset(block->data() + value->size, 0, block->size() - value->size);
  Entry& entry = *objects_.Find(key);
  objects_.SetDram(entry, block.get());
  objects_.AddToLru(entry);
  return Status::Ok();
}

}  // namespace ctxstore::engine
