// The storage engine: an index of immutable objects over a DRAM tier (one
// arena) and a flash tier (append-only segments), with write-behind,
// durability on demand, LRU eviction from DRAM, FIFO reclaim of flash, and
// recovery from a checkpoint plus a scan. Knows nothing of sockets.
//
// Write path: BeginPut reserves an arena block (evicting clean objects if
// needed); the caller fills it (the server receives straight into it);
// CommitPut makes the object visible and queues it for the flusher, which
// writes records with O_DIRECT from the arena and fdatasyncs when a sync
// PUT or FLUSH waits (and at least every sync_interval_ms).
//
// Read path: a DRAM hit hands out a reference to the arena block; a
// flash-only object is read with O_DIRECT into a new arena block (promoting
// it), checked against its XXH3, and only then handed out.
//
// Engine is the coordinator: it owns the one mutex and the components it
// guards, and each call here is a few steps over them (docs/architecture.md):
// ObjectTable (index and what links to it), Catalog (namespaces, pins,
// tokens), LeaseTable, FlushQueue and Flusher (write-behind), SegmentSet
// (the flash tier's segments), Recovery (startup).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "ctxstore/namespace.h"
#include "ctxstore/objects.h"
#include "ctxstore/status.h"
#include "engine/context/catalog.h"
#include "engine/context/lease_table.h"
#include "engine/dram/arena.h"
#include "engine/flash/segment_set.h"
#include "engine/flush/flash_host.h"
#include "engine/flush/flush_queue.h"
#include "engine/flush/flusher.h"
#include "engine/index/object_table.h"
#include "engine/options.h"
#include "engine/security/access_token.h"
#include "engine/types.h"

namespace ctxstore::engine {

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Writes out everything, syncs, checkpoints the index and stops the
  // flusher. Later calls fail with kUnavailable. Idempotent.
  Status Close() EXCLUDES(mu_);

  // kExists early when the key is present and !overwrite, kNotFound when
  // it is absent and only_if_present (the caller then discards the value);
  // kTooLarge over max_value_bytes; kNoSpace when DRAM holds only unwritten
  // data for longer than space_wait_ms.
  Result<PutReservation> BeginPut(std::string_view key, uint64_t value_len,
                                  const WriteOptions& opts) EXCLUDES(mu_);
  // Makes the filled reservation visible. For a sync write, on_durable runs
  // once the record is synced (or failed); otherwise it is never called.
  // The key's presence is checked again here (a write or a delete may have
  // come since BeginPut), against the reservation's conditions as amended
  // (PutReservation::Amend): kExists or kNotFound as in BeginPut, and
  // nothing is stored.
  Status CommitPut(PutReservation reservation, DurableCallback on_durable) EXCLUDES(mu_);
  // BeginPut + copy + CommitPut, waiting for durability when opts.sync.
  Status Put(std::string_view key, std::span<const uint8_t> value, const WriteOptions& opts)
      EXCLUDES(mu_);

  // Reads: kNotFound for absent or expired keys (and in an unknown namespace).
  // With never_block, an object that is only on flash gives kBusy at once,
  // before anything about it changes (no hit counted, the policy not told):
  // an event loop then repeats the Get on a thread that may wait for flash.
  Result<ValueRef> Get(uint32_t ns, std::string_view key, bool never_block = false) EXCLUDES(mu_);
  Result<uint64_t> Exists(uint32_t ns, std::string_view key) EXCLUDES(mu_);  // the value length
  // Number of leading keys present. With lease_ms > 0 (<= max_lease_ms) the
  // matched objects are also leased: neither eviction nor expiry removes
  // them until ReleaseLease or the lease's end. Explicit deletes still do.
  Result<MatchResult> MatchPrefix(uint32_t ns, std::span<const std::string_view> keys,
                                  uint64_t lease_ms) EXCLUDES(mu_);
  // kNotFound when unknown, already ended, or taken in another namespace.
  Status ReleaseLease(uint32_t ns, uint64_t lease_id) EXCLUDES(mu_);

