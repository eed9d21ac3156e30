// Fuzzes LMCache's lm:// codec (src/protocol/lm_message.h): any 186 bytes
// decode to a request within the limits or to an error, never more; a
// request that decodes encodes back to one that decodes the same; the
// metadata blob round-trips and any other blob reads as zeros.
//
// Input: 186 bytes of request header (shorter inputs are padded with
// spaces, as the key field is), then anything: a metadata blob to decode.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "protocol/lm_message.h"

namespace {

using ctxstore::protocol::DecodeLmMeta;
using ctxstore::protocol::DecodeLmRequest;
using ctxstore::protocol::EncodeLmMeta;
using ctxstore::protocol::EncodeLmRequest;
using ctxstore::protocol::kLmKeyBytes;
using ctxstore::protocol::kLmMetaBytes;
using ctxstore::protocol::kLmRequestBytes;
using ctxstore::protocol::LmCommand;
using ctxstore::protocol::LmRequestBytes;

constexpr uint64_t kMaxValueBytes = 1 << 20;  // small, so that the bound is reachable

bool SameMeta(const ctxstore::protocol::LmShape& a, const ctxstore::protocol::LmShape& b) {
  return a.fmt == b.fmt && a.dtype == b.dtype && a.location == b.location && a.shape == b.shape;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LmRequestBytes head;
  head.fill(' ');
  std::copy_n(data, std::min(size, kLmRequestBytes), head.begin());
  auto r = DecodeLmRequest(head, kMaxValueBytes);
  if (r.ok()) {
    FUZZ_CHECK(r->length <= kMaxValueBytes);
    FUZZ_CHECK(r->command == LmCommand::kPut || r->length == 0);
    FUZZ_CHECK(r->key.size() <= kLmKeyBytes);
    FUZZ_CHECK(!r->key.empty() || r->command == LmCommand::kList ||
               r->command == LmCommand::kHealth);
    auto again = DecodeLmRequest(EncodeLmRequest(*r), kMaxValueBytes);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->command == r->command && again->length == r->length);
    FUZZ_CHECK(again->key == r->key && SameMeta(again->meta, r->meta));
    FUZZ_CHECK(SameMeta(DecodeLmMeta(EncodeLmMeta(r->meta)), r->meta));
  }
  if (size > kLmRequestBytes) {
    const std::string_view blob(reinterpret_cast<const char*>(data) + kLmRequestBytes,
                                size - kLmRequestBytes);
    const auto m = DecodeLmMeta(blob);
    if (blob.size() != kLmMetaBytes || blob.substr(0, 4) != "LMv1") {
      FUZZ_CHECK(SameMeta(m, {}));
    }
  }
  return 0;
}
