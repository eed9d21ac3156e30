#include "service/key_ops.h"

#include <string>

#include "common/clock.h"

namespace ctxstore::service {

Result<engine::ValueRef> Get(const Service& service, const Session& session, std::string_view key,
                             bool never_block) {
  return service.engine().Get(session.namespace_id(), key, never_block);
}

Result<engine::ValueRef> ReadFromFlash(const Service& service, uint32_t namespace_id,
                                       std::string_view key) {
  return service.engine().Get(namespace_id, key);
}

StatusCode BatchGetBudget::Before(const Result<uint64_t>& length) const {
  if (!length.ok()) return length.status().code();
  return used_bytes_ + *length > max_bytes_ ? StatusCode::kTooLarge : StatusCode::kOk;
}

StatusCode BatchGetBudget::Take(const Result<engine::ValueRef>& value) {
  if (!value.ok()) return value.status().code();
  // It may have been replaced by a larger one since its size was asked.
  if (used_bytes_ + value->size > max_bytes_) return StatusCode::kTooLarge;
  used_bytes_ += value->size;
  return StatusCode::kOk;
}

Status SetExpiry(const Service& service, uint32_t namespace_id, std::string_view key,
                 uint64_t expires_ms, bool never_block) {
  return service.engine().SetExpiry(namespace_id, key, expires_ms, never_block);
}

Result<uint64_t> Exists(const Service& service, const Session& session, std::string_view key) {
  return service.engine().Exists(session.namespace_id(), key);
}

Status Delete(const Service& service, const Session& session, std::string_view key, bool sync,
              engine::DurableCallback on_durable) {
  Status st = service.engine().Delete(session.namespace_id(), key, sync, std::move(on_durable));
  if (st.ok()) {
    nlohmann::json fields = {{"namespace_id", session.namespace_id()}, {"key", std::string(key)}};
    service.Audit(session, "delete", std::move(fields));
  }
  return st;
}

std::vector<bool> BatchExists(const Service& service, const Session& session,
                              std::span<const std::string_view> keys) {
  std::vector<bool> present(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    present[i] = service.engine().Exists(session.namespace_id(), keys[i]).ok();
  }
  return present;
}

Result<MatchResult> MatchPrefix(const Service& service, Session& session,
                                const protocol::MatchPrefixRequest& request) {
  if (request.lease_ms > 0 && !session.leases().HasSlot(session.namespace_id())) {
    return Status::Busy("too many leases on this connection");
  }
  auto m = service.engine().MatchPrefix(session.namespace_id(), request.keys, request.lease_ms);
  if (!m.ok()) return m.status();
  if (m->lease_id != 0) session.leases().Add(m->lease_id, MonotonicMs() + request.lease_ms);
  return m;
}

Status Release(const Service& service, Session& session, uint64_t lease_id) {
  // Forgotten here whatever the engine says: NOT_FOUND means it ended.
  session.leases().Forget(lease_id);
  return service.engine().ReleaseLease(session.namespace_id(), lease_id);
}

void Flush(const Service& service, engine::DurableCallback on_durable) {
  service.engine().Flush(std::move(on_durable));
}

}  // namespace ctxstore::service
