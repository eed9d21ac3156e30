// A GET from a front end's event loop: a DRAM hit is answered at once; a
// value that is only on flash is read on the flash reader pool, so that the
// other connections of this thread go on while the device works. Shared by
// every front end (native, Redis).
#pragma once

#include <asio.hpp>

#include <string_view>

#include "ctxstore/status.h"
#include "engine/types.h"
#include "server/connection.h"
#include "service/session.h"

namespace ctxstore::server {

// The service's GET in the session's namespace. Must be awaited on the
// connection's own executor (the pool posts the result back to it).
asio::awaitable<Result<engine::ValueRef>> GetValueOffLoop(const ConnectionContext& ctx,
                                                          const service::Session& session,
                                                          std::string_view key);

}  // namespace ctxstore::server
