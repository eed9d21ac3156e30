#include "crash_sim/taint.h"

#include "engine/flash/record.h"
#include "engine/types.h"

namespace ctxstore::engine::crash_sim {

std::vector<std::string> RecordKeysOverlapping(std::span<const uint8_t> bytes, uint64_t at,
                                               uint64_t from, uint64_t to) {
  std::vector<std::string> keys;
  // Records start on 64-byte boundaries after the segment's header block.
  uint64_t pos = at < kSegmentHeaderBytes ? kSegmentHeaderBytes - at : 0;
  while (pos + kRecordHeaderSize <= bytes.size()) {
    RecordHeader h{};
    std::string_view key, ext;
    if (!ParseRecordHeader(bytes.subspan(pos), &h, &key, &ext).ok()) {
      pos += kRecordAlignment;
      continue;
    }
    const uint64_t start = at + pos, end = start + h.record_len;
    if (start < to && from < end && h.namespace_id == kDefaultNamespaceId) {
      keys.emplace_back(key);
    }
    pos += std::max<uint64_t>(h.record_len, kRecordAlignment);
  }
  return keys;
}

void TaintTracker::OnFault(const FaultEvent& event) {
  switch (event.kind) {
    case FaultEventKind::kCorruptRead:
      if (recovering_) TaintRecordsInFile(event.path, event.offset, event.offset + 1);
      return;
    case FaultEventKind::kMisdirectedFrom:
      Taint(RecordKeysOverlapping(event.data, event.offset, event.offset,
                                  event.offset + event.length));
      return;
    case FaultEventKind::kMisdirectedTo:
      TaintRecordsInFile(event.path, event.offset, event.offset + event.length);
      return;
    case FaultEventKind::kLostWrite:
      Taint(RecordKeysOverlapping(event.data, event.offset, event.offset,
                                  event.offset + event.length));
      return;
    case FaultEventKind::kBitRot:
      TaintRecordsInFile(event.path, event.offset, event.offset + 1);
      return;
  }
}

void TaintTracker::TaintRecordsInFile(const std::string& path, uint64_t from, uint64_t to) {
  auto content = base_->ReadFile(path);
  if (!content.ok()) return;
  const auto* p = reinterpret_cast<const uint8_t*>(content->data());
  Taint(RecordKeysOverlapping({p, content->size()}, 0, from, to));
}

void TaintTracker::Taint(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (!model_->Tainted(key)) ++keys_tainted_;
    model_->Taint(key);
  }
}

}  // namespace ctxstore::engine::crash_sim
