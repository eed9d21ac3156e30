// Decoding what the server answers, apart from the socket: a reply header
// checked against the request it answers, an error reply turned into a
// Status, and a HELLO reply into ServerInfo. Pure functions, so that the
// reply fuzzer (fuzz/reply_fuzzer.cc) and the unit tests reach the same
// code as Client::Impl (client_impl.cc), which only moves the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ctxstore/client.h"
#include "ctxstore/status.h"
#include "protocol/frame.h"

namespace ctxstore::client {

// Error-message bodies are short text; a longer one is not read.
inline constexpr uint64_t kMaxErrorBodyBytes = 64 * 1024;

// Status::Internal("protocol error: " + what).
Status ProtocolError(const std::string& what);

// Status codes this library knows; anything else from the wire is a server
// bug (kInternal).
StatusCode CodeFromWire(StatusCode code);

// The reply's header when it answers request_id for op (its magic, version,
// opcode and request id); a protocol error (kInternal) otherwise.
Result<protocol::FrameHeader> DecodeReplyHeader(
    std::span<const uint8_t, protocol::kHeaderSize> bytes, protocol::Opcode op,
    uint64_t request_id);

// The Status that a non-OK reply stands for: its code (an unknown one as
// kInternal, naming the number) and its message. message is the body, or
// nullopt when it was not read (longer than kMaxErrorBodyBytes).
Status DecodeErrorReply(const protocol::FrameHeader& h, std::optional<std::string_view> message);

// Whether the connection may carry another request after this error reply
// whose body was read: the server closes it after kTooLarge and
// kUnsupported (docs/protocol.md).
bool ReusableAfterError(const protocol::FrameHeader& h);

// A HELLO reply's body as ServerInfo; kUnsupported for another protocol
// version, a protocol error for a body that does not decode.
Result<ServerInfo> DecodeHelloInfo(std::string_view body);

}  // namespace ctxstore::client
