#include "service/context_ops.h"

#include <string>

#include "common/limits.h"

namespace ctxstore::service {

Result<ObjectInfo> Stat(const Service& service, const Session& session, std::string_view key) {
  return service.engine().Stat(session.namespace_id(), key);
}

Result<ListPage> List(const Service& service, const Session& session, const ListOptions& request) {
  if (request.limit == 0 || request.limit > kMaxListLimit) {
    return Status::Invalid("LIST limit must be 1.." + std::to_string(kMaxListLimit));
  }
  return service.engine().List(session.namespace_id(), request);
}

Result<uint64_t> Pin(const Service& service, const Session& session,
                     const protocol::PinRequest& request) {
  engine::PinOptions opts;
  opts.group = request.by_group;
  opts.ttl_ms = request.ttl_ms;
  opts.dram = request.dram;
  return service.engine().Pin(session.namespace_id(), request.name, opts);
}

Status Unpin(const Service& service, const Session& session, const protocol::PinRequest& request) {
  return service.engine().Unpin(session.namespace_id(), request.name, request.by_group);
}

Result<uint64_t> DeleteGroup(const Service& service, const Session& session,
                             std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupBytes) {
    return Status::Invalid("group must be 1.." + std::to_string(kMaxGroupBytes) + " bytes");
  }
  auto deleted = service.engine().DeleteGroup(session.namespace_id(), group);
  if (!deleted.ok()) return deleted.status();
  nlohmann::json fields = {{"namespace_id", session.namespace_id()},
                           {"group", std::string(group)},
                           {"objects", *deleted}};
  service.Audit(session, "delete_group", std::move(fields));
  return *deleted;
}

}  // namespace ctxstore::service
