// The storage engine: an index of immutable objects over a DRAM tier (one
// arena) and a flash tier (append-only segments), with write-behind,
// durability on demand, LRU eviction from DRAM, FIFO reclaim of flash, and
// recovery from a checkpoint plus a scan. Knows nothing of sockets.
//
// Write path: BeginPut reserves an arena block (evicting clean objects if
// needed); the caller fills it (the server receives straight into it);
// CommitPut makes the object visible and queues it for the flusher thread,
// which writes records with O_DIRECT from the arena and fdatasyncs when a
// sync PUT or FLUSH waits (and at least every sync_interval_ms).
//
// Read path: a DRAM hit hands out a reference to the arena block; a
// flash-only object is read with O_DIRECT into a new arena block (promoting
// it), checked against its XXH3, and only then handed out.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/limits.h"
#include "ctxstore/namespace.h"
#include "ctxstore/objects.h"
#include "ctxstore/status.h"
#include "engine/access_token.h"
#include "engine/arena.h"
#include "engine/device.h"
#include "engine/encryption.h"
#include "engine/entry.h"
#include "engine/index.h"
#include "engine/meta_interner.h"
#include "engine/policy.h"
#include "engine/segment.h"

namespace ctxstore::engine {

struct EngineOptions {
  std::string data_dir = "data";
  uint64_t memory_bytes = 1ull << 30;  // DRAM arena
  uint64_t disk_bytes = 4ull << 30;    // flash budget over all segments
  uint64_t segment_bytes = 0;          // 0: disk_bytes / 16, within [1 MiB, 256 MiB]; at most 1 GiB
  uint64_t max_value_bytes = 256ull << 20;
  uint64_t sync_interval_ms = 1000;  // bound on how long written data stays unsynced
  uint64_t checkpoint_interval_ms = 60'000;
  uint64_t space_wait_ms = 5'000;       // how long a PUT waits for DRAM to drain to flash
  std::string eviction_policy = "lru";  // per namespace, within its quota (policy.h)
  uint64_t max_lease_ms = 60'000;
  uint64_t max_leases = 100'000;          // outstanding over all clients
  uint64_t max_leased_objects = 262'144;  // objects held by all leases together
  uint64_t max_pins = 100'000;            // pin rules (keys and groups)
  Device* device = nullptr;               // nullptr: the POSIX device
  // The wall clock (TTL, pins, leases); tests substitute a controllable one.
  std::function<uint64_t()> wall_clock_ms;
  // Keys that namespaces may name for encryption at rest (encryption.h);
  // null: none loaded.
  std::shared_ptr<const Keyring> keyring;
};

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
  uint32_t namespace_id = kDefaultNamespaceId;
  uint64_t ttl_ms = 0;  // 0: the namespace default; capped by its maximum
  std::string group;    // session tag ("" = none)
  std::string parent;   // key of the previous chunk of the same prefix ("" = none)
  std::string writer;   // provenance: the writing client's identity
  std::string meta;     // client blob (dtype, shape, model fingerprint), <= kMaxMetaBytes
  // The client's XXH3-64 of the value: CommitPut refuses (kCorrupt) a value
  // whose bytes do not match it.
  std::optional<uint64_t> expected_xxh3;
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

 private:
  friend class Engine;
  std::string key_;
  uint64_t value_len_ = 0;
  WriteOptions opts_;
  std::shared_ptr<ArenaBlock> block_;
  uint64_t value_xxh3_ = 0;
  bool has_value_xxh3_ = false;
};

