#include "engine/flash/recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/check.h"

namespace ctxstore::engine {
namespace {

constexpr const char* kSuperblockFileName = "SUPERBLOCK";

}  // namespace

Recovery::Recovery(Device* device, std::string data_dir, Env* env)
    : device_(device), dir_(std::move(data_dir)), env_(env) {}

Status Recovery::OpenStore() {
  started_ms_ = env_->MonotonicMs();
  const bool existed = device_->FileExists(dir_);
  CTX_RETURN_IF_ERROR(device_->CreateDir(dir_));
  // A new folder's name is durable only once its parent is synced: without
  // this, a power cut after the first start could take the whole store
  // with it, synced segments and all.
  if (!existed) CTX_RETURN_IF_ERROR(device_->SyncDir(ParentDir(dir_)));
  auto names = device_->ListDir(dir_);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    uint64_t id = 0;
    if (!ParseSegmentFileName(name, &id)) continue;
    // The engine never names a segment so: its records could not be indexed.
    if (id == 0 || id > kMaxSegmentId) {
      return Status::Corrupt(dir_ + "/" + name + ": segment id out of range (1 to " +
                             std::to_string(kMaxSegmentId) + ")");
    }
    segment_ids_.push_back(id);
  }
  std::sort(segment_ids_.begin(), segment_ids_.end());

  // Superblock: identifies the store and its format.
  const std::string sb_path = dir_ + "/" + kSuperblockFileName;
  if (device_->FileExists(sb_path)) {
    auto data = device_->ReadFile(sb_path);
    if (!data.ok()) return data.status();
    auto sb = ParseSuperblock(*data);
    if (!sb.ok()) return Status(sb.status().code(), sb_path + ": " + sb.status().message());
    store_id_ = sb->store_id;
    return Status::Ok();
  }
  if (!segment_ids_.empty()) {
    return Status::Corrupt(dir_ + " has segments but no " + kSuperblockFileName);
  }
  store_id_ = env_->RandomU64() ^ env_->WallClockMs();
  return device_->WriteFileAtomic(sb_path, EncodeSuperblock(store_id_, env_->WallClockMs()));
}

Result<RecoveredState> Recovery::Replay(const NamespaceExists& namespace_exists,
                                        MetaInterner* interner) {
  namespace_exists_ = namespace_exists;
  interner_ = interner;
  RecoveredState state;
  CTX_RETURN_IF_ERROR(OpenSegments(&state));
  uint64_t replay_segment = 0, replay_offset = 0, max_seq = 0;
  state.from_checkpoint = LoadCheckpoint(&state, &replay_segment, &replay_offset, &max_seq);
  auto replayed = Scan(&state, replay_segment, replay_offset, &max_seq);
  if (!replayed.ok()) return replayed.status();
  tombstones_.clear();
  state.next_seq = max_seq + 1;
  state.needs_checkpoint = !state.from_checkpoint || *replayed > 0;
  state.recovery_ms = env_->MonotonicMs() - started_ms_;
  spdlog::info(
      "recovered {} objects from {} segments in {} ms ({}; {} corrupt and {} torn records skipped)",
      state.index.size(), state.segments.size(), state.recovery_ms,
      state.from_checkpoint ? "checkpoint + scan" : "full scan", state.corrupt_records_skipped,
      state.torn_records_skipped);
  return state;
}

Status Recovery::OpenSegments(RecoveredState* state) {
  for (uint64_t id : segment_ids_) {
    auto seg = Segment::Open(device_, dir_, id, store_id_);
    if (!seg.ok()) return seg.status();
    state->segments[id] = *seg;
    state->flash_bytes += (*seg)->end_offset();
    state->next_segment_id = std::max(state->next_segment_id, id + 1);
  }
  return Status::Ok();
}

bool Recovery::LoadCheckpoint(RecoveredState* state, uint64_t* replay_segment,
                              uint64_t* replay_offset, uint64_t* max_seq) {
  auto reader = CheckpointReader::Open(device_, dir_ + "/" + kCheckpointFileName);
  Status status = reader.ok() ? Status::Ok() : reader.status();
  if (status.ok() && (*reader)->header().store_id != store_id_) {
    status = Status::Corrupt("belongs to another store");
  } else if (status.ok() && (*reader)->header().replay_segment_id > kMaxSegmentId + 1) {
    // One past the last id is the replay position of a store that used
    // them all; further would leave no id for a new segment.
    status = Status::Corrupt("replay segment id out of range");
  }
  if (status.ok()) status = InstallCheckpointEntries(state, reader->get());
  if (!status.ok()) {
    if (status.code() != StatusCode::kNotFound) {
      spdlog::warn("ignoring checkpoint ({}); scanning all segments", status.ToString());
    }
    return false;
  }
  const Checkpoint& cp = (*reader)->header();
  *replay_segment = cp.replay_segment_id;
  // The replay segment may never have been created (its creation failed):
  // new segments must still come after it, or the next recovery would skip
  // them, and must never reuse an id that the checkpoint's entries name.
  state->next_segment_id = std::max(state->next_segment_id, *replay_segment + 1);
  *replay_offset = cp.replay_offset;
  *max_seq = cp.next_seq == 0 ? 0 : cp.next_seq - 1;
  return true;
}

