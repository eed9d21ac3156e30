// Fuzzes recovery: the input is one or several segment files, and
// optionally a checkpoint, that an Engine is opened on.
//
// Input: one control byte, then (with kWithCheckpoint) a u16 length and a
// CHECKPOINT file of that length, then the segment file
// (seg-000000000001.log of a store whose SUPERBLOCK the fuzzer writes).
// With kSeveralSegments, what follows the checkpoint is several segment
// files instead, each a u8 step and a u32 length, then that many bytes
// (cut short at the input's end): the first file's id is the one the
// control bits pick, and each next id is the one before plus 1 + step % 4
// (a gap of up to three ids: segments reclaimed or never written).
// Before the open, the fuzzer repairs what a mutation would otherwise break
// first, so that it gets past the checksums into the scanner's and the
// index's logic; each control bit keeps one repair from happening, so that
// the checks themselves are fuzzed too:
//   kKeepSegmentHeader:   else magic, version, store id, segment id and
//                         checksum are set;
//   kKeepRecordChecksums: else the header checksum of every record-like
//                         header at a 64-byte boundary (the scanner's step)
//                         is recomputed;
//   kKeepValueChecksums:  else their value checksums are too;
//   kKeepCheckpoint:      else the checkpoint's store id and checksum are set.
// Two more bits pick the segment id (the file's name), among ids at the
// edges of what the engine accepts.
//
// Invariants: opening never crashes (an error status is fine); every object
// it recovers is readable, with the length and XXH3 that recovery stored
// (the scanner verified each value, and nothing changes the file, so a
// CORRUPT read would mean the read path looks elsewhere than recovery did;
// objects taken from a given checkpoint are trusted unverified, and may
// read as CORRUPT, never as other bytes; so may sealed objects, whose
// ciphertext the scanner verifies but only the key can authenticate: the
// engine opens them with the key in fuzz_key.h, and a seal naming another
// key reads as KEY_UNAVAILABLE and stays); closing succeeds; and opening
// again (from the checkpoint the close wrote) recovers the same objects.
//
// Files live in memory (testing/mem_device.h): no disk I/O per input, and
// the engine runs no thread (no flusher thread: Close steps the flusher
// itself; no thread faulting in the arena).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/hash.h"
#include "engine/engine.h"
#include "engine/flash/checkpoint.h"
#include "engine/flash/record.h"
#include "engine/flash/segment.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_key.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

enum : uint8_t {
  kKeepSegmentHeader = 1 << 0,
  kKeepRecordChecksums = 1 << 1,
  kKeepValueChecksums = 1 << 2,
  kSegmentIdShift = 3,  // two bits: an index into kSegmentIds
  kWithCheckpoint = 1 << 5,
  kKeepCheckpoint = 1 << 6,
  kSeveralSegments = 1 << 7,
};
constexpr size_t kMaxSegments = 8;
constexpr uint64_t kSegmentIds[] = {1, 0, kMaxSegmentId, kMaxSegmentId + 1};

constexpr uint64_t kStoreId = 0x5eed5eed5eed5eedull;
constexpr uint64_t kNowMs = 1'700'000'000'000ull;  // the engine's wall clock, fixed
constexpr size_t kMaxInputBytes = 1 << 20;
const char* const kDataDir = "/fuzz/data";

void FixSegmentHeader(std::string& file, uint64_t segment_id) {
  if (file.size() < sizeof(SegmentHeader)) return;
  SegmentHeader h;
  std::memcpy(&h, file.data(), sizeof(h));
  h.magic = kSegmentMagic;
  h.version = kFormatVersion;
  h.store_id = kStoreId;
  h.segment_id = segment_id;
  h.header_xxh3 = Xxh3(&h, offsetof(SegmentHeader, header_xxh3));
  std::memcpy(file.data(), &h, sizeof(h));
}

