// SCAN's cursors for the Redis front end. Redis clients treat a cursor as
// an integer they hand back, often on another pooled connection, so the
// position (the last key listed, in key order) is kept here, server-wide,
// under a number. Each cursor belongs to the namespace that made it:
// another namespace's connection cannot continue it (or learn anything
// from it). Each namespace keeps at most kMaxPerNamespace cursors, the
// least recently used going first, so that one tenant's scans never drop
// another's; a client that comes back with a dropped one gets "invalid
// cursor" and starts over. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace ctxstore::server {

class ScanCursors {
 public:
  static constexpr size_t kMaxPerNamespace = 256;

  // first_id: where the numbering starts (random at startup, so that a
  // cursor is not a count anyone can guess).
  explicit ScanCursors(uint64_t first_id);

  // A new cursor (never 0) that goes on after `after_key` in namespace ns.
  uint64_t Save(uint32_t ns, std::string after_key) EXCLUDES(mu_);
  // The key cursor goes on after (the cursor counts as used); nullopt when
  // unknown, dropped, or made in another namespace.
  std::optional<std::string> Find(uint32_t ns, uint64_t cursor) EXCLUDES(mu_);

 private:
  struct Position {
    uint32_t ns;
    std::string after_key;
    std::list<uint64_t>::iterator in_order;  // in order_[ns]
  };
  Mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Position> cursors_ GUARDED_BY(mu_);
  // Per namespace, its cursors least recently used first.
  std::unordered_map<uint32_t, std::list<uint64_t>> order_ GUARDED_BY(mu_);
};

}  // namespace ctxstore::server
