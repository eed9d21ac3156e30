// Startup: superblock, segments, checkpoint, then a scan of what was written
// after the checkpoint (or of everything, when there is no usable one).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "common/clock.h"
#include "engine/checkpoint.h"
#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

constexpr const char* kSuperblockFileName = "SUPERBLOCK";

uint64_t RandomStoreId() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ WallClockMs();
}

}  // namespace

void Engine::ApplyRecovered(const std::string& user_key, const std::string& ext,
                            const RecordHeader& h, uint64_t segment_id, uint64_t offset) {
  // Records of a deleted namespace are skipped: ids are never reused.
  if (FindNamespaceLocked(h.namespace_id) == nullptr) return;
  std::string key = IndexKey(h.namespace_id, user_key).str();
  auto it = index_.find(key);
  // A newer version is known. On a tie the later segment wins: an equal
  // seq is the same object written again (carried out of a bad or
  // reclaimed segment, or retried after a failed write), and the later
  // copy is the one that was trusted last.
  if (it != index_.end() && it->second.seq > h.seq) return;
  if (h.flags & kRecordFlagTombstone) {
    if (it != index_.end()) EraseLocked(it);
    // Remembered so that an older record of the key found later (one written
    // again after a device failure) cannot resurrect it.
    uint64_t& seq = recovery_tombstones_[key];
    seq = std::max(seq, h.seq);
    return;
  }
  if (auto t = recovery_tombstones_.find(key);
      t != recovery_tombstones_.end() && t->second > h.seq) {
    return;
  }
  ObjectMeta meta;
  if (!DecodeRecordExt(ext, &meta).ok()) {
    ++stats_.corrupt_records_skipped;  // its checksum passed: a writer bug, not a torn write
    return;
  }
  if (it == index_.end()) it = index_.try_emplace(key).first;
  InstallFlashOnlyLocked(it, h, std::move(meta), segment_id, offset);
}

void Engine::InstallFlashOnlyLocked(Index::iterator it, const RecordHeader& h, ObjectMeta meta,
                                    uint64_t segment_id, uint64_t offset) {
  Entry& e = it->second;
  ClearFlashLocked(e);
  e.Reset();
  e.seq = h.seq;
  e.set_value_len(h.value_len);
  e.value_xxh3 = h.value_xxh3;
  e.created_ms = h.created_ms;
  e.expires_ms = h.expires_ms;
  e.meta = meta_interner_.Make(std::move(meta));
  e.sealed = (h.flags & kRecordFlagSealed) != 0;
  SetFlashLocked(e, segment_id, offset);
}

void Engine::AttachRecoveredLocked() {
  // Oldest first, so that the eviction order starts out as write order.
  std::vector<Entry*> entries;
  entries.reserve(index_.size());
  for (auto&& [key, e] : index_) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [](Entry* a, Entry* b) { return a->seq < b->seq; });
  for (Entry* e : entries) AttachLocked(*e);
}

