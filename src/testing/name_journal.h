// The FaultDevice's record of name changes that are not yet durable. A
// create, rename or remove changes a directory; POSIX makes it durable only
// once the directory is fsynced (SyncDir), so until then a power cut may
// undo it: a created file is gone, a renamed one is back under its old name
// (and what the rename replaced is back too), a removed one is back.
//
// Per directory the changes are kept in order; at a cut, a file system
// that journals its metadata keeps an oldest part of them and undoes the
// rest, newest first. Which part is drawn per directory: half the time
// none survives, otherwise a random prefix (possibly all). A successful
// SyncDir of the directory makes every change before it durable.
//
// Works through the Device interface only (the POSIX device or the
// in-memory one): what a rename replaces or a remove takes away is read
// before the change and written back if it is undone. Not thread-safe: the
// FaultDevice calls it with its mutex held. PowerCutDevice
// (power_cut_device.h) keeps the same promise for a real server with hard
// links instead of copies; its header says why the two are apart.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ctxstore/status.h"
#include "engine/flash/device.h"

namespace ctxstore::engine {

// What the FaultDevice tracks of a file: its size at its last successful
// Sync(); what lies beyond is the unsynced tail a power loss may drop.
struct TrackedFile {
  uint64_t synced_size = 0;
};
// By path; ordered, so that a crash draws in path order.
using TrackedFiles = std::map<std::string, TrackedFile>;

// The directory a path's name lives in ("." for a bare name); trailing
// slashes of a directory path are dropped.
std::string NameDirOf(const std::string& path);
std::string NormalizeDir(const std::string& dir);

class NameJournal {
 public:
  explicit NameJournal(Device* base) : base_(base) {}

  // path was just created on the base (it did not exist).
  void Created(const std::string& path);
  // Remove and rename on the base, recorded; files follows the names.
  Status Remove(const std::string& path, TrackedFiles* files);
  Status Rename(const std::string& from, const std::string& to, TrackedFiles* files);
  // A successful SyncDir of dir: its changes are durable.
  void Synced(const std::string& dir);

  // A power cut: undoes, per directory, the changes that did not survive
  // (drawn from rng); files follows. The number undone.
  uint64_t UndoAtCrash(std::mt19937_64& rng, TrackedFiles* files);
  uint64_t pending() const;

 private:
  enum class Kind { kCreate, kRename, kRemove };
  struct Change {
    Kind kind = Kind::kCreate;
    std::string path;  // the name created, removed, or renamed to
    std::string from;  // a rename's old name
    // What a rename replaced or a remove took away, to be put back.
    std::optional<std::string> old_content;
    TrackedFile old_state;
  };
  // Saves the file at path (if any) into change, as it stands.
  void Save(const std::string& path, const TrackedFiles& files, Change* change);
  void Undo(const Change& change, TrackedFiles* files);
  // Puts content back at path (creating it) and tracks it as state.
  void Restore(const std::string& path, const std::string& content, const TrackedFile& state,
               TrackedFiles* files);

  Device* const base_;
  std::map<std::string, std::vector<Change>> pending_;  // by directory
};

}  // namespace ctxstore::engine