// Called once a sync write or a flush is durable (or failed), on the
// flusher thread: it must not block.
using DurableCallback = std::function<void(Status)>;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Writes out everything, syncs, checkpoints the index and stops the
  // flusher. Later calls fail with kUnavailable. Idempotent.
  Status Close();

  // kExists early when the key is present and !overwrite (the caller then
  // discards the value); kTooLarge over max_value_bytes; kNoSpace when DRAM
  // holds only unwritten data for longer than space_wait_ms.
  Result<PutReservation> BeginPut(std::string_view key, uint64_t value_len,
                                  const WriteOptions& opts);
  // Makes the filled reservation visible. For a sync write, on_durable runs
  // once the record is synced (or failed); otherwise it is never called.
  Status CommitPut(PutReservation reservation, DurableCallback on_durable);
  // BeginPut + copy + CommitPut, waiting for durability when opts.sync.
  Status Put(std::string_view key, std::span<const uint8_t> value, const WriteOptions& opts);

  // Reads: kNotFound for absent or expired keys (and in an unknown namespace).
  // With never_block, an object that is only on flash gives kBusy at once,
  // before anything about it changes (no hit counted, the policy not told):
  // an event loop then repeats the Get on a thread that may wait for flash.
  Result<ValueRef> Get(uint32_t ns, std::string_view key, bool never_block = false);
  Result<ValueRef> Get(std::string_view key) { return Get(kDefaultNamespaceId, key); }
  Result<uint64_t> Exists(uint32_t ns, std::string_view key);  // the value length
  Result<uint64_t> Exists(std::string_view key) { return Exists(kDefaultNamespaceId, key); }
  // Number of leading keys present. With lease_ms > 0 (<= max_lease_ms) the
  // matched objects are also leased: neither eviction nor expiry removes
  // them until ReleaseLease or the lease's end. Explicit deletes still do.
  Result<MatchResult> MatchPrefix(uint32_t ns, std::span<const std::string_view> keys,
                                  uint64_t lease_ms);
  uint32_t MatchPrefix(std::span<const std::string_view> keys) {
    auto r = MatchPrefix(kDefaultNamespaceId, keys, 0);
    return r.ok() ? r->matched : 0;
  }
  // kNotFound when unknown, already ended, or taken in another namespace.
  Status ReleaseLease(uint32_t ns, uint64_t lease_id);

  Status Delete(uint32_t ns, std::string_view key, bool sync, DurableCallback on_durable);
  Status Delete(std::string_view key, bool sync, DurableCallback on_durable) {
    return Delete(kDefaultNamespaceId, key, sync, std::move(on_durable));
  }
  Status Delete(uint32_t ns, std::string_view key, bool sync);  // waits when sync
  Status Delete(std::string_view key, bool sync) { return Delete(kDefaultNamespaceId, key, sync); }
  // Deletes every object of the group; the number deleted.
  Result<uint64_t> DeleteGroup(uint32_t ns, std::string_view group);

  Result<ObjectInfo> Stat(uint32_t ns, std::string_view key);
  Result<ListPage> List(uint32_t ns, const ListOptions& opts);

  // Pins a key (kNotFound when absent) or a group (present and future
  // objects). Pins are durable. The number of objects pinned now. kNoSpace
  // ("no space: pinned") when a DRAM pin cannot be held.
  Result<uint64_t> Pin(uint32_t ns, std::string_view name, const PinOptions& opts);
  // kNotFound when there is no such pin.
  Status Unpin(uint32_t ns, std::string_view name, bool group);

  // Namespaces: persistent (file NAMESPACES), names 1..64 bytes of
  // [A-Za-z0-9._-]. Deleting one deletes its objects and pins.
  Result<uint32_t> CreateNamespace(std::string_view name, const NamespaceConfig& config);
  Status SetNamespace(std::string_view name, const NamespaceConfig& config);
  // kInvalid unless config names no key or one the keyring holds.
  Status CheckEncryptionKeyName(const NamespaceConfig& config) const;
  Status DeleteNamespace(std::string_view name);  // kInvalid for "default"
  Result<NamespaceInfo> GetNamespace(std::string_view name) const;
  Result<uint32_t> ResolveNamespace(std::string_view name) const;
  std::vector<NamespaceInfo> ListNamespaces() const;

  // Access tokens (access_token.h), kept in the catalog. AddToken answers
  // kExists for a taken id, kNotFound when the token's namespace is gone,
  // kNoSpace past kMaxTokens. Deleting a namespace revokes its tokens.
  Status AddToken(const AccessToken& token);
  Status RevokeToken(std::string_view id);  // kNotFound when unknown
  std::optional<AccessToken> FindToken(std::string_view id) const;
  std::vector<AccessToken> ListTokens() const;
  // Grows whenever a token or a namespace goes away, so that a connection
  // can recheck its credentials only when something changed.
  uint64_t access_epoch() const { return access_epoch_.load(std::memory_order_acquire); }

  // on_durable runs once everything committed before is synced.
  void Flush(DurableCallback on_durable);
  Status Flush();  // waits
  // Writes an index checkpoint now (after a flush). For tests and operators.
  Status WriteCheckpointNow();

  EngineStats Stats() const;
  const EngineOptions& options() const { return options_; }

 private:
  explicit Engine(const EngineOptions& options);
  Status Recover();
  // Makes *it a flash-only entry for a record found at recovery.
  void InstallFlashOnlyLocked(Index::iterator it, const RecordHeader& h, ObjectMeta meta,
                              uint64_t segment_id, uint64_t offset);
  void ApplyRecovered(const std::string& user_key, const std::string& ext, const RecordHeader& h,
                      uint64_t segment_id, uint64_t offset);
  // Links every recovered entry into its namespace, policy, group, parent.
  void AttachRecoveredLocked();

  // DRAM tier (mu_ held).
  std::shared_ptr<ArenaBlock> AllocateLocked(uint64_t bytes, std::unique_lock<std::mutex>& lock,
                                             bool wait);
  void EraseLocked(Index::iterator it);
  void SetDramLocked(Entry& e, const ArenaBlock* block);  // null: drop it from DRAM
  void SetFlashLocked(Entry& e, uint64_t segment_id, uint64_t offset);
  void ClearFlashLocked(Entry& e);
  bool ExpiredLocked(const Entry& e) const;
  uint64_t NowMs() const;

  // Context state (context.cc).
  struct Namespace {
    uint32_t id = 0;
    std::string name;
    NamespaceConfig config;
    uint64_t objects = 0;
    uint64_t bytes = 0;
    uint64_t evictions = 0;
    uint64_t leased_objects = 0;  // held by its outstanding leases
    std::unique_ptr<EvictionPolicy> policy;
  };
  struct PinRule {
    uint64_t expires_ms = 0;  // 0 = never
    bool dram = false;
  };
  using PinRules = std::unordered_map<std::string, PinRule, KeyHash, std::equal_to<>>;
  struct PinState {
    bool pinned = false;
    bool dram = false;
    uint64_t expires_ms = 0;
  };
  struct Lease {
    uint32_t namespace_id = 0;
    uint64_t expires_ms = 0;
    std::vector<std::pair<std::string, uint64_t>> objects;  // index key, seq
  };
  struct ExpiryItem {
    uint64_t expires_ms;
    uint64_t seq;
    std::string index_key;
    bool operator>(const ExpiryItem& o) const { return expires_ms > o.expires_ms; }
  };
  Status LoadCatalog();
  Namespace* AddNamespaceLocked(uint32_t id, std::string name, const NamespaceConfig& config);
  Namespace* FindNamespaceLocked(uint32_t id);
  uint64_t PinRulesOfLocked(uint32_t ns) const;  // its pin rules that have not lapsed
  // The key a namespace's new records are sealed with: null when it names
  // none, kKeyUnavailable when it names one the keyring lacks.
  Result<std::shared_ptr<const EncryptionKey>> SealKeyLocked(const Namespace& ns) const;
  // Reads an object's value from its flash record into dst (opening it if
  // sealed). Called without mu_ held; what it needs is copied out first.
  struct FlashRead {
    std::shared_ptr<Segment> segment;
    uint64_t record_offset = 0;
    RecordHeader header{};  // key_len, ext_len, value_len, flags
    std::string aad;        // sealed records only
  };
  FlashRead PrepareFlashReadLocked(const Entry& e, std::shared_ptr<Segment> segment) const;
  // An I/O error is retried once (a transient failure must not condemn a
  // segment); *retried says whether it was.
  Status ReadFlashValue(const FlashRead& read, uint8_t* dst, bool* retried) const;
  Namespace* FindNamespaceLocked(std::string_view name);
  // The catalog's content. A change is written as a modified copy first and
  // applied in memory only once the file is durable, so that nothing is
  // served (a namespace, a pin) that a crash could take back.
  struct CatalogSnapshot {
    uint32_t next_namespace_id = 0;
    std::map<uint32_t, std::pair<std::string, NamespaceConfig>> namespaces;
    PinRules key_pins;
    PinRules group_pins;
    AccessTokens tokens;
  };
  CatalogSnapshot SnapshotCatalogLocked() const;
  // Writes it with mu_ released meanwhile; catalog_mu_ must be held.
  Status WriteCatalog(const CatalogSnapshot& catalog, std::unique_lock<std::mutex>& lock);
  uint64_t ComputeExpiryLocked(const Namespace& ns, uint64_t ttl_ms, uint64_t now_ms) const;
  PinState PinStateLocked(const Entry& e) const;
  bool LeasedLocked(const Entry& e) const;
  void DropLeaseHoldLocked(Entry& e);  // the entry goes, or gets a new version
  // Links a stored entry into its namespace, policy, group, parent; the
  // reverse (orphan_children: its children lose their parent).
  void AttachLocked(Entry& e);
  void DetachLocked(Entry& e, bool orphan_children);
  // Evicts objects of the namespace until `incoming` more bytes fit.
  Status MakeRoomLocked(Namespace& ns, uint64_t incoming, const Entry* keep);
  // Expired objects, lapsed leases and pins (the flusher calls it).
  void MaintainLocked();
  // Flash reclaim keeps pinned objects: queues them to be written again.
  // False when it could not (the object is then lost and counted).
  bool CarryForwardLocked(Entry& e, std::unique_lock<std::mutex>& lock);
  // A read from the segment failed with an I/O error: it is not trusted
  // again. Its objects still in DRAM are written anew; the others are
  // dropped, with tombstones so that no older version of their keys comes
  // back at recovery. The flusher stops appending to it.
  void MarkSegmentBadLocked(uint64_t segment_id, std::unique_lock<std::mutex>& lock);
  void AddToLruLocked(Entry& e);
  ObjectInfo InfoLocked(const Entry& e) const;  // STAT and LIST
  void EndLeaseLocked(std::unordered_map<uint64_t, Lease>::iterator it);

  // Flusher thread (flusher.cc).
  void FlusherLoop();
  void Enqueue(FlushItem item);
  bool SupersededLocked(const FlushItem& item) const;  // may be dropped unwritten
  void EnqueueTombstoneLocked(std::string_view key, DurableCallback on_durable);
  bool WriteBatch(std::vector<FlushItem>& batch);  // false on a device failure
  void RetryLocked(FlushItem item);
  void MarkDurableLocked(const FlushItem& item);
  void WaitWhileCommitsPausedLocked(std::unique_lock<std::mutex>& lock);
  Status AppendBatch(std::vector<FlushItem>& batch);
  Status RollSegment(uint64_t record_len);
  // Drops the oldest segment that is not retiring; false when there is none.
  bool ReclaimOldestLocked(std::unique_lock<std::mutex>& lock);
  // The carried copies out of a retiring segment are durable (or failed).
  void FinishRetiring(uint64_t segment_id, const Status& carried);
  Status SyncActive();
  void AbandonActive(const Status& why);
  void AbandonActiveLocked(const Status& why);
  void CompleteBatch(std::vector<FlushItem>& batch, const Status& status);
  Status WriteCheckpointLocked(std::unique_lock<std::mutex>& lock);
  void FinishCheckpointRequestLocked(const Status& st);

  EngineOptions options_;
  std::unique_ptr<Device> owned_device_;
  Device* device_ = nullptr;
  std::unique_ptr<Arena> arena_;
  uint64_t store_id_ = 0;

  std::mutex close_mu_;
  mutable std::mutex mu_;  // guards everything below
  Index index_;
  MetaInterner meta_interner_;  // metadata shared by objects with only a writer
  // Resident, clean entries, one list per namespace priority (the lowest
  // level is evicted first); front = most recent.
  EntryList lru_[kPriorityLevels];
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;
  // Reclaimed segments kept (readable, off the flash budget) until the
  // pinned objects carried out of them are durable elsewhere.
  std::unordered_set<uint64_t> retiring_;
  // The last segment marked bad; the flusher rolls to a new segment when
  // it is the active one (read without mu_).
  std::atomic<uint64_t> last_bad_segment_id_{0};
  uint64_t next_seq_ = 1;
  uint64_t next_segment_id_ = 1;
  uint64_t flash_bytes_ = 0;
  bool closed_ = false;
  EngineStats stats_;
  std::condition_variable space_cv_;  // DRAM may have become evictable

  // Flusher state (queue under mu_; active segment only touched by the flusher).
  std::deque<FlushItem> queue_;
  std::condition_variable flush_cv_;
  bool stop_flusher_ = false;
  std::shared_ptr<Segment> active_;
  // Records appended to active_ since its last sync (no value or callback).
  std::vector<FlushItem> unsynced_;
  // Flusher only: buffers that sealed large values were written from, kept
  // for the next batch (a fresh 4 MiB buffer costs its page faults each
  // time), at most kMaxPooledSealBytes of them.
  std::vector<std::unique_ptr<AlignedBuffer>> seal_buffers_;
  static constexpr size_t kMaxIdleUnsyncedCapacity = 4096;
  std::unordered_map<std::string, uint64_t> recovery_tombstones_;  // key -> seq, during Recover()
  uint64_t retries_queued_ = 0;  // re-queued records not yet written again
  // next_seq_ when each barrier in queue_ was queued, oldest first: the
  // barrier covers exactly the writes of lower seq.
  std::deque<uint64_t> queued_barrier_seqs_;
  uint64_t space_waiters_ = 0;   // puts waiting for DRAM: sync without delay
  bool commits_paused_ = false;  // the flusher drains the queue for a checkpoint
  std::condition_variable resume_cv_;
  uint64_t last_sync_ms_ = 0;
  uint64_t last_checkpoint_ms_ = 0;
  uint64_t changes_since_checkpoint_ = 0;
  // Items queued since the flusher last returned free heap to the OS.
  // The flusher trims when its queue is empty, after that many items or
  // that long since it last did.
  static constexpr uint64_t kHeapTrimAfterItems = 64 * 1024;
  static constexpr uint64_t kHeapTrimIntervalMs = 1000;
  uint64_t queued_since_heap_trim_ = 0;
  uint64_t last_heap_trim_ms_ = 0;
  uint64_t lost_writes_ = 0;           // records given up on (failures while closing)
  bool checkpoint_requested_ = false;  // WriteCheckpointNow waits on checkpoint_cv_
  uint64_t checkpoint_generation_ = 0;
  Status checkpoint_result_;
  std::condition_variable checkpoint_cv_;
  std::thread flusher_;

  // Context state, under mu_ (catalog_mu_ serializes writing the catalog).
  std::mutex catalog_mu_;
  std::map<uint32_t, Namespace> namespaces_;
  uint32_t next_namespace_id_ = 1;
  PinRules key_pins_;    // index key -> rule
  PinRules group_pins_;  // IndexKey(ns, group) -> rule
  AccessTokens tokens_;
  std::atomic<uint64_t> access_epoch_{0};
  std::unordered_map<std::string, std::unordered_set<Entry*>, KeyHash, std::equal_to<>>
      groups_;                   // IndexKey(ns, group) -> members
  uint64_t ttl_objects_ = 0;     // entries with an expiry (bounds expiry_'s stale items)
  uint64_t leased_objects_ = 0;  // object references held by leases
  // Children linked to a present parent, by parent (an orphan has none).
  std::unordered_map<Entry*, std::vector<Entry*>> children_;
  // Objects under MATCH_PREFIX leases (Entry::leased): their outstanding
  // leases and the latest lease's end.
  struct LeaseHold {
    uint32_t leases = 0;
    uint64_t until_ms = 0;
  };
  std::unordered_map<const Entry*, LeaseHold> lease_holds_;
  std::unordered_map<uint64_t, Lease> leases_;
  std::mt19937_64 lease_id_rng_{std::random_device{}()};
  std::priority_queue<ExpiryItem, std::vector<ExpiryItem>, std::greater<>> expiry_;
  uint64_t last_maintain_ms_ = 0;
};

}  // namespace ctxstore::engine