// From the end backwards, so that a record inside another's value is fixed
// before the outer record's value checksum covers it.
void FixRecordChecksums(std::string& file, bool values_too) {
  if (file.size() < kSegmentHeaderBytes + kRecordHeaderSize) return;
  uint64_t last = (file.size() - kRecordHeaderSize) & ~(kRecordAlignment - 1);
  for (uint64_t pos = last; pos >= kSegmentHeaderBytes; pos -= kRecordAlignment) {
    RecordHeader h;
    std::memcpy(&h, file.data() + pos, sizeof(h));
    if (h.magic != kRecordMagic) continue;
    const uint64_t head = kRecordHeaderSize + uint64_t{h.key_len} + h.attrs_len;
    if (head > file.size() - pos) continue;
    if (values_too && h.value_offset <= file.size() - pos &&
        h.value_len <= file.size() - pos - h.value_offset) {
      const auto* value = reinterpret_cast<const uint8_t*>(file.data() + pos + h.value_offset);
      if (!(h.flags & kRecordFlagSealed)) {
        h.value_xxh3 = Xxh3(value, h.value_len);
      } else if (h.value_offset >= kRecordSealBytes) {
        // The header's XXH3 is the plaintext's: the seal covers the ciphertext.
        RecordSeal seal;
        char* at = file.data() + pos + h.value_offset - kRecordSealBytes;
        std::memcpy(&seal, at, sizeof(seal));
        FinishRecordSeal(&seal, value, h.value_len);
        std::memcpy(at, &seal, sizeof(seal));
      }
    }
    h.header_xxh3 = 0;
    Xxh3Stream s;
    s.Update(&h, sizeof(h));
    s.Update(file.data() + pos + kRecordHeaderSize, head - kRecordHeaderSize);
    h.header_xxh3 = s.Digest();
    std::memcpy(file.data() + pos, &h, sizeof(h));
  }
}

// What WriteCheckpoint would have written for this store: a checkpoint
// ends in the XXH3 of everything before it.
void FixCheckpoint(std::string& file) {
  if (file.size() < sizeof(CheckpointHeader) + 8) return;
  CheckpointHeader h;
  std::memcpy(&h, file.data(), sizeof(h));
  h.store_id = kStoreId;
  std::memcpy(file.data(), &h, sizeof(h));
  uint64_t sum = Xxh3(file.data(), file.size() - 8);
  std::memcpy(file.data() + file.size() - 8, &sum, 8);
}

uint64_t ReplaySegmentId(const std::string& checkpoint) {
  if (checkpoint.size() < sizeof(CheckpointHeader)) return 0;
  CheckpointHeader h;
  std::memcpy(&h, checkpoint.data(), sizeof(h));
  return h.replay_segment_id;
}

struct Recovered {
  uint64_t value_len;
  uint64_t value_xxh3;
  uint64_t created_ms;
  uint64_t expires_ms;
  std::string group, parent, writer, meta;
  bool operator==(const Recovered&) const = default;
};

// Lists every object, reads each one and checks its bytes. With
// trusted_checkpoint, an object may fail its read as corrupt (it is then
// dropped, and left out of the result).
std::map<std::string, Recovered> CheckObjects(Engine& engine, bool trusted_checkpoint) {
  std::map<std::string, Recovered> objects;
  std::set<std::string> sealed;
  ListOptions opts;
  opts.limit = kMaxListLimit;
  for (;;) {
    auto page = engine.List(kDefaultNamespaceId, opts);
    FUZZ_CHECK(page.ok());
    for (const ObjectInfo& info : page->items) {
      objects[info.key] = {info.value_len, info.value_xxh3, info.created_ms, info.expires_ms,
                           info.group,     info.parent,     info.writer,     info.meta};
      if (info.sealed) sealed.insert(info.key);
    }
    if (page->next_cursor.empty()) break;
    opts.cursor = page->next_cursor;
  }
  for (auto it = objects.begin(); it != objects.end();) {
    const auto& [key, want] = *it;
    auto got = engine.Get(kDefaultNamespaceId, key);
    // A sealed value whose checksums were fixed up after a mutation fails
    // GCM authentication: CORRUPT, never other bytes.
    if ((trusted_checkpoint || sealed.contains(key)) &&
        got.status().code() == StatusCode::kCorrupt) {
      it = objects.erase(it);
      continue;
    }
    // A seal naming another key: the read fails, the object stays.
    if (sealed.contains(key) && got.status().code() == StatusCode::kKeyUnavailable) {
      ++it;
      continue;
    }
    if (!got.ok()) {
      std::fprintf(stderr, "Get of a recovered object failed: %s\n",
                   got.status().ToString().c_str());
    }
    FUZZ_CHECK(got.ok());
    FUZZ_CHECK(got->size == want.value_len);
    FUZZ_CHECK(got->xxh3 == want.value_xxh3);
    FUZZ_CHECK(Xxh3(got->data, got->size) == want.value_xxh3);
    ++it;
  }
  return objects;
}

struct SegmentFile {
  uint64_t id;
  std::string bytes;
};

