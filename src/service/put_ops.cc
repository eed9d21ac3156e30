#include "service/put_ops.h"

#include <string>

namespace ctxstore::service {

engine::WriteOptions WriteOptionsFor(const Session& session, uint16_t flags,
                                     const std::optional<protocol::PutOptionsBlock>& block) {
  engine::WriteOptions o;
  o.sync = (flags & protocol::kFlagSync) != 0;
  o.overwrite = (flags & protocol::kFlagOverwrite) != 0;
  o.namespace_id = session.namespace_id();
  o.writer = session.writer();
  if (block) {
    o.ttl_ms = block->ttl_ms;
    o.group = block->group;
    o.parent = block->parent;
    o.meta = block->meta;
  }
  return o;
}

void LinkNextItem(const std::optional<protocol::PutOptionsBlock>& block, std::string_view key,
                  engine::WriteOptions* opts) {
  if (block && (block->put_flags & protocol::kPutFlagChain) != 0) opts->parent = std::string(key);
}

Result<engine::PutReservation> BeginPut(const Service& service, std::string_view key,
                                        uint64_t value_len, const engine::WriteOptions& opts) {
  return service.engine().BeginPut(key, value_len, opts);
}

Status CommitPut(const Service& service, engine::PutReservation reservation,
                 engine::DurableCallback on_durable) {
  return service.engine().CommitPut(std::move(reservation), std::move(on_durable));
}

}  // namespace ctxstore::service
