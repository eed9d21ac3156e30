#include "service/native_handlers.h"

#include "protocol/admin_bodies.h"
#include "protocol/messages.h"
#include "protocol/read_ops.h"
#include "service/context_ops.h"
#include "service/hello.h"
#include "service/key_ops.h"
#include "service/namespace_ops.h"
#include "service/service.h"
#include "service/session.h"
#include "service/stats.h"
#include "service/token_ops.h"

namespace ctxstore::service::native {
namespace {

bool Ext(const NativeRequest& r) {
  return (r.flags & protocol::kFlagExt) != 0;
}

// An OK reply with no body, or the error.
NativeReply Empty(Status st) {
  return st;
}

// A u64 reply (PIN, DELETE_GROUP), or the error.
NativeReply Count(const Result<uint64_t>& n) {
  if (!n.ok()) return n.status();
  return protocol::EncodeU64(*n);
}

}  // namespace

NativeReply Hello(const Service& service, Session& session, const NativeRequest& request) {
  auto hello = protocol::DecodeHelloRequest(request.body);
  if (!hello.ok()) return hello.status();
  auto reply = service::Hello(service, session, *hello);
  if (!reply.ok()) return reply.status();
  return protocol::EncodeHelloReply(*reply);
}

NativeReply Exists(const Service& service, Session& session, const NativeRequest& request) {
  auto key = protocol::DecodeKey(request.body);
  if (!key.ok()) return key.status();
  auto len = service::Exists(service, session, *key);
  if (!len.ok()) return len.status();
  return protocol::EncodeU64(*len);
}

NativeReply Delete(const Service& service, Session& session, const NativeRequest& request) {
  auto key = protocol::DecodeKey(request.body);
  if (!key.ok()) return key.status();
  const bool sync = (request.flags & protocol::kFlagSync) != 0;
  engine::DurableCallback on_durable;
  if (sync) on_durable = request.durable->Arm();
  return Empty(service::Delete(service, session, *key, sync, std::move(on_durable)));
}

NativeReply BatchExists(const Service& service, Session& session, const NativeRequest& request) {
  auto keys = protocol::DecodeKeyList(request.body, service.limits().max_batch_keys);
  if (!keys.ok()) return keys.status();
  return protocol::EncodeBatchExistsReply(service::BatchExists(service, session, *keys));
}

NativeReply MatchPrefix(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodeMatchPrefixRequest(request.body, Ext(request),
                                                service.limits().max_batch_keys);
  if (!req.ok()) return req.status();
  auto reply = service::MatchPrefix(service, session, *req);
  if (!reply.ok()) return reply.status();
  return protocol::EncodeMatchPrefixReply(*reply, Ext(request));
}

NativeReply Flush(const Service& service, Session&, const NativeRequest& request) {
  service::Flush(service, request.durable->Arm());  // the body is ignored
  return Status::Ok();
}

NativeReply Stats(const Service& service, Session&, const NativeRequest&) {
  return protocol::EncodeStatsReply(service::Stats(service));
}

NativeReply Release(const Service& service, Session& session, const NativeRequest& request) {
  auto id = protocol::DecodeU64(request.body);
  if (!id.ok()) return id.status();
  return Empty(service::Release(service, session, *id));
}

NativeReply Stat(const Service& service, Session& session, const NativeRequest& request) {
  auto key = protocol::DecodeKey(request.body);
  if (!key.ok()) return key.status();
  auto info = service::Stat(service, session, *key);
  if (!info.ok()) return info.status();
  std::string body;
  protocol::EncodeObjectInfo(*info, &body);
  return body;
}

NativeReply List(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodeListRequest(request.body);
  if (!req.ok()) return req.status();
  auto reply = service::List(service, session, *req);
  if (!reply.ok()) return reply.status();
  return protocol::EncodeListReply(*reply);
}

NativeReply Pin(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodePinRequest(request.body);
  if (!req.ok()) return req.status();
  return Count(service::Pin(service, session, *req));
}

NativeReply Unpin(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodeUnpinRequest(request.body);
  if (!req.ok()) return req.status();
  return Empty(service::Unpin(service, session, *req));
}

NativeReply DeleteGroup(const Service& service, Session& session, const NativeRequest& request) {
  auto group = protocol::DecodeString(request.body);
  if (!group.ok()) return group.status();
  return Count(service::DeleteGroup(service, session, *group));
}

NativeReply NsCreate(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodeNamespaceRequest(request.body);
  if (!req.ok()) return req.status();
  return Empty(CreateNamespace(service, session, *req));
}

NativeReply NsSet(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodeNamespaceRequest(request.body);
  if (!req.ok()) return req.status();
  return Empty(SetNamespace(service, session, *req));
}

NativeReply NsList(const Service& service, Session&, const NativeRequest&) {
  return protocol::EncodeNamespaceList(ListNamespaces(service));
}

NativeReply NsDelete(const Service& service, Session& session, const NativeRequest& request) {
  auto name = protocol::DecodeString(request.body);
  if (!name.ok()) return name.status();
  return Empty(DeleteNamespace(service, session, *name));
}

NativeReply TokenCreate(const Service& service, Session& session, const NativeRequest& request) {
  auto req = protocol::DecodeTokenCreateRequest(request.body);
  if (!req.ok()) return req.status();
  auto reply = CreateToken(service, session, *req);
  if (!reply.ok()) return reply.status();
  return protocol::EncodeTokenCreateReply(*reply);
}

NativeReply TokenList(const Service& service, Session&, const NativeRequest&) {
  return protocol::EncodeTokenList(ListTokens(service));
}

NativeReply TokenRevoke(const Service& service, Session& session, const NativeRequest& request) {
  auto id = protocol::DecodeString(request.body);
  if (!id.ok()) return id.status();
  return Empty(RevokeToken(service, session, *id));
}

}  // namespace ctxstore::service::native
