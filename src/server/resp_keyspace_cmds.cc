// RespConnection: the commands on the session's whole namespace (its
// keyspace, as a Redis client sees it): SCAN, KEYS, DBSIZE, FLUSHDB (and
// FLUSHALL, the same here: one namespace is one keyspace), INFO; and
// CTX.PIN / CTX.UNPIN. Listing goes through the service's LIST, a page at
// a time in key order; it scans the namespace's index for each page (LIST
// is for inspection, not the data path; a page costs a pass over the whole
// index under the engine's lock: docs/compatibility.md), so KEYS is bounded
// and every SCAN page is as large as LIST allows.
#include <string>
#include <vector>

#include "protocol/resp_glob.h"
#include "server/resp_connection_impl.h"
#include "service/context_ops.h"
#include "service/key_ops.h"

namespace ctxstore::server {
namespace {

using protocol::EqualsNoCase;
using protocol::ParseRedisInt;

// A MATCH pattern is matched against every key listed: O(pattern x key)
// at worst each, so it is bounded.
constexpr size_t kMaxPatternBytes = 256;
// KEYS answers whole namespaces up to this many objects (ten LIST pages);
// past it, SCAN.
constexpr uint64_t kMaxKeysObjects = 10'000;

std::string PatternTooLong() {
  return "MATCH pattern too long: at most " + std::to_string(kMaxPatternBytes) + " bytes";
}

}  // namespace

std::optional<NamespaceInfo> RespConnection::OwnNamespace() const {
  for (NamespaceInfo& ns : ctx_.service->engine().ListNamespaces()) {
    if (ns.id == session_->namespace_id()) return std::move(ns);
  }
  return std::nullopt;
}

void RespConnection::CmdScan() {
  // SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
  auto cursor = ParseRedisInt(Arg(1));
  if (!cursor || *cursor < 0) {
    ReplyError("invalid cursor");
    return;
  }
  std::string_view pattern = "*";
  int64_t count = 10;
  bool strings = true;  // TYPE: every value is a string
  for (uint32_t i = 2; i < argc(); i += 2) {
    if (i + 1 >= argc()) {
      ReplyError(protocol::kSyntaxErrorText);
      return;
    }
    const std::string_view option = Arg(i), value = Arg(i + 1);
    if (EqualsNoCase(option, "match")) {
      pattern = value;
    } else if (EqualsNoCase(option, "count")) {
      auto n = ParseRedisInt(value);
      if (!n) return ReplyError(protocol::kNotIntegerText);
      if (*n < 1) return ReplyError(protocol::kSyntaxErrorText);
      count = *n;
    } else if (EqualsNoCase(option, "type")) {
      strings = EqualsNoCase(value, "string");
    } else {
      return ReplyError(protocol::kSyntaxErrorText);
    }
  }
  if (pattern.size() > kMaxPatternBytes) return ReplyError(PatternTooLong());
  ListOptions list;
  // COUNT is a hint, as in Redis: each page costs a pass over the index,
  // so a page is always as large as LIST allows.
  (void)count;
  list.limit = kMaxListLimit;
  if (*cursor != 0) {
    auto after = ctx_.scan_cursors->Find(session().namespace_id(), static_cast<uint64_t>(*cursor));
    if (!after) return ReplyError("invalid cursor");
    list.cursor = std::move(*after);
  }
  auto page = service::List(*ctx_.service, session(), list);
  if (!page.ok()) return ReplyStatus(page.status());
  std::vector<std::string_view> keys;
  for (const ObjectInfo& o : page->items) {
    if (strings && protocol::GlobMatch(pattern, o.key)) keys.push_back(o.key);
  }
  const uint64_t next = page->next_cursor.empty()
                            ? 0
                            : ctx_.scan_cursors->Save(session().namespace_id(), page->next_cursor);
  protocol::RespWriter w = Writer();
  w.Array(2);
  w.Bulk(std::to_string(next));
  w.Array(keys.size());
  for (std::string_view k : keys) w.Bulk(k);
}

void RespConnection::CmdKeys() {
  const std::string_view pattern = Arg(1);
  if (pattern.size() > kMaxPatternBytes) return ReplyError(PatternTooLong());
  const std::optional<NamespaceInfo> ns = OwnNamespace();
  if (ns && ns->objects > kMaxKeysObjects) {
    return ReplyError("KEYS would list " + std::to_string(ns->objects) + " objects (at most " +
                      std::to_string(kMaxKeysObjects) + "): use SCAN");
  }
  std::vector<std::string> keys;
  ListOptions list;
  list.limit = kMaxListLimit;
  for (uint64_t listed = 0; listed <= kMaxKeysObjects;) {
    auto page = service::List(*ctx_.service, session(), list);
    if (!page.ok()) return ReplyStatus(page.status());
    for (ObjectInfo& o : page->items) {
      if (protocol::GlobMatch(pattern, o.key)) keys.push_back(std::move(o.key));
    }
    listed += page->items.size();
    if (page->next_cursor.empty()) break;
    list.cursor = std::move(page->next_cursor);
  }
  protocol::RespWriter w = Writer();
  w.Array(keys.size());
  for (const std::string& k : keys) w.Bulk(k);
}

void RespConnection::CmdDbsize() {
  const std::optional<NamespaceInfo> ns = OwnNamespace();
  Writer().Integer(ns ? static_cast<int64_t>(ns->objects) : 0);
}

void RespConnection::CmdFlushdb() {
  // FLUSHDB [ASYNC|SYNC]: the deletes are the same either way (each is
  // acknowledged from DRAM, its tombstone reaching flash behind).
  if (argc() > 2 ||
      (argc() == 2 && !EqualsNoCase(Arg(1), "async") && !EqualsNoCase(Arg(1), "sync"))) {
    return ReplyError(protocol::kSyntaxErrorText);
  }
  ListOptions list;
  list.limit = kMaxListLimit;
  for (;;) {
    auto page = service::List(*ctx_.service, session(), list);
    if (!page.ok()) return ReplyStatus(page.status());
    for (const ObjectInfo& o : page->items) {
      // One that is already gone (expired, deleted meanwhile) is fine.
      (void)service::Delete(*ctx_.service, session(), o.key, /*sync=*/false, nullptr);
    }
    if (page->next_cursor.empty()) break;
    list.cursor = page->next_cursor;
  }
  Writer().Simple("OK");
}

void RespConnection::CmdInfo() {
  const engine::EngineStats stats = ctx_.service->engine().Stats();
  const service::Counters& counters = ctx_.service->counters();
  const std::optional<NamespaceInfo> ns = OwnNamespace();
  // Store-wide figures are an admin's (as the native STATS); other tokens
  // see their namespace's.
  const bool admin = session().principal().Has(engine::TokenRole::kAdmin);
  std::string t;
  const auto line = [&t](std::string_view name, const std::string& value) {
    t.append(name).append(":").append(value).append("\r\n");
  };
  t += "# Server\r\n";
  line("redis_version", "7.0.15");
  line("ctxstore_version", ctx_.service->options().server_version);
  line("redis_mode", "standalone");
  line("arch_bits", "64");
  t += "\r\n# Clients\r\n";
  line("connected_clients", std::to_string(counters.connections.load()));
  t += "\r\n# Memory\r\n";
  line("used_memory", std::to_string(admin ? stats.dram_bytes : (ns ? ns->bytes : 0)));
  line("maxmemory", std::to_string(stats.dram_capacity_bytes));
  line("maxmemory_policy", "allkeys-lru");
  if (admin) {
    line("ctxstore_flash_bytes", std::to_string(stats.flash_bytes));
    line("ctxstore_flash_capacity_bytes", std::to_string(stats.flash_capacity_bytes));
    t += "\r\n# Stats\r\n";
    line("total_connections_received", std::to_string(counters.connections_total.load()));
    line("total_commands_processed", std::to_string(counters.requests.load()));
    line("keyspace_hits", std::to_string(stats.hits_dram + stats.hits_flash));
    line("keyspace_misses", std::to_string(stats.misses));
    line("evicted_keys", std::to_string(stats.evictions_quota));
    line("expired_keys", std::to_string(stats.expired_objects));
  }
  t += "\r\n# Keyspace\r\n";
  if (ns && ns->objects > 0)
    line("db0", "keys=" + std::to_string(ns->objects) + ",expires=0,avg_ttl=0");
  Writer().Verbatim(t);
}

void RespConnection::CmdPin(bool unpin) {
  // CTX.PIN name [TTL ms] [DRAM] [GROUP] | CTX.UNPIN name [GROUP]
  protocol::PinRequest request;
  request.name = std::string(Arg(1));
  for (uint32_t i = 2; i < argc(); ++i) {
    const std::string_view option = Arg(i);
    if (EqualsNoCase(option, "group")) {
      request.by_group = true;
    } else if (!unpin && EqualsNoCase(option, "dram")) {
      request.dram = true;
    } else if (!unpin && EqualsNoCase(option, "ttl") && i + 1 < argc()) {
      auto ms = ParseRedisInt(Arg(++i));
      if (!ms || *ms < 0) return ReplyError(protocol::kNotIntegerText);
      request.ttl_ms = static_cast<uint64_t>(*ms);
    } else {
      return ReplyError(protocol::kSyntaxErrorText);
    }
  }
  if (unpin) {
    Status st = service::Unpin(*ctx_.service, session(), request);
    if (st.code() == StatusCode::kNotFound) return ReplyError("no such pin");
    return ReplyStatus(st);
  }
  auto pinned = service::Pin(*ctx_.service, session(), request);
  if (!pinned.ok()) return ReplyStatus(pinned.status());
  Writer().Integer(static_cast<int64_t>(*pinned));
}

void RespConnection::RunKeyspaceCommand(protocol::RespCommand command) {
  using C = protocol::RespCommand;
  switch (command) {
    case C::kScan:
      return CmdScan();
    case C::kKeys:
      return CmdKeys();
    case C::kDbsize:
      return CmdDbsize();
    case C::kFlushdb:
      return CmdFlushdb();
    case C::kInfo:
      return CmdInfo();
    case C::kCtxPin:
      return CmdPin(/*unpin=*/false);
    case C::kCtxUnpin:
      return CmdPin(/*unpin=*/true);
    case C::kExpiretime:
      return CmdExpireTime(/*millis=*/false);
    case C::kPexpiretime:
      return CmdExpireTime(/*millis=*/true);
    default:
      CTX_CHECK(false && "a command RunAtOnce does not know");
  }
}

}  // namespace ctxstore::server
