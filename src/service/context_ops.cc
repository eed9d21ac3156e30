#include "service/context_ops.h"

#include <string>

#include "common/limits.h"

namespace ctxstore::service {
namespace {

protocol::ObjectInfoWire ToWire(const engine::ObjectInfo& info) {
  protocol::ObjectInfoWire w;
  w.key = info.key;
  w.namespace_id = info.namespace_id;
  w.value_len = info.value_len;
  w.value_xxh3 = info.value_xxh3;
  w.created_ms = info.created_ms;
  w.expires_ms = info.expires_ms;
  auto bit = [](bool on, uint8_t b) { return on ? b : uint8_t{0}; };
  w.state = bit(info.in_dram, protocol::kObjectStateInDram) |
            bit(info.on_flash, protocol::kObjectStateOnFlash) |
            bit(info.durable, protocol::kObjectStateDurable) |
            bit(info.pinned, protocol::kObjectStatePinned) |
            bit(info.pin_dram, protocol::kObjectStatePinDram) |
            bit(info.orphan, protocol::kObjectStateOrphan) |
            bit(info.sealed, protocol::kObjectStateSealed);
  w.pin_expires_ms = info.pin_expires_ms;
  w.leases = info.leases;
  w.lease_expires_ms = info.lease_expires_ms;
  w.group = info.group;
  w.parent = info.parent;
  w.writer = info.writer;
  w.meta = info.meta;
  return w;
}

}  // namespace

Result<protocol::ObjectInfoWire> Stat(const Service& service, const Session& session,
                                      std::string_view key) {
  auto info = service.engine().Stat(session.namespace_id(), key);
  if (!info.ok()) return info.status();
  return ToWire(*info);
}

Result<protocol::ListReply> List(const Service& service, const Session& session,
                                 const protocol::ListRequest& request) {
  if (request.limit == 0 || request.limit > engine::kMaxListLimit) {
    return Status::Invalid("LIST limit must be 1.." + std::to_string(engine::kMaxListLimit));
  }
  engine::ListOptions opts;
  opts.prefix = request.prefix;
  opts.group = request.group;
  opts.cursor = request.cursor;
  opts.limit = request.limit;
  auto page = service.engine().List(session.namespace_id(), opts);
  if (!page.ok()) return page.status();
  protocol::ListReply reply;
  reply.items.reserve(page->items.size());
  for (const engine::ObjectInfo& info : page->items) reply.items.push_back(ToWire(info));
  reply.next_cursor = std::move(page->next_cursor);
  return reply;
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
