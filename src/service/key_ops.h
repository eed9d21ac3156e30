// The read and delete ops on keys of the session's namespace: GET (and each
// BATCH_GET item), EXISTS, DELETE, BATCH_EXISTS, MATCH_PREFIX (with leases),
// RELEASE and FLUSH. Values are handed out as engine::ValueRef, which keeps
// the bytes alive in the arena for as long as the front end sends from them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ctxstore/status.h"
#include "engine/engine.h"
#include "protocol/read_ops.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// GET. With never_block, a value that is only on flash answers kBusy at
// once, before anything about it changes: a front end on an event loop
// then reads it with ReadFromFlash on a thread that may wait, so that the
// other sessions of its thread never wait for the device.
Result<engine::ValueRef> Get(const Service& service, const Session& session, std::string_view key,
                             bool never_block);
// GET's blocking read. It takes the namespace rather than the session,
// which stays with the front end's thread.
Result<engine::ValueRef> ReadFromFlash(const Service& service, uint32_t namespace_id,
                                       std::string_view key);

// BATCH_GET's reply budget (max_batch_bytes of values): an item whose value
// would go past it answers kTooLarge, and its size is known before it is
// read, so it is never read from flash.
class BatchGetBudget {
 public:
  explicit BatchGetBudget(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  // Before the read, from EXISTS: kOk (read it) or the item's status.
  StatusCode Before(const Result<uint64_t>& length) const;
  // After the read: kOk (the value now counts against the budget) or the
  // item's status.
  StatusCode Take(const Result<engine::ValueRef>& value);

 private:
  uint64_t max_bytes_;
  uint64_t used_bytes_ = 0;
};

// EXPIRE/PERSIST (the Redis front end): a new absolute expiry (0: none)
// for a present object, durable as a PUT (engine.h, SetExpiry). With
// never_block, an object only on flash answers kBusy at once: the front
// end repeats the call on a thread that may wait. It takes the namespace,
// as ReadFromFlash does.
Status SetExpiry(const Service& service, uint32_t namespace_id, std::string_view key,
                 uint64_t expires_ms, bool never_block);

// EXISTS: the value's length.
Result<uint64_t> Exists(const Service& service, const Session& session, std::string_view key);
// DELETE, audited. A sync delete calls on_durable once its tombstone is on
// flash and synced (only when it returns OK); the front end waits for it.
Status Delete(const Service& service, const Session& session, std::string_view key, bool sync,
              engine::DurableCallback on_durable);
// BATCH_EXISTS: one flag per key.
std::vector<bool> BatchExists(const Service& service, const Session& session,
                              std::span<const std::string_view> keys);
// MATCH_PREFIX: the number of leading keys present. With lease_ms > 0 the
// matched objects are leased to the session (kBusy past its
// max_leases_per_connection, or the store's and the namespace's bounds).
Result<MatchResult> MatchPrefix(const Service& service, Session& session,
                                const protocol::MatchPrefixRequest& request);
// RELEASE: ends a lease taken in the session's namespace (kNotFound when
// unknown, ended, or taken in another namespace).
Status Release(const Service& service, Session& session, uint64_t lease_id);
// FLUSH: on_durable runs once everything acknowledged before is on flash
// and synced; the front end waits for it.
void Flush(const Service& service, engine::DurableCallback on_durable);

}  // namespace ctxstore::service
