// Token administration: TOKEN_CREATE, TOKEN_LIST, TOKEN_REVOKE (admin
// tokens only; the op table says so). Every change is audited.
#pragma once

#include <string_view>
#include <vector>

#include "ctxstore/status.h"
#include "protocol/admin_bodies.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// A new token of the role, in the named namespace (kNotFound when there is
// none) or, for admin tokens, in every one.
Result<protocol::TokenCreateReply> CreateToken(const Service& service, const Session& session,
                                               const protocol::TokenCreateRequest& request);
// Every token, never its secret or hash.
std::vector<protocol::TokenInfoWire> ListTokens(const Service& service);
// kNotFound when there is no such token. Sessions that use it are refused
// (and closed) at their next request.
Status RevokeToken(const Service& service, const Session& session, std::string_view id);

}  // namespace ctxstore::service
