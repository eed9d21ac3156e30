#include "client/reply.h"

#include "protocol/messages.h"

namespace ctxstore::client {

Status ProtocolError(const std::string& what) {
  return Status::Internal("protocol error: " + what);
}

StatusCode CodeFromWire(StatusCode code) {
  return static_cast<uint16_t>(code) <= static_cast<uint16_t>(StatusCode::kInternal) ||
                 code == StatusCode::kKeyUnavailable
             ? code
             : StatusCode::kInternal;
}

Result<protocol::FrameHeader> DecodeReplyHeader(
    std::span<const uint8_t, protocol::kHeaderSize> bytes, protocol::Opcode op,
    uint64_t request_id) {
  protocol::DecodedHeader d = protocol::DecodeHeader(bytes);
  const protocol::FrameHeader& h = d.header;
  if (h.magic != protocol::kMagic) return ProtocolError("reply has a bad magic number");
  if (h.version != protocol::kVersion) {
    return ProtocolError("reply has protocol version " + std::to_string(h.version));
  }
  if (d.raw_opcode != static_cast<uint8_t>(op)) {
    return ProtocolError("reply opcode " + std::to_string(d.raw_opcode) + " does not match " +
                         std::string(protocol::OpcodeName(op)));
  }
  if (h.request_id != request_id) {
    return ProtocolError("reply request_id " + std::to_string(h.request_id) + ", expected " +
                         std::to_string(request_id));
  }
  return h;
}

Status DecodeErrorReply(const protocol::FrameHeader& h, std::optional<std::string_view> message) {
  const StatusCode code = CodeFromWire(h.status);
  std::string text = message ? std::string(*message)
                             : "error reply with a " + std::to_string(h.body_len) +
                                   "-byte message";
  if (code != h.status) {
    text = "unknown status " + std::to_string(static_cast<uint16_t>(h.status)) + ": " + text;
  }
  // An OK status here would read as success: a server bug, never a result.
  if (code == StatusCode::kOk) return ProtocolError("error reply with status OK");
  return Status(code, std::move(text));
}

bool ReusableAfterError(const protocol::FrameHeader& h) {
  const StatusCode code = CodeFromWire(h.status);
  return code != StatusCode::kTooLarge && code != StatusCode::kUnsupported;
}

Result<ServerInfo> DecodeHelloInfo(std::string_view body) {
  auto decoded = protocol::DecodeHelloReply(body);
  if (!decoded.ok()) return ProtocolError(decoded.status().message());
  if (decoded->version != protocol::kVersion) {
    return Status::Unsupported("server speaks protocol version " +
                               std::to_string(decoded->version) + ", this client " +
                               std::to_string(protocol::kVersion));
  }
  ServerInfo info;
  info.protocol_version = decoded->version;
  info.max_value_bytes = decoded->max_value_bytes;
  info.max_batch_keys = decoded->max_batch_keys;
  info.max_batch_bytes = decoded->max_batch_bytes;
  info.server_version = std::move(decoded->server_version);
  return info;
}

}  // namespace ctxstore::client
