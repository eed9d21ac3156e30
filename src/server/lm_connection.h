// One client connection of LMCache's lm:// protocol (protocol/lm_message.h,
// docs/compatibility.md): one request at a time, in order. lm:// has no
// authentication: every connection of the listener acts in the namespace
// the server was started with (--lm-namespace), with a write token's
// rights, and the listener is on loopback unless --lm-allow-remote.
// LMCache's client never reconnects, so an idle connection is never
// closed; a request must still arrive whole within --frame-timeout.
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <string>

#include "server/connection.h"

namespace ctxstore::server {

// The namespace is ctx.lm_namespace_id (resolved when the server starts).
void StartLmConnection(asio::generic::stream_protocol::socket socket, std::string peer,
                       const ConnectionContext& ctx);

}  // namespace ctxstore::server
