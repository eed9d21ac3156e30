// PUT and BATCH_PUT without the bytes: the write options a request gets
// from its session and put-options block, the in-flight budget, and the
// engine's reservation and commit. The front end parses the prefix
// (protocol/put_body.h) and receives each value straight into its
// reservation's arena block between BeginPut and CommitPut:
//
//   opts  = WriteOptionsFor(session, flags, parser.options())
//   hold  = service.inflight().Reserve(value_len)   (kBusy: skip the value)
//   put   = BeginPut(service, key, value_len, opts) (error: skip the value)
//   ...receive value_len bytes into put->buffer()...
//   CommitPut(service, std::move(*put), on_durable)  (sync: wait for it)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ctxstore/status.h"
#include "engine/engine.h"
#include "protocol/messages.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// The session's namespace and writer, the request's SYNC and OVERWRITE
// flags, and the block's TTL, group, parent and metadata. (The block's
// CHAIN flag is BATCH_PUT's: see LinkNextItem.)
engine::WriteOptions WriteOptionsFor(const Session& session, uint16_t flags,
                                     const std::optional<protocol::PutOptionsBlock>& block);

// BATCH_PUT with CHAIN: the next item's parent is this item's key, even when
// this one was refused (EXISTS, say): the links describe the prefix, not
// the writes. Does nothing without CHAIN.
void LinkNextItem(const std::optional<protocol::PutOptionsBlock>& block, std::string_view key,
                  engine::WriteOptions* opts);

// kExists early when the key is present and OVERWRITE is not set, kTooLarge
// past the server's max value, kNoSpace when DRAM stays full of unwritten
// data: the front end then skips the value's bytes.
Result<engine::PutReservation> BeginPut(const Service& service, std::string_view key,
                                        uint64_t value_len, const engine::WriteOptions& opts);
// Makes the filled reservation visible (kCorrupt when it does not match the
// client's checksum). For a sync write, on_durable runs once its record is
// synced, only when this returns OK; the front end waits for it.
Status CommitPut(const Service& service, engine::PutReservation reservation,
                 engine::DurableCallback on_durable);

}  // namespace ctxstore::service
