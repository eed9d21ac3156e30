// SCAN's cursors for the Redis front end. Redis clients treat a cursor as
// an integer they hand back, often on another pooled connection, so the
// position (the last key listed, in key order) is kept here, server-wide,
// under a number. Each cursor belongs to the namespace that made it:
// another namespace's connection cannot continue it (or learn anything
// from it). At most kMaxCursors are kept; the oldest go first, and a
// client that comes back with one gets "invalid cursor" and starts over.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace ctxstore::server {

class ScanCursors {
 public:
  static constexpr size_t kMaxCursors = 4096;

  // first_id: where the numbering starts (random at startup, so that a
  // cursor is not a count anyone can guess).
  explicit ScanCursors(uint64_t first_id);

  // A new cursor (never 0) that goes on after `after_key` in namespace ns.
  uint64_t Save(uint32_t ns, std::string after_key) EXCLUDES(mu_);
  // The key cursor goes on after; nullopt when unknown, dropped, or made
  // in another namespace.
  std::optional<std::string> Find(uint32_t ns, uint64_t cursor) const EXCLUDES(mu_);

 private:
  struct Position {
    uint32_t ns;
    std::string after_key;
  };
  mutable Mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Position> cursors_ GUARDED_BY(mu_);
  std::deque<uint64_t> order_ GUARDED_BY(mu_);  // oldest first
};

}  // namespace ctxstore::server
