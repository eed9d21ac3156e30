// What a write must pass before the engine takes any space for it: the
// request's own limits (key, value, group, parent, metadata), then its
// namespace's rules (a model fingerprint where required, the quota).
// Neither looks at what PutReservation::Amend may change after BeginPut
// (ttl_ms, overwrite, only_if_present, keep_ttl): a check of one of those
// would have to be made again at CommitPut.
#pragma once

#include <cstdint>
#include <string_view>

#include "ctxstore/status.h"
#include "engine/context/catalog.h"
#include "engine/types.h"

namespace ctxstore::engine {

// kInvalid for a bad key, kTooLarge past a limit.
Status CheckWrite(std::string_view key, uint64_t value_len, const WriteOptions& opts,
                  uint64_t max_value_bytes);
// kInvalid without a model fingerprint where the namespace requires one;
// kKeyUnavailable when its encryption key is not loaded (never written in
// the clear); kTooLarge for a value larger than its whole quota.
Status CheckWriteInto(const Catalog& catalog, const Namespace& ns, const WriteOptions& opts,
                      uint64_t value_len);

}  // namespace ctxstore::engine
