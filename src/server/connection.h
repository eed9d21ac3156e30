// One client connection: reads frames, runs each request against the
// engine, writes the reply, in order. Values are received straight into
// their arena block and sent from it with gather writes.
#pragma once

#include <asio.hpp>
#include <asio/ssl/context.hpp>

#include <memory>

#include "engine/engine.h"
#include "protocol/frame.h"
#include "server/blocking_pool.h"
#include "server/server.h"

namespace ctxstore::server {

struct ConnectionContext {
  engine::Engine* engine;
  const ServerOptions* options;
  protocol::Limits limits;
  ServerCounters* counters;
  BlockingPool* flash_readers;  // null: flash reads block the network thread
  AuditLog* audit;              // null: none
  asio::ssl::context* tls;      // null: plaintext
};

// Serves one connection until the peer closes, an unrecoverable protocol
// error, or a timeout. Keeps itself alive while it runs.
void StartConnection(asio::ip::tcp::socket socket, const ConnectionContext& ctx);

}  // namespace ctxstore::server
