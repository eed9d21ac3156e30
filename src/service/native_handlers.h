// The native protocol's small-body ops, each as decode (protocol/), call
// the typed handler, encode: what op_table.h lists as their handlers.
#pragma once

#include "service/op_table.h"

namespace ctxstore::service::native {

NativeReply Hello(const Service& service, Session& session, const NativeRequest& request);
NativeReply Exists(const Service& service, Session& session, const NativeRequest& request);
NativeReply Delete(const Service& service, Session& session, const NativeRequest& request);
NativeReply BatchExists(const Service& service, Session& session, const NativeRequest& request);
NativeReply MatchPrefix(const Service& service, Session& session, const NativeRequest& request);
NativeReply Flush(const Service& service, Session& session, const NativeRequest& request);
NativeReply Stats(const Service& service, Session& session, const NativeRequest& request);
NativeReply Release(const Service& service, Session& session, const NativeRequest& request);
NativeReply Stat(const Service& service, Session& session, const NativeRequest& request);
NativeReply List(const Service& service, Session& session, const NativeRequest& request);
NativeReply Pin(const Service& service, Session& session, const NativeRequest& request);
NativeReply Unpin(const Service& service, Session& session, const NativeRequest& request);
NativeReply DeleteGroup(const Service& service, Session& session, const NativeRequest& request);
NativeReply NsCreate(const Service& service, Session& session, const NativeRequest& request);
NativeReply NsSet(const Service& service, Session& session, const NativeRequest& request);
NativeReply NsList(const Service& service, Session& session, const NativeRequest& request);
NativeReply NsDelete(const Service& service, Session& session, const NativeRequest& request);
NativeReply TokenCreate(const Service& service, Session& session, const NativeRequest& request);
NativeReply TokenList(const Service& service, Session& session, const NativeRequest& request);
NativeReply TokenRevoke(const Service& service, Session& session, const NativeRequest& request);

}  // namespace ctxstore::service::native
