// The bytes of every value the crash simulation puts: a pseudo-random
// stream seeded by the seed, the key and the version, so that no two values
// are alike and any value can be checked byte for byte against what a read
// returns, without keeping it or building a copy.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "common/hash.h"

namespace ctxstore::engine::crash_sim {

class ValueStream {
 public:
  ValueStream(uint64_t seed, std::string_view key, uint64_t version)
      : state_(Xxh3(key.data(), key.size(), seed) ^ (version * 0xd1342543de82ef95ull)) {}

  // The next 8 bytes (SplitMix64).
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Writes the value into out (its length is the value's).
inline void FillValue(uint64_t seed, std::string_view key, uint64_t version,
                      std::span<uint8_t> out) {
  ValueStream s(seed, key, version);
  for (size_t i = 0; i < out.size(); i += 8) {
    const uint64_t r = s.Next();
    std::memcpy(out.data() + i, &r, std::min<size_t>(8, out.size() - i));
  }
}

// Whether bytes are exactly the value of that version (of its length).
inline bool IsValue(uint64_t seed, std::string_view key, uint64_t version,
                    std::span<const uint8_t> bytes) {
  ValueStream s(seed, key, version);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t got;
    std::memcpy(&got, bytes.data() + i, 8);  // a load, not a call
    if (got != s.Next()) return false;
  }
  if (i == bytes.size()) return true;
  const uint64_t r = s.Next();
  return std::memcmp(bytes.data() + i, &r, bytes.size() - i) == 0;
}

}  // namespace ctxstore::engine::crash_sim
