// Connection: lease bookkeeping, the context ops (RELEASE, STAT, LIST, PIN,
// UNPIN, DELETE_GROUP) and namespace administration (NS_CREATE, NS_SET,
// NS_LIST, NS_DELETE).
#include "server/connection_impl.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/namespace_json.h"
#include "protocol/messages.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;

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

// NS_CREATE / NS_SET body: a JSON object with "name" and any of the
// namespace settings. Everything is checked before anything is applied, so
// that a bad NS_SET changes nothing.
struct NamespaceRequest {
  std::string name;
  NamespaceSpec spec;
};

Result<NamespaceRequest> ParseNamespaceRequest(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  NamespaceRequest req;
  CTX_RETURN_IF_ERROR(ParseNamespaceSpec(j, OtherMembers::kRefuse, {"name"}, &req.spec));
  auto name = j.find("name");
  if (name == j.end()) return Status::Invalid("missing \"name\"");
  if (!name->is_string()) return Status::Invalid("\"name\" must be a string");
  req.name = name->get<std::string>();
  return req;
}

// The settings a request named, for the audit line.
nlohmann::json SettingsJson(const NamespaceSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  AddNamespaceSpecJson(spec, &j);
  return j;
}

}  // namespace

// ---- leases ----

bool Connection::HasLeaseSlot() {
  if (leases_.size() < ctx_.limits.max_leases_per_connection) return true;
  // Leases the client let run out still occupy slots until pruned. The
  // engine is told too, in case its clock runs behind ours.
  uint64_t now = MonotonicMs();
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    (void)ctx_.engine->ReleaseLease(ns_id_, it->first);
    it = leases_.erase(it);
  }
  return leases_.size() < ctx_.limits.max_leases_per_connection;
}

void Connection::ReleaseLeases() {
  // Results ignored: a lease that already ended answers NOT_FOUND.
  for (const auto& [id, deadline] : leases_) (void)ctx_.engine->ReleaseLease(ns_id_, id);
  leases_.clear();
}

// ---- context ops ----

awaitable<bool> Connection::HandleRelease() {
  std::string body = co_await ReadBody();
  auto id = protocol::DecodeU64(body);
  if (!id.ok()) {
    co_await ReplyError(id.status());
    co_return true;
  }
  // Forgotten here whatever the engine says: NOT_FOUND means it ended.
  leases_.erase(*id);
  co_await ReplyStatus(ctx_.engine->ReleaseLease(ns_id_, *id));
  co_return true;
}

awaitable<bool> Connection::HandleStat() {
  std::string body = co_await ReadBody();
  auto key = protocol::DecodeKey(body);
  if (!key.ok()) {
    co_await ReplyError(key.status());
    co_return true;
  }
  auto info = ctx_.engine->Stat(ns_id_, *key);
  if (!info.ok()) {
    co_await ReplyError(info.status());
    co_return true;
  }
  std::string reply;
  protocol::EncodeObjectInfo(ToWire(*info), &reply);
  co_await ReplyOk(reply);
  co_return true;
}

awaitable<bool> Connection::HandleList() {
  std::string body = co_await ReadBody();
  auto req = protocol::DecodeListRequest(body);
  if (!req.ok()) {
    co_await ReplyError(req.status());
    co_return true;
  }
  if (req->limit == 0 || req->limit > engine::kMaxListLimit) {
    co_await ReplyError(
        Status::Invalid("LIST limit must be 1.." + std::to_string(engine::kMaxListLimit)));
    co_return true;
  }
  engine::ListOptions opts;
  opts.prefix = std::move(req->prefix);
  opts.group = std::move(req->group);
  opts.cursor = std::move(req->cursor);
  opts.limit = req->limit;
  auto page = ctx_.engine->List(ns_id_, opts);
  if (!page.ok()) {
    co_await ReplyError(page.status());
    co_return true;
  }
  protocol::ListReply reply;
  reply.items.reserve(page->items.size());
  for (const engine::ObjectInfo& info : page->items) reply.items.push_back(ToWire(info));
  reply.next_cursor = std::move(page->next_cursor);
  co_await ReplyOk(protocol::EncodeListReply(reply));
  co_return true;
}

