// Reading an object's value back from its flash record: a GET of an object
// that is only on flash, or a pinned object carried out of a segment being
// reclaimed. What the read needs is copied out of the index entry under the
// engine's mutex; the read itself runs without it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ctxstore/status.h"
#include "engine/flash/segment.h"
#include "engine/index/entry.h"
#include "engine/security/encryption.h"

namespace ctxstore::engine {

struct FlashRead {
  static FlashRead Of(const Entry& e, std::shared_ptr<Segment> segment);

  // Reads the value into dst (opening it if sealed) and checks it against
  // its XXH3: kCorrupt when they differ, and dst must not be served. An I/O
  // error is retried once (a transient failure must not condemn a
  // segment); *retried says whether it was.
  Status ReadInto(uint8_t* dst, const Keyring* keyring, bool* retried) const;

  std::shared_ptr<Segment> segment;
  uint64_t record_offset = 0;
  RecordHeader header{};  // key_len, attrs_len, value_len, flags
  uint64_t value_xxh3 = 0;
  std::string aad;  // sealed records only
};

}  // namespace ctxstore::engine
