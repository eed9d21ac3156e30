// A Device over the real file system that knows what is durable, for power
// cuts under a whole server process (tests/durability). FaultDevice
// (fault_device.h) models a power loss inside one test process and takes
// names as durable at once; this one also undoes names, because what it
// tests is the server's fsync discipline, directories included:
//   - data: what a file held at its last successful Sync() is durable. A
//     write past that size is an unsynced tail; a write over synced bytes
//     first saves their old contents (an undo record); Open(truncate) of a
//     synced file saves all of it.
//   - names: a create, remove, rename (and a created directory) is durable
//     once its directory has been synced (SyncDir). Until then a removed or
//     replaced file is kept as a hard link in the stash folder, so that a
//     cut can put it back.
// CutPower() rolls every file and name back to that durable state: undo
// records in reverse, unsynced tails dropped or partly kept (power_loss.h:
// a torn prefix or scattered blocks, never more than was written, drawn
// from a seed), pending name changes undone newest first. Afterwards every
// operation fails; the test server then kills itself without running a
// destructor, and the next start finds what a machine would after losing
// power. What the page cache does with the rolled-back files is not
// modelled: they are the disk.
// Also scripted disk faults that stay until cleared: ENOSPC or EIO on
// writes, syncs, reads or creates of files whose path contains a substring.
// Thread-safe: every mutating operation holds the device's lock across the
// base I/O, so that nothing lands after a cut. Needs a POSIX base (hard
// links, removing a directory tree): NewPosixDevice().
//
// Why this is not FaultDevice's bookkeeping (name_journal.h) reused: what
// a file keeps of its unsynced tail is shared (power_loss.h); the rest
// differs on purpose. NameJournal saves what a remove or rename takes away
// by copying its bytes through the Device interface, which works on the
// in-memory device and is cheap for the simulator's small files; here a
// real server removes and replaces whole segment files (up to GiBs), so a
// hard link in the stash keeps them in O(1), which needs POSIX. Files are
// tracked by identity (an id per inode, following renames and removes
// while open) rather than by path, overwrites of synced bytes are undone
// (undo records), and a cut undoes every pending name change (the worst
// case, so that a test's expectations do not depend on a draw), where
// NameJournal draws which oldest part of them a journaling file system
// kept, for the simulator to cover many outcomes over many seeds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "engine/flash/device.h"
#include "testing/power_loss.h"

namespace ctxstore::engine {

enum class DiskOp { kWrite, kSync, kRead, kCreate };
enum class DiskFault { kNoSpace, kIoError };

// What a cut rolled back.
struct CutReport {
  uint64_t files_rolled_back = 0;  // files with unsynced writes or undo records
  uint64_t unsynced_bytes = 0;     // bytes above the synced sizes, before the cut
  uint64_t kept_bytes = 0;         // of those, what the tails kept
  uint64_t names_undone = 0;       // creates, removes, renames, directories
  uint64_t at_op = 0;              // the mutating operation it fell at (0: on command)
  std::string at;                  // that operation and path ("" on command)
};

struct PowerCutCounts {
  uint64_t mutating_ops = 0;  // writes, syncs, creates, renames, removes, directory ops
  uint64_t syncs = 0;
  uint64_t dir_syncs = 0;
  uint64_t injected_faults = 0;
  uint64_t unsynced_bytes = 0;  // now, over all files
  uint64_t pending_names = 0;   // name changes not yet made durable by a SyncDir
};

class PowerCutDevice : public Device {
 public:
  // base must outlive this device. stash_dir: a folder of the device's own
  // (emptied here) on the same file system as the data (hard links), not
  // inside the data folder.
  PowerCutDevice(Device* base, std::string stash_dir);
  ~PowerCutDevice() override;

  // Power cut now: rolls everything back to its durable state (see above).
  Result<CutReport> CutPower(CrashTail tail, uint64_t seed);
  // Power cut at the n-th (n >= 1) mutating operation from now: that
  // operation takes effect or not (drawn from the seed), then the cut;
  // then on_cut runs in the thread that made the operation, with the lock
  // held (the test server kills itself there), and the operation fails.
  void CutPowerAtOp(uint64_t n, CrashTail tail, uint64_t seed,
                    std::function<void(const Result<CutReport>&)> on_cut);

  // Every later op on a file whose path contains path_substring ("" = any)
  // fails with fault, until ClearFaults().
  void AddFault(DiskOp op, DiskFault fault, std::string path_substring);
  void ClearFaults();
  PowerCutCounts counts() const;

  // Device
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& opts) override;
  Status Remove(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  bool FileExists(const std::string& path) override;

 private:
  friend class PowerCutFile;
  // One file (an inode): where it is now, what of it is durable.
  struct Undo {
    uint64_t offset = 0;
    std::string old_bytes;
  };
  struct Tracked {
    std::string path;  // its name now, or its stash link while a remove is pending
    uint64_t synced_size = 0;
    std::vector<Undo> undo;  // old bytes of synced ranges overwritten since the last sync
  };
  // A name change not yet durable, with what undoes it.
  struct NameChange {
    enum Kind { kCreated, kRemoved, kRenamed, kMadeDir } kind;
    std::string dir;    // whose SyncDir makes it durable
    std::string path;   // created / removed / made; a rename's target
    std::string from;   // a rename's source
    std::string stash;  // the removed file, or the file a rename replaced ("": none)
  };
  struct Rule {
    DiskOp op;
    DiskFault fault;
    std::string path_substring;
  };

  // Faults and cut points; called with mu_ held.
  Status FaultLocked(DiskOp op, const std::string& path);
  bool AtCutPointLocked(const std::string& what, const std::string& path, bool* lands);
  Status CutAtOpLocked();  // runs the armed cut and its callback; the op's error
  Result<CutReport> CutLocked(CrashTail tail);

  // Bookkeeping; called with mu_ held.
  uint64_t TrackLocked(const std::string& path, uint64_t synced_size);
  Status SaveUndoLocked(uint64_t id, uint64_t offset, uint64_t len);
  Status SyncedLocked(uint64_t id, File* base_file);
  Result<std::string> StashLocked(const std::string& path);
  Status OpenLocked(const std::string& path, const OpenOptions& opts, std::unique_ptr<File>* out);
  Status RemoveLocked(const std::string& path);
  Status RenameLocked(const std::string& from, const std::string& to);
  Status CreateDirLocked(const std::string& path);
  Status SyncDirLocked(const std::string& dir);
  Status RollBackFileLocked(Tracked& file, CrashTail tail, CutReport* report);
  Status UndoNameLocked(const NameChange& change);
  uint64_t UnsyncedBytesLocked() const;

  Device* const base_;
  const std::string stash_dir_;
  mutable std::mutex mu_;
  std::map<uint64_t, Tracked> files_;      // by id, in creation order
  std::map<std::string, uint64_t> ids_;    // path (or stash link) -> id
  std::vector<NameChange> pending_names_;  // oldest first
  std::vector<Rule> rules_;
  uint64_t next_id_ = 1;
  uint64_t next_stash_ = 1;
  bool cut_ = false;
  uint64_t cut_at_op_ = 0;  // 0: none armed
  CrashTail cut_tail_ = CrashTail::kDrop;
  std::mt19937_64 rng_;
  std::function<void(const Result<CutReport>&)> on_cut_;
  CutReport armed_report_;
  PowerCutCounts counts_;
};

}  // namespace ctxstore::engine