awaitable<bool> Connection::HandlePin() {
  std::string body = co_await ReadBody();
  auto req = protocol::DecodePinRequest(body);
  if (!req.ok()) {
    co_await ReplyError(req.status());
    co_return true;
  }
  engine::PinOptions opts;
  opts.group = req->by_group;
  opts.ttl_ms = req->ttl_ms;
  opts.dram = req->dram;
  auto pinned = ctx_.engine->Pin(ns_id_, req->name, opts);
  if (!pinned.ok()) {
    co_await ReplyError(pinned.status());
    co_return true;
  }
  co_await ReplyOk(protocol::EncodeU64(*pinned));
  co_return true;
}

awaitable<bool> Connection::HandleUnpin() {
  std::string body = co_await ReadBody();
  auto req = protocol::DecodeUnpinRequest(body);
  if (!req.ok()) {
    co_await ReplyError(req.status());
    co_return true;
  }
  co_await ReplyStatus(ctx_.engine->Unpin(ns_id_, req->name, req->by_group));
  co_return true;
}

awaitable<bool> Connection::HandleDeleteGroup() {
  std::string body = co_await ReadBody();
  auto group = protocol::DecodeString(body);
  if (!group.ok()) {
    co_await ReplyError(group.status());
    co_return true;
  }
  if (group->empty() || group->size() > kMaxGroupBytes) {
    co_await ReplyError(
        Status::Invalid("group must be 1.." + std::to_string(kMaxGroupBytes) + " bytes"));
    co_return true;
  }
  auto deleted = ctx_.engine->DeleteGroup(ns_id_, *group);
  if (!deleted.ok()) {
    co_await ReplyError(deleted.status());
    co_return true;
  }
  nlohmann::json fields = {
      {"namespace_id", ns_id_}, {"group", std::string(*group)}, {"objects", *deleted}};
  Audit("delete_group", std::move(fields));
  co_await ReplyOk(protocol::EncodeU64(*deleted));
  co_return true;
}

// ---- namespace administration ----

awaitable<bool> Connection::HandleNsCreate() {
  std::string body = co_await ReadBody();
  auto req = ParseNamespaceRequest(body);
  if (!req.ok()) {
    co_await ReplyError(req.status());
    co_return true;
  }
  NamespaceConfig config;
  ApplyNamespaceSpec(req->spec, &config);
  Status st = ctx_.engine->CreateNamespace(req->name, config).status();
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", req->name}, {"settings", SettingsJson(req->spec)}};
    Audit("namespace_create", std::move(fields));
  }
  co_await ReplyStatus(st);
  co_return true;
}

awaitable<bool> Connection::HandleNsSet() {
  std::string body = co_await ReadBody();
  auto req = ParseNamespaceRequest(body);
  if (!req.ok()) {
    co_await ReplyError(req.status());
    co_return true;
  }
  // Fields left out of the request keep their current values.
  auto current = ctx_.engine->GetNamespace(req->name);
  if (!current.ok()) {
    co_await ReplyError(current.status());
    co_return true;
  }
  NamespaceConfig config = current->config;
  ApplyNamespaceSpec(req->spec, &config);
  Status st = ctx_.engine->SetNamespace(req->name, config);
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", req->name}, {"settings", SettingsJson(req->spec)}};
    Audit("namespace_set", std::move(fields));
  }
  co_await ReplyStatus(st);
  co_return true;
}

awaitable<bool> Connection::HandleNsList() {
  co_await Drain(req_.body_len);
  nlohmann::json list = nlohmann::json::array();
  for (const NamespaceInfo& ns : ctx_.engine->ListNamespaces()) {
    list.push_back(NamespaceInfoJson<nlohmann::json>(ns));
  }
  co_await ReplyOk(list.dump());
  co_return true;
}

awaitable<bool> Connection::HandleNsDelete() {
  std::string body = co_await ReadBody();
  auto name = protocol::DecodeString(body);
  if (!name.ok()) {
    co_await ReplyError(name.status());
    co_return true;
  }
  Status st = ctx_.engine->DeleteNamespace(*name);
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", std::string(*name)}};
    Audit("namespace_delete", std::move(fields));
  }
  co_await ReplyStatus(st);
  co_return true;
}

}  // namespace ctxstore::server