  Status Delete(uint32_t ns, std::string_view key, bool sync, DurableCallback on_durable)
      EXCLUDES(mu_);
  Status Delete(uint32_t ns, std::string_view key, bool sync) EXCLUDES(mu_);  // waits when sync
  // Deletes every object of the group; the number deleted.
  Result<uint64_t> DeleteGroup(uint32_t ns, std::string_view group) EXCLUDES(mu_);

  // Sets the expiry of a present, unexpired object (EXPIRE, PEXPIRE,
  // PERSIST): expires_ms is absolute wall-clock ms (0 = never), capped by
  // the namespace's max TTL as a PUT's TTL is (Namespace::KeptExpiry). One
  // already past hides the object at once, unless a lease holds it (a
  // front end that wants Redis's delete there calls Delete). kNotFound when
  // absent or expired. Durable as a PUT is: the object is written again as
  // a new version with the same value (write-behind; the value's bytes go
  // to flash again), and a restart recovers the new expiry. An object only
  // on flash is read into DRAM first (a failed read answers as a GET's
  // does); with never_block that gives kBusy at once instead, as Get does,
  // and when DRAM stays full of unwritten data, kNoSpace as for a PUT.
  // "Present" is as Get sees it: a lease keeps an object past its expiry
  // present, and its expiry may still be changed.
  Status SetExpiry(uint32_t ns, std::string_view key, uint64_t expires_ms, bool never_block = false)
      EXCLUDES(mu_);

  Result<ObjectInfo> Stat(uint32_t ns, std::string_view key) EXCLUDES(mu_);
  Result<ListPage> List(uint32_t ns, const ListOptions& opts) EXCLUDES(mu_);

  // Pins a key (kNotFound when absent) or a group (present and future
  // objects). Pins are durable. The number of objects pinned now. kNoSpace
  // ("no space: pinned") when a DRAM pin cannot be held.
  Result<uint64_t> Pin(uint32_t ns, std::string_view name, const PinOptions& opts) EXCLUDES(mu_);
  // kNotFound when there is no such pin.
  Status Unpin(uint32_t ns, std::string_view name, bool group) EXCLUDES(mu_);

  // Namespaces: durable (in the catalog), names 1..64 bytes of
  // [A-Za-z0-9._-]. Deleting one deletes its objects, pins and tokens.
  Result<uint32_t> CreateNamespace(std::string_view name, const NamespaceConfig& config)
      EXCLUDES(mu_);
  Status SetNamespace(std::string_view name, const NamespaceConfig& config) EXCLUDES(mu_);
  // kInvalid unless config names no key or one the keyring holds.
  Status CheckEncryptionKeyName(const NamespaceConfig& config) const EXCLUDES(mu_);
  Status DeleteNamespace(std::string_view name) EXCLUDES(mu_);  // kInvalid for "default"
  Result<NamespaceInfo> GetNamespace(std::string_view name) const EXCLUDES(mu_);
  Result<uint32_t> ResolveNamespace(std::string_view name) const EXCLUDES(mu_);
  std::vector<NamespaceInfo> ListNamespaces() const EXCLUDES(mu_);

  // Access tokens (access_token.h), kept in the catalog. AddToken answers
  // kExists for a taken id, kNotFound when the token's namespace is gone,
  // kNoSpace past kMaxTokens. Deleting a namespace revokes its tokens.
  Status AddToken(const AccessToken& token) EXCLUDES(mu_);
  Status RevokeToken(std::string_view id) EXCLUDES(mu_);  // kNotFound when unknown
  std::optional<AccessToken> FindToken(std::string_view id) const EXCLUDES(mu_);
  std::vector<AccessToken> ListTokens() const EXCLUDES(mu_);
  // Grows whenever a token or a namespace goes away, so that a connection
  // can recheck its credentials only when something changed.
  uint64_t access_epoch() const { return access_epoch_.load(std::memory_order_acquire); }