Status Recovery::InstallCheckpointEntries(RecoveredState* state, CheckpointReader* reader) {
  state->index.reserve(reader->entry_count());  // no rehash while loading
  CheckpointEntryView ce;
  while (true) {
    auto more = reader->Next(&ce);
    if (!more.ok()) {
      // Entries read so far are dropped: the scan starts from nothing.
      state->index = Index();
      return more.status();
    }
    if (!*more) return Status::Ok();
    InstallCheckpointEntry(state, ce);
  }
}

void Recovery::InstallCheckpointEntry(RecoveredState* state, const CheckpointEntryView& ce) {
  if (ce.key.size() <= kIndexKeyPrefix) return;
  if (!namespace_exists_(IndexKeyNamespace(ce.key))) return;  // deleted
  auto seg = state->segments.find(ce.segment_id);
  if (seg == state->segments.end()) return;  // reclaimed since
  // The checkpoint verified, but an entry must still describe a record
  // this engine writes, inside its segment, or reading it would fail in
  // ways a read does not expect (an O_DIRECT read off a block, a value
  // over 4 GiB).
  const uint64_t key_len = ce.key.size() - kIndexKeyPrefix;
  if (key_len > kMaxKeyBytes || ce.value_len > kMaxRecordValueBytes) return;
  if ((ce.flags & ~kRecordFlagSealed) != 0) return;
  const RecordLayout layout =
      ComputeLayout(RecordHeadBytes(key_len, ce.attrs.size(), ce.flags), ce.value_len);
  const uint64_t end = seg->second->end_offset();
  ObjectMeta meta;
  if (ce.record_offset < kSegmentHeaderBytes || ce.record_offset > end ||
      layout.record_len > end - ce.record_offset ||
      (!layout.packed && ce.record_offset % kBlockSize != 0) ||
      !DecodeRecordAttrs(ce.attrs, &meta).ok()) {
    return;
  }
  auto [it, inserted] = state->index.try_emplace(ce.key);
  if (!inserted && it->second.seq >= ce.seq) return;
  RecordHeader h{};
  h.seq = ce.seq;
  h.value_len = ce.value_len;
  h.value_xxh3 = ce.value_xxh3;
  h.created_ms = ce.created_ms;
  h.expires_ms = ce.expires_ms;
  h.flags = ce.flags;
  Install(it, h, std::move(meta), ce.segment_id, ce.record_offset);
}

Result<uint64_t> Recovery::Scan(RecoveredState* state, uint64_t replay_segment,
                                uint64_t replay_offset, uint64_t* max_seq) {
  uint64_t replayed = 0;
  for (auto& [id, seg] : state->segments) {
    if (id < replay_segment) continue;
    const uint64_t start =
        id == replay_segment ? std::max(replay_offset, kSegmentHeaderBytes) : kSegmentHeaderBytes;
    auto size = seg->file()->Size();
    if (!size.ok()) return size.status();
    SegmentScanner scanner(seg.get(), start, *size);
    SegmentScanner::Item item;
    while (true) {
      auto more = scanner.Next(&item);
      if (!more.ok()) return more.status();
      if (!*more) break;
      *max_seq = std::max(*max_seq, item.header.seq);
      Apply(state, item, id);
      ++replayed;
    }
    state->corrupt_records_skipped += scanner.corrupt_skipped();
    state->torn_records_skipped += scanner.torn_skipped();
  }
  return replayed;
}

void Recovery::Apply(RecoveredState* state, const SegmentScanner::Item& item, uint64_t segment_id) {
  const RecordHeader& h = item.header;
  // Records of a deleted namespace are skipped: ids are never reused.
  if (!namespace_exists_(h.namespace_id)) return;
  std::string key = IndexKey(h.namespace_id, item.key).str();
  auto it = state->index.find(key);
  // A newer version is known. On a tie the later segment wins: an equal
  // seq is the same object written again (carried out of a bad or
  // reclaimed segment, or retried after a failed write), and the later
  // copy is the one that was trusted last.
  if (it != state->index.end() && it->second.seq > h.seq) return;
  if (h.flags & kRecordFlagTombstone) {
    if (it != state->index.end()) state->index.erase(it);
    uint64_t& seq = tombstones_[key];
    seq = std::max(seq, h.seq);
    return;
  }
  if (auto t = tombstones_.find(key); t != tombstones_.end() && t->second > h.seq) return;
  ObjectMeta meta;
  if (!DecodeRecordAttrs(item.attrs, &meta).ok()) {
    ++state->corrupt_records_skipped;  // its checksum passed: a writer bug, not a torn write
    return;
  }
  if (it == state->index.end()) it = state->index.try_emplace(key).first;
  Install(it, h, std::move(meta), segment_id, item.offset);
}

void Recovery::Install(Index::iterator it, const RecordHeader& h, ObjectMeta meta,
                       uint64_t segment_id, uint64_t offset) {
  CTX_CHECK(segment_id != 0 && segment_id <= UINT32_MAX && offset <= UINT32_MAX);
  Entry& e = it->second;
  e.Reset();
  e.seq = h.seq;
  e.set_value_len(h.value_len);
  e.value_xxh3 = h.value_xxh3;
  e.created_ms = h.created_ms;
  e.expires_ms = h.expires_ms;
  e.meta = interner_->Make(std::move(meta));
  e.sealed = (h.flags & kRecordFlagSealed) != 0;
  e.segment_id = static_cast<uint32_t>(segment_id);
  e.record_offset = static_cast<uint32_t>(offset);
}

}  // namespace ctxstore::engine