Status Engine::Recover() {
  uint64_t started_ms = MonotonicMs();
  const std::string& dir = options_.data_dir;
  CTX_RETURN_IF_ERROR(device_->CreateDir(dir));
  auto names = device_->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> ids;
  for (const std::string& name : *names) {
    uint64_t id = 0;
    if (!ParseSegmentFileName(name, &id)) continue;
    // The engine never names a segment so: its records could not be indexed.
    if (id == 0 || id > kMaxSegmentId) {
      return Status::Corrupt(dir + "/" + name + ": segment id out of range (1 to " +
                             std::to_string(kMaxSegmentId) + ")");
    }
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());

  // Superblock: identifies the store and its format.
  std::string sb_path = dir + "/" + kSuperblockFileName;
  if (device_->FileExists(sb_path)) {
    auto data = device_->ReadFile(sb_path);
    if (!data.ok()) return data.status();
    auto sb = ParseSuperblock(*data);
    if (!sb.ok()) return Status(sb.status().code(), sb_path + ": " + sb.status().message());
    store_id_ = sb->store_id;
  } else {
    if (!ids.empty()) return Status::Corrupt(dir + " has segments but no " + kSuperblockFileName);
    store_id_ = RandomStoreId();
    CTX_RETURN_IF_ERROR(
        device_->WriteFileAtomic(sb_path, EncodeSuperblock(store_id_, WallClockMs())));
  }

  CTX_RETURN_IF_ERROR(LoadCatalog());
  std::unique_lock lock(mu_);
  for (uint64_t id : ids) {
    auto seg = Segment::Open(device_, dir, id, store_id_);
    if (!seg.ok()) return seg.status();
    segments_[id] = *seg;
    flash_bytes_ += (*seg)->end_offset();
    next_segment_id_ = std::max(next_segment_id_, id + 1);
  }

  // Checkpoint: trusted for everything before its replay position.
  uint64_t replay_segment = 0, replay_offset = 0, max_seq = 0;
  auto cp = ReadCheckpoint(device_, dir + "/" + kCheckpointFileName);
  if (cp.ok() && cp->store_id != store_id_) {
    cp = Status::Corrupt("belongs to another store");
  } else if (cp.ok() && cp->replay_segment_id > kMaxSegmentId + 1) {
    // One past the last id is the replay position of a store that used
    // them all; further would leave no id for a new segment.
    cp = Status::Corrupt("replay segment id out of range");
  }
  if (cp.ok()) {
    index_.reserve(cp->entries.size());  // no rehash while loading
    for (CheckpointEntry& ce : cp->entries) {
      if (ce.key.size() <= kIndexKeyPrefix) continue;
      if (FindNamespaceLocked(IndexKeyNamespace(ce.key)) == nullptr) continue;  // deleted
      auto seg = segments_.find(ce.segment_id);
      if (seg == segments_.end()) continue;  // reclaimed since
      // The checkpoint verified, but an entry must still describe a record
      // this engine writes, inside its segment, or reading it would fail
      // in ways a read does not expect (an O_DIRECT read off a block, a
      // value over 4 GiB).
      const uint64_t key_len = ce.key.size() - kIndexKeyPrefix;
      if (key_len > kMaxKeyBytes || ce.value_len > kMaxRecordValueBytes) continue;
      if ((ce.flags & ~kRecordFlagSealed) != 0) continue;
      RecordLayout layout =
          ComputeLayout(RecordHeadBytes(key_len, ce.ext.size(), ce.flags), ce.value_len);
      const uint64_t end = seg->second->end_offset();
      ObjectMeta meta;
      if (ce.record_offset < kSegmentHeaderBytes || ce.record_offset > end ||
          layout.record_len > end - ce.record_offset ||
          (!layout.packed && ce.record_offset % kBlockSize != 0) ||
          !DecodeRecordExt(ce.ext, &meta).ok()) {
        continue;
      }
      auto [it, inserted] = index_.try_emplace(std::move(ce.key));
      if (!inserted && it->second.seq >= ce.seq) continue;
      RecordHeader h{};
      h.seq = ce.seq;
      h.value_len = ce.value_len;
      h.value_xxh3 = ce.value_xxh3;
      h.created_ms = ce.created_ms;
      h.expires_ms = ce.expires_ms;
      h.flags = ce.flags;
      InstallFlashOnlyLocked(it, h, std::move(meta), ce.segment_id, ce.record_offset);
    }
    replay_segment = cp->replay_segment_id;
    // The replay segment may never have been created (its creation failed):
    // new segments must still come after it, or the next recovery would skip
    // them, and must never reuse an id that the checkpoint's entries name.
    next_segment_id_ = std::max(next_segment_id_, replay_segment + 1);
    replay_offset = cp->replay_offset;
    max_seq = cp->next_seq == 0 ? 0 : cp->next_seq - 1;
    stats_.recovered_from_checkpoint = true;
  } else if (cp.status().code() != StatusCode::kNotFound) {
    spdlog::warn("ignoring checkpoint ({}); scanning all segments", cp.status().ToString());
  }

  // Scan what the checkpoint does not cover.
  uint64_t replayed = 0;
  for (auto& [id, seg] : segments_) {
    if (id < replay_segment) continue;
    uint64_t start =
        id == replay_segment ? std::max(replay_offset, kSegmentHeaderBytes) : kSegmentHeaderBytes;
    auto size = seg->file()->Size();
    if (!size.ok()) return size.status();
    SegmentScanner scanner(seg.get(), start, *size);
    SegmentScanner::Item item;
    while (true) {
      auto more = scanner.Next(&item);
      if (!more.ok()) return more.status();
      if (!*more) break;
      max_seq = std::max(max_seq, item.header.seq);
      ApplyRecovered(item.key, item.ext, item.header, id, item.offset);
      ++replayed;
    }
    stats_.corrupt_records_skipped += scanner.corrupt_skipped();
    stats_.torn_records_skipped += scanner.torn_skipped();
  }
  recovery_tombstones_.clear();
  AttachRecoveredLocked();
  next_seq_ = max_seq + 1;
  // What was scanned is not in a checkpoint yet: write one at the next
  // opportunity (at the latest on Close), so the next start need not scan.
  if (!stats_.recovered_from_checkpoint || replayed > 0) changes_since_checkpoint_ = 1;
  stats_.recovered_objects = index_.size();
  stats_.recovery_ms = MonotonicMs() - started_ms;
  spdlog::info(
      "recovered {} objects from {} segments in {} ms ({}; {} corrupt and {} torn records skipped)",
      index_.size(), segments_.size(), stats_.recovery_ms,
      stats_.recovered_from_checkpoint ? "checkpoint + scan" : "full scan",
      stats_.corrupt_records_skipped, stats_.torn_records_skipped);
  return Status::Ok();
}

}  // namespace ctxstore::engine
