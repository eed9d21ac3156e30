#include "engine/flash/checkpoint.h"

#include <cstring>

#include "common/byte_io.h"
#include "common/clock.h"
#include "common/hash.h"

namespace ctxstore::engine {

Status WriteCheckpoint(Device* device, const std::string& path, const Checkpoint& cp) {
  std::string out;
  out.reserve(sizeof(CheckpointHeader) + cp.entries.size() * (kCheckpointEntryFixedBytes + 64) + 8);
  CheckpointHeader h{};
  h.magic = kCheckpointMagic;
  h.version = kCheckpointVersion;
  h.store_id = cp.store_id;
  h.entry_count = cp.entries.size();
  h.next_seq = cp.next_seq;
  h.replay_segment_id = cp.replay_segment_id;
  h.replay_offset = cp.replay_offset;
  h.created_ms = cp.created_ms != 0 ? cp.created_ms : WallClockMs();
  out.append(reinterpret_cast<const char*>(&h), sizeof(h));
  ByteWriter w(&out);
  for (const CheckpointEntry& e : cp.entries) {
    w.Put(e.seq);
    w.Put(e.segment_id);
    w.Put(e.record_offset);
    w.Put(e.value_len);
    w.Put(e.value_xxh3);
    w.Put(e.created_ms);
    w.Put(e.expires_ms);
    w.Put(e.flags);
    w.PutShortString(e.key);
    w.PutShortString(e.attrs);
  }
  w.Put(Xxh3(out.data(), out.size()));
  return device->WriteFileAtomic(path, out);
}

Result<Checkpoint> ReadCheckpoint(Device* device, const std::string& path) {
  if (!device->FileExists(path)) return Status::NotFound("no checkpoint");
  auto data = device->ReadFile(path);
  if (!data.ok()) return data.status();
  const std::string& d = *data;
  if (d.size() < sizeof(CheckpointHeader) + 8) return Status::Corrupt("checkpoint too short");
  uint64_t stored = 0;
  std::memcpy(&stored, d.data() + d.size() - 8, 8);
  if (Xxh3(d.data(), d.size() - 8) != stored)
    return Status::Corrupt("checkpoint checksum mismatch");
  CheckpointHeader h{};
  std::memcpy(&h, d.data(), sizeof(h));
  if (h.magic != kCheckpointMagic || h.version != kCheckpointVersion) {
    return Status::Corrupt("checkpoint has a bad magic or version");
  }
  Checkpoint cp;
  cp.store_id = h.store_id;
  cp.next_seq = h.next_seq;
  cp.replay_segment_id = h.replay_segment_id;
  cp.replay_offset = h.replay_offset;
  ByteReader r(std::string_view(d).substr(sizeof(h), d.size() - sizeof(h) - 8));
  if (h.entry_count > r.remaining() / (kCheckpointEntryFixedBytes + 2 + 1)) {
    return Status::Corrupt("checkpoint entry count exceeds its size");
  }
  cp.entries.resize(h.entry_count);
  for (CheckpointEntry& e : cp.entries) {
    e.seq = r.Get<uint64_t>();
    e.segment_id = r.Get<uint64_t>();
    e.record_offset = r.Get<uint64_t>();
    e.value_len = r.Get<uint64_t>();
    e.value_xxh3 = r.Get<uint64_t>();
    e.created_ms = r.Get<uint64_t>();
    e.expires_ms = r.Get<uint64_t>();
    e.flags = r.Get<uint16_t>();
    e.key = std::string(r.GetShortString());
    e.attrs = std::string(r.GetShortString());
  }
  if (!r.ok() || r.remaining() != 0) return Status::Corrupt("checkpoint entries malformed");
  return cp;
}

}  // namespace ctxstore::engine