  // on_durable runs once everything committed before is synced.
  void Flush(DurableCallback on_durable) EXCLUDES(mu_);
  Status Flush() EXCLUDES(mu_);  // waits
  // Writes an index checkpoint now (after a flush). For tests and operators.
  Status WriteCheckpointNow() EXCLUDES(mu_);
  // One step of the flusher's work (flusher.h); false when there was none.
  // For an engine opened without its flusher thread.
  bool RunFlusherOnce() EXCLUDES(mu_) { return flusher_->RunOnce(); }

  EngineStats Stats() const EXCLUDES(mu_);
  const EngineOptions& options() const { return options_; }

 private:
  Engine(const EngineOptions& options, std::unique_ptr<Arena> arena);
  // Superblock, catalog, then the index from the checkpoint and the log.
  Status Recover() EXCLUDES(mu_);
  void StartFlusher();
  // The space_wait_ms a PUT may wait for DRAM (none without a flusher
  // thread: nothing would clean DRAM meanwhile).
  uint64_t SpaceWaitMs() const { return options_.flusher_thread ? options_.space_wait_ms : 0; }
  uint64_t NowMs() const { return env_->WallClockMs(); }

  // A DRAM pin loads what is only on flash.
  Status LoadIntoDram(uint32_t ns, const std::vector<std::string>& keys) EXCLUDES(mu_);
  // SetExpiry's steps (engine_expiry.cc): the new version of e, in DRAM,
  // queued for the flusher; and the load of a flash-only e into DRAM, with
  // mu_ released meanwhile (e may be gone on return: look it up again).
  Status RewriteWithExpiry(Entry& e, uint64_t expires_ms) REQUIRES(mu_);
  Status LoadForRewrite(Entry& e) REQUIRES(mu_);
  // Runs change (a catalog change) under catalog_mu_ and mu_, unless the
  // engine is closed. Defined here: engine.cc (Unpin) and engine_catalog.cc
  // both use it.
  template <typename Change>
  auto ChangeCatalog(const Change& change) -> decltype(change()) {
    MutexLock catalog_lock(&catalog_mu_);
    MutexLock lock(&mu_);
    if (closed_) return Status::Unavailable("engine closed");
    return change();
  }
  // Starts an operation that reports through a DurableCallback and waits
  // for the report; without a flusher thread, steps the flusher meanwhile.
  Status WaitDurable(const std::function<Status(DurableCallback)>& start) EXCLUDES(mu_);

  const EngineOptions options_;  // as adjusted by Open
  Env* const env_;
  const std::unique_ptr<Device> owned_device_;  // the POSIX one, unless options name one
  Device* const device_;
  const std::unique_ptr<Arena> arena_;
  MetaInterner interner_;  // metadata shared by objects with only a writer (thread-safe)

  Mutex close_mu_;  // one Close at a time
  bool flusher_stopped_ GUARDED_BY(close_mu_) = false;
  // Serializes catalog changes: each writes the file with mu_ released.
  Mutex catalog_mu_ ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;  // guards everything below but access_epoch_ and flusher_
  bool closed_ GUARDED_BY(mu_) = false;
  EngineStats stats_ GUARDED_BY(mu_);
  Catalog catalog_ GUARDED_BY(mu_);
  LeaseTable leases_ GUARDED_BY(mu_);
  FlushQueue queue_ GUARDED_BY(mu_);
  ObjectTable objects_ GUARDED_BY(mu_);
  SegmentSet segments_ GUARDED_BY(mu_);
  FlashHost flash_host_;  // the flusher's view of the above
  std::atomic<uint64_t> access_epoch_{0};
  // Last: stopped (by Close) and destroyed before what it uses.
  std::unique_ptr<Flusher> flusher_;
};

}  // namespace ctxstore::engine
