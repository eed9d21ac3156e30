// One client connection of the native protocol: reads frames, hands each
// request to the service (service/service.h), streams values, writes the
// reply, in order. Values are received straight into their arena block and
// sent from it with gather writes.
#pragma once

#include <asio.hpp>
#include <asio/ssl/context.hpp>

#include <string>

#include "common/pipelined_hash.h"
#include "server/blocking_pool.h"
#include "server/resp_cursors.h"
#include "server/server.h"
#include "service/service.h"

namespace ctxstore::server {

// Which protocol a listener's connections speak.
enum class FrontEnd : uint8_t { kNative, kRedis, kLm };

struct ConnectionContext {
  service::Service* service;
  const ServerOptions* options;           // timeouts
  BlockingPool* flash_readers;            // null: flash reads block the network thread
  asio::ssl::context* tls;                // null: plaintext
  bool unix_socket = false;               // the Unix listener's connections (shared memory allowed)
  PipelinedHasher* shm_hasher = nullptr;  // SHM_PUT's copy + hash; set with unix_socket
  FrontEnd front_end = FrontEnd::kNative;
  ScanCursors* scan_cursors = nullptr;  // the Redis front end's SCAN positions
  uint32_t lm_namespace_id = 0;         // lm://'s namespace (--lm-namespace)
};

// Serves one connection (TCP or Unix) until the peer closes, an
// unrecoverable protocol error, or a timeout. Keeps itself alive while it
// runs. peer names the client in audit lines ("ip:port", "unix pid=...").
void StartConnection(asio::generic::stream_protocol::socket socket, std::string peer,
                     const ConnectionContext& ctx);

}  // namespace ctxstore::server
