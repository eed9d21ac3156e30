// Fuzzes the client library's reply decoding (src/client/reply.h, and the
// body decoders it applies per op, client_decode.h): what a broken or
// hostile server could send back.
//
// Input: one byte naming the op the client asked for (opcode = byte % 24 +
// 1; bit 7: it asked with EXT), one byte of how many keys or items it sent,
// then a 32-byte reply header and the body that followed it. The client's
// request id is kRequestId.
//
// Invariants: nothing crashes; a header is accepted only when it answers
// the request (opcode, request id, magic, version), and is otherwise a
// protocol error (kInternal); an error reply becomes a Status that is not
// OK, with a code the client knows (an unknown one as kInternal) and the
// server's message in it; a HELLO reply is accepted only for this protocol
// version; any other OK body either decodes or is a protocol error, or
// kCorrupt for a value that does not match its XXH3.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "client/reply.h"
#include "fuzz/client_decode.h"
#include "fuzz/fuzz_check.h"
#include "protocol/frame.h"

namespace ctxstore::fuzz {
namespace {

constexpr uint64_t kRequestId = 7;
constexpr uint8_t kOpcodes = 24;

bool IsProtocolError(const Status& st) {
  return st.code() == StatusCode::kInternal && st.message().starts_with("protocol error: ");
}

void CheckErrorReply(const protocol::FrameHeader& h, std::string_view body) {
  std::optional<std::string_view> message;
  if (h.body_len <= client::kMaxErrorBodyBytes) {
    if (h.body_len > body.size()) return;  // the connection ended mid-reply
    message = body.substr(0, h.body_len);
  }
  Status st = client::DecodeErrorReply(h, message);
  FUZZ_CHECK(!st.ok());
  FUZZ_CHECK(client::CodeFromWire(st.code()) == st.code());
  FUZZ_CHECK(st.code() == h.status || st.code() == StatusCode::kInternal);
  if (message && h.status != StatusCode::kOk) FUZZ_CHECK(st.message().ends_with(*message));
  if (st.code() == StatusCode::kTooLarge || st.code() == StatusCode::kUnsupported) {
    FUZZ_CHECK(!client::ReusableAfterError(h));
  }
}

}  // namespace
}  // namespace ctxstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore;
  using namespace ctxstore::fuzz;
  if (size < 2 + protocol::kHeaderSize) return 0;
  const auto op = static_cast<protocol::Opcode>(data[0] % 0x80 % kOpcodes + 1);
  const bool ext = (data[0] & 0x80) != 0;
  const size_t items = data[1];
  std::span<const uint8_t, protocol::kHeaderSize> header(data + 2, protocol::kHeaderSize);
  std::string_view body(reinterpret_cast<const char*>(data) + 2 + protocol::kHeaderSize,
                        size - 2 - protocol::kHeaderSize);

  auto h = client::DecodeReplyHeader(header, op, kRequestId);
  if (!h.ok()) {
    FUZZ_CHECK(IsProtocolError(h.status()));
    return 0;
  }
  FUZZ_CHECK(h->opcode == op && h->request_id == kRequestId && h->magic == protocol::kMagic &&
             h->version == protocol::kVersion);
  if (h->status != StatusCode::kOk) {
    CheckErrorReply(*h, body);
    return 0;
  }
  if (h->body_len != body.size()) return 0;  // the client reads exactly body_len
  h->flags = ext ? protocol::kFlagExt : 0;
  Status st = DecodeOkReply(*h, body, items);
  FUZZ_CHECK(st.ok() || IsProtocolError(st) || st.code() == StatusCode::kCorrupt ||
             (op == protocol::Opcode::kHello && st.code() == StatusCode::kUnsupported));
  if (op == protocol::Opcode::kHello && st.ok()) {
    FUZZ_CHECK(client::DecodeHelloInfo(body)->protocol_version == protocol::kVersion);
  }
  return 0;
}