// The segment files the input describes after its checkpoint.
std::vector<SegmentFile> SegmentFiles(std::string_view rest, uint8_t control) {
  uint64_t id = kSegmentIds[(control >> kSegmentIdShift) & 3];
  if (!(control & kSeveralSegments)) return {{id, std::string(rest)}};
  std::vector<SegmentFile> files;
  while (rest.size() >= 5 && files.size() < kMaxSegments) {
    const uint8_t step = static_cast<uint8_t>(rest[0]);
    uint32_t len = 0;
    std::memcpy(&len, rest.data() + 1, 4);
    rest.remove_prefix(5);
    len = static_cast<uint32_t>(std::min<size_t>(len, rest.size()));
    if (!files.empty()) id += 1 + step % 4;
    files.push_back({id, std::string(rest.substr(0, len))});
    rest.remove_prefix(len);
  }
  return files;
}

// The largest segment id the store has (what the engine's next segment
// follows), or 0 without segments.
uint64_t LastSegmentId(const std::vector<SegmentFile>& files) {
  uint64_t last = 0;
  for (const SegmentFile& f : files) last = std::max(last, f.id);
  return last;
}

MemDevice* device = nullptr;

}  // namespace
}  // namespace ctxstore::engine

// ASan keeps freed memory poisoned in a quarantine (256 MiB by default) so
// that a use after free is caught; an input here allocates and frees
// megabytes (an engine opened, read and closed, its buffers and copies of
// the files), so with the default every input's allocations came from fresh
// pages: page faults and ASan's allocator refills were about half of an
// input's time (perf, docs/security.md "Fuzzing"). 16 MiB still holds what
// several inputs freed. ASAN_OPTIONS (scripts/fuzz.sh) adds to this.
extern "C" const char* __asan_default_options() {
  return "quarantine_size_mb=16";
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // recovery logs a line per open
  ctxstore::engine::device = new ctxstore::engine::MemDevice();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore;
  using namespace ctxstore::engine;
  if (size == 0 || size > kMaxInputBytes) return 0;
  const uint8_t control = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string checkpoint;
  if (control & kWithCheckpoint) {
    if (rest.size() < 2) return 0;
    uint16_t len = 0;
    std::memcpy(&len, rest.data(), 2);
    rest.remove_prefix(2);
    if (rest.size() < len) return 0;
    checkpoint = std::string(rest.substr(0, len));
    rest.remove_prefix(len);
    if (!(control & kKeepCheckpoint)) FixCheckpoint(checkpoint);
  }
  std::vector<SegmentFile> segments = SegmentFiles(rest, control);
  const std::string dir = kDataDir;
  device->Clear();
  device->SetFile(dir + "/SUPERBLOCK", EncodeSuperblock(kStoreId, kNowMs));
  for (SegmentFile& f : segments) {
    if (!(control & kKeepSegmentHeader)) FixSegmentHeader(f.bytes, f.id);
    if (!(control & kKeepRecordChecksums)) {
      FixRecordChecksums(f.bytes, !(control & kKeepValueChecksums));
    }
    device->SetFile(dir + "/" + SegmentFileName(f.id), f.bytes);
  }
  if (control & kWithCheckpoint) device->SetFile(dir + "/" + kCheckpointFileName, checkpoint);
  const uint64_t segment_id = LastSegmentId(segments);

  EngineOptions options;
  options.data_dir = dir;
  options.memory_bytes = 64 << 10;
  options.disk_bytes = 4 << 20;  // the least there is: the index and buffers scale with it
  options.device = device;
  options.flusher_thread = false;
  options.populate_dram = false;
  ManualEnv env(kNowMs);  // fresh clocks and random stream: an input replays the same
  options.env = &env;
  static const std::shared_ptr<const Keyring> keyring = FuzzKeyring();
  options.keyring = keyring;

  std::map<std::string, Recovered> first;
  {
    auto engine = Engine::Open(options);
    if (!engine.ok()) return 0;  // refusing the file is fine; crashing is not
    first = CheckObjects(**engine, (control & kWithCheckpoint) != 0);
    Status closed = (*engine)->Close();
    // The one reason a close may fail here: a tombstone for a corrupt read
    // found segment ids exhausted (the segment, or the checkpoint's replay
    // position, is at the last id there is).
    const uint64_t replay = ReplaySegmentId(checkpoint);
    if (!closed.ok() &&
        (segment_id >= kMaxSegmentId || replay == kMaxSegmentId || replay == kMaxSegmentId + 1)) {
      return 0;
    }
    if (!closed.ok()) std::fprintf(stderr, "Close failed: %s\n", closed.ToString().c_str());
    FUZZ_CHECK(closed.ok());
  }
  // Again, from the checkpoint that Close wrote: the same objects.
  auto engine = Engine::Open(options);
  if (!engine.ok()) std::fprintf(stderr, "reopen failed: %s\n", engine.status().ToString().c_str());
  FUZZ_CHECK(engine.ok());
  FUZZ_CHECK(CheckObjects(**engine, /*trusted_checkpoint=*/false) == first);
  return 0;
}
