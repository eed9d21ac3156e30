// The engine's public value types besides its options (options.h): what
// callers pass in (WriteOptions, PutConditions, PinOptions) and get back
// (ValueRef, PutReservation, EngineStats), and the callback of a durable
// write.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ctxstore/namespace.h"
#include "ctxstore/objects.h"
#include "ctxstore/status.h"
#include "engine/dram/arena.h"
#include "engine/index/meta_interner.h"

namespace ctxstore::engine {

// Called once a sync write or a flush is durable (or failed), on the
// flusher thread: it must not block.
using DurableCallback = std::function<void(Status)>;

// The public types the engine's interface shares with the protocol and the
// client (include/ctxstore/): one definition each.
using ::ctxstore::kDefaultPriority;
using ::ctxstore::kMaxListLimit;
using ::ctxstore::kPriorityLevels;
using ::ctxstore::ListOptions;
using ::ctxstore::ListPage;
using ::ctxstore::MatchResult;
using ::ctxstore::NamespaceConfig;
using ::ctxstore::NamespaceInfo;
using ::ctxstore::ObjectInfo;

// Namespaces (tenants). Id 0, "default", always exists.
inline constexpr uint32_t kDefaultNamespaceId = 0;
inline constexpr std::string_view kDefaultNamespaceName = "default";

struct WriteOptions {
  bool sync = false;       // acknowledge only once on flash and fdatasync'ed
  bool overwrite = false;  // replace instead of answering kExists
  // Replace only an existing (visible, unexpired) object: kNotFound
  // otherwise (Redis's SET XX). Implies overwrite.
  bool only_if_present = false;
  // The new version keeps the expiry of the version it replaces (Redis's
  // KEEPTTL); with nothing replaced, ttl_ms applies as usual.
  bool keep_ttl = false;
  uint32_t namespace_id = kDefaultNamespaceId;
  uint64_t ttl_ms = 0;  // 0: the namespace default; capped by its maximum
  std::string group;    // session tag ("" = none)
  std::string parent;   // key of the previous chunk of the same prefix ("" = none)
  std::string writer;   // provenance: the writing client's identity
  std::string meta;     // client blob (dtype, shape, model fingerprint), <= kMaxMetaBytes
  // The client's XXH3-64 of the value: CommitPut refuses (kCorrupt) a value
  // whose bytes do not match it.
  std::optional<uint64_t> expected_xxh3;

  // Whether an object already present is replaced (not kExists).
  bool replaces() const { return overwrite || only_if_present; }
};

// What a caller may still change between BeginPut and CommitPut (Redis's
// SET options arrive after its value). CommitPut applies them; BeginPut's
// early checks used the options it was given, so a caller that learns them
// only later begins with the most permissive ones (overwrite, not
// only_if_present) and amends.
struct PutConditions {
  uint64_t ttl_ms = 0;
  bool overwrite = false;
  bool only_if_present = false;
  bool keep_ttl = false;
};

struct PinOptions {
  bool group = false;   // the name is a group: pins its objects, present and future
  uint64_t ttl_ms = 0;  // the pin lapses by itself after this; 0 = never
  bool dram = false;    // keep (or load) the objects in DRAM
};

struct EngineStats {
  uint64_t objects = 0;
  uint64_t dram_objects = 0;
  uint64_t dram_bytes = 0;  // arena bytes in use
  uint64_t dram_capacity_bytes = 0;
  uint64_t dram_populated_bytes = 0;  // faulted in by the arena's background thread so far
  uint64_t index_bytes = 0;           // the index table and its entries' slabs (with free space)
  uint64_t dirty_objects = 0;         // in DRAM, not yet written to flash
  uint64_t flash_objects = 0;
  uint64_t flash_bytes = 0;  // bytes of all segment files
  uint64_t flash_capacity_bytes = 0;
  uint64_t flash_segments = 0;
  uint64_t hits_dram = 0;
  uint64_t hits_flash = 0;
  uint64_t misses = 0;
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t evictions_dram = 0;
  uint64_t reclaimed_segments = 0;
  uint64_t reclaimed_objects = 0;        // lost from flash by reclaim while not in DRAM
  uint64_t corrupt_records_skipped = 0;  // found by recovery
  uint64_t torn_records_skipped = 0;     // found by recovery
  uint64_t corrupt_reads = 0;            // checksum failures on GET from flash
  uint64_t io_errors = 0;
  uint64_t key_unavailable_reads = 0;  // sealed values whose key is not loaded
  uint64_t flash_read_retries = 0;     // flash reads retried after an I/O error
  uint64_t sealed_records = 0;         // records written sealed (encrypted)
  uint64_t write_retries = 0;          // records written again after their segment failed
  uint64_t writes_coalesced = 0;       // queued versions never written: a newer one replaced them
  uint64_t flush_batches = 0;          // batches the flusher wrote to flash
  uint64_t writes_during_sync = 0;     // batches written while the sync of the one before ran
  uint64_t syncs_failed_after_write = 0;  // of those syncs, failed ones (the batch written again)
  uint64_t recovered_objects = 0;
  uint64_t recovery_ms = 0;
  bool recovered_from_checkpoint = false;
  uint64_t expired_objects = 0;      // removed after their TTL
  uint64_t evictions_quota = 0;      // removed to keep a namespace within its quota
  uint64_t pinned_lost = 0;          // pinned objects flash reclaim could not carry forward
  uint64_t bad_segments = 0;         // segments given up on after a read failed with an I/O error
  uint64_t bad_segment_objects = 0;  // objects dropped with them (not in DRAM to write again)
  uint64_t leases = 0;               // outstanding
  uint64_t pin_rules = 0;
  uint64_t namespaces = 0;
};

// The bytes of a value, kept alive (and unevictable from under the holder)
// for as long as this is held.
struct ValueRef {
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  uint64_t xxh3 = 0;
  MetaRef meta;  // may be null (nothing but the value)
  std::span<const uint8_t> bytes() const { return {data, size}; }
};

// An arena block reserved for a value that is being received.
class PutReservation {
 public:
  PutReservation() = default;
  std::span<uint8_t> buffer() const { return {block_ ? block_->data() : nullptr, value_len_}; }
  uint64_t value_len() const { return value_len_; }
  // The XXH3 of buffer() as filled, when the caller hashed it while filling
  // it (pieces hashed as they land are still in cache); CommitPut hashes
  // the value itself otherwise.
  void set_value_xxh3(uint64_t xxh3) {
    value_xxh3_ = xxh3;
    has_value_xxh3_ = true;
  }
  // The conditions CommitPut will apply: those BeginPut was given, until
  // amended.
  PutConditions conditions() const {
    return {opts_.ttl_ms, opts_.overwrite, opts_.only_if_present, opts_.keep_ttl};
  }
  // Replaces all four (start from conditions() to change one). Any ttl_ms
  // is valid: BeginPut's checks do not look at it (write_checks.h), and
  // CommitPut caps it by the namespace's maximum as for any put.
  void Amend(const PutConditions& c) {
    opts_.ttl_ms = c.ttl_ms;
    opts_.overwrite = c.overwrite;
    opts_.only_if_present = c.only_if_present;
    opts_.keep_ttl = c.keep_ttl;
  }

 private:
  friend class Engine;
  std::string key_;
  uint64_t value_len_ = 0;
  WriteOptions opts_;
  std::shared_ptr<ArenaBlock> block_;
  uint64_t value_xxh3_ = 0;
  bool has_value_xxh3_ = false;
};
}  // namespace ctxstore::engine
