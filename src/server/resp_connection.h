// One client connection of the Redis front end (docs/compatibility.md):
// RESP2 and RESP3 requests, pipelined, answered in order over the same
// service as the native protocol. Values of 32 KiB or more are received
// straight into their arena block; GET replies are sent from it.
#pragma once

#include <asio.hpp>

#include <string>

#include "server/connection.h"

namespace ctxstore::server {

// Serves one connection until the peer closes or QUITs, a protocol error,
// a failed AUTH, or a timeout. Keeps itself alive while it runs.
void StartRespConnection(asio::generic::stream_protocol::socket socket, std::string peer,
                         const ConnectionContext& ctx);

}  // namespace ctxstore::server
