// A GET (or an expiry change) from a front end's event loop: a DRAM hit is
// answered at once; a value that is only on flash is read on the flash
// reader pool, so that the other connections of this thread go on while
// the device works. Shared by every front end (native, Redis, lm://).
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

// The service's SetExpiry (EXPIRE, PERSIST) the same way: an object only on
// flash is read back into DRAM on the reader pool.
asio::awaitable<Status> SetExpiryOffLoop(const ConnectionContext& ctx,
                                         const service::Session& session, std::string_view key,
                                         uint64_t expires_ms);

}  // namespace ctxstore::server
