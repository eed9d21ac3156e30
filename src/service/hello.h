// HELLO: authenticates a session (when the service has authentication on)
// and fixes the namespace its key ops work in (docs/protocol.md,
// "Authentication and roles").
#pragma once

#include "ctxstore/status.h"
#include "protocol/messages.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// The server's limits and version. Errors: kUnsupported for another
// protocol version and kUnauthorized for a missing, malformed, unknown or
// revoked token (both also mark the session closing: every guess costs a
// new connection); kUnauthorized for a token of another namespace and
// kNotFound for an unknown namespace (the session stays as it was).
Result<protocol::HelloReply> Hello(const Service& service, Session& session,
                                   const protocol::HelloRequest& hello);

}  // namespace ctxstore::service
