// Every op a session may send, in one table: the role its token needs, how
// a native-protocol front end moves its body, and (for ops whose request
// and reply are small bodies) the handler that decodes the request, calls
// the typed handler and encodes the reply. The four ops that carry values
// (PUT, BATCH_PUT, GET, BATCH_GET) are streamed by the front end itself,
// through put_ops.h and key_ops.h, so that values go from the socket into
// the arena and back out of it without a copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ctxstore/status.h"
#include "engine/security/access_token.h"
#include "engine/engine.h"
#include "protocol/frame.h"

namespace ctxstore::service {

class Service;
class Session;

enum class BodyKind : uint8_t {
  kSmall,      // read whole (at most max_small_body_bytes); answered by the handler
  kPutValue,   // PUT: the prefix parsed as it arrives, the value into the arena
  kPutValues,  // BATCH_PUT: the same, item by item
  kGetValue,   // GET: the reply gathered from the arena
  kGetValues,  // BATCH_GET: the same, item by item
  kShm,        // SHM_*: small bodies, values copied to or from the client's shared memory
};

// Lets a handler make the front end wait for durability before it replies
// (sync DELETE, FLUSH).
class DurableWait {
 public:
  // A callback for the engine; once the handler has answered OK, the front
  // end waits for it and replies with its status. At most once a request.
  virtual engine::DurableCallback Arm() = 0;

 protected:
  ~DurableWait() = default;
};

// A small-body request as the native protocol carries it.
struct NativeRequest {
  uint16_t flags = 0;
  std::string_view body;
  DurableWait* durable = nullptr;
};

// An OK reply's body, or the error (its message is the reply's body).
struct NativeReply {
  NativeReply(Status st) : status(std::move(st)) {}               // NOLINT: implicit on purpose
  NativeReply(std::string ok_body) : body(std::move(ok_body)) {}  // NOLINT
  Status status;
  std::string body;
};

using NativeHandler = NativeReply (*)(const Service& service, Session& session,
                                      const NativeRequest& request);

struct OpSpec {
  protocol::Opcode opcode;
  std::optional<engine::TokenRole> role;  // nullopt: HELLO, which every session may send
  BodyKind body;
  NativeHandler handler;  // BodyKind::kSmall only
};

// The op's entry; null for an opcode the protocol does not know.
const OpSpec* FindOp(protocol::Opcode op);
// The role an op needs; nullopt for HELLO, kAdmin for an unknown opcode.
std::optional<engine::TokenRole> RequiredRole(protocol::Opcode op);

}  // namespace ctxstore::service
