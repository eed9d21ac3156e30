// What the store says about its objects: everything known about one
// (STAT, LIST), pages of a listing, and prefix matches. The engine returns
// these, the protocol carries them, and the client hands them to callers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ctxstore {

// Everything the server knows about one object (Stat, List).
struct ObjectInfo {
  std::string key;
  uint32_t namespace_id = 0;
  uint64_t value_len = 0;
  uint64_t value_xxh3 = 0;
  uint64_t created_ms = 0;  // wall clock, ms since the Unix epoch
  uint64_t expires_ms = 0;  // 0 = never
  bool in_dram = false;
  bool on_flash = false;
  bool durable = false;  // on flash and synced
  bool sealed = false;   // encrypted on flash (its namespace has an encryption key)
  bool pinned = false;
  bool pin_dram = false;
  uint64_t pin_expires_ms = 0;  // 0 = until unpinned
  uint32_t leases = 0;
  uint64_t lease_expires_ms = 0;
  bool orphan = false;  // its parent is gone
  std::string group;
  std::string parent;
  std::string writer;  // the token id that stored it (the client name without authentication)
  std::string meta;
};

// LIST pages hold at most this many objects.
inline constexpr uint32_t kMaxListLimit = 1000;

struct ListOptions {
  std::string prefix;    // keys starting with this ("" = all)
  std::string group;     // "" = any group
  std::string cursor;    // the previous page's next_cursor ("" = from the start)
  uint32_t limit = 100;  // 1..1000 objects per page
};

struct ListPage {
  std::vector<ObjectInfo> items;  // in key order
  std::string next_cursor;        // "" when this was the last page
};

// MATCH_PREFIX: how much of a request's prefix chain is stored.
struct MatchResult {
  uint32_t matched = 0;   // leading keys present
  uint64_t lease_id = 0;  // 0 when nothing matched (no lease was taken)
};

}  // namespace ctxstore
