// SightingFilter: the bounded memory of recent sightings behind
// lru-doorkeeper (policy_internal.h).
#include <algorithm>
#include <utility>

#include "engine/context/policy_internal.h"

namespace ctxstore::engine::policy_internal {
namespace {

// The probe positions of a key: double hashing over its XXH3, which is
// already well mixed; the second hash is remixed so the two are independent.
struct Probes {
  uint64_t h1;
  uint64_t h2;

  explicit Probes(uint64_t key_hash) : h1(key_hash) {
    uint64_t z = key_hash * 0xbf58476d1ce4e5b9ull;
    h2 = (z ^ (z >> 31)) | 1;
  }
  uint64_t Bit(int i, uint64_t bits) const { return (h1 + static_cast<uint64_t>(i) * h2) % bits; }
};

}  // namespace

bool SightingFilter::Filter::Test(uint64_t key_hash) const {
  if (words.empty()) return false;
  const uint64_t bits = words.size() * 64;
  Probes p(key_hash);
  for (int i = 0; i < kProbes; ++i) {
    uint64_t b = p.Bit(i, bits);
    if ((words[b / 64] & (uint64_t{1} << (b % 64))) == 0) return false;
  }
  return true;
}

void SightingFilter::Filter::Set(uint64_t key_hash) {
  const uint64_t bits = words.size() * 64;
  Probes p(key_hash);
  for (int i = 0; i < kProbes; ++i) {
    uint64_t b = p.Bit(i, bits);
    words[b / 64] |= uint64_t{1} << (b % 64);
  }
  keys++;
}

void SightingFilter::Add(uint64_t key_hash, uint64_t window) {
  if (current_.keys >= current_.capacity) {
    // Sized for the window of now: a namespace that grew or shrank gets a
    // filter to match within two windows, and memory stays proportional to
    // the keys it must remember.
    previous_ = std::move(current_);
    current_ = Filter{};
    current_.capacity = std::max(window, kMinWindow);
    current_.words.assign((current_.capacity * kBitsPerKey + 63) / 64, 0);
  }
  current_.Set(key_hash);
}

}  // namespace ctxstore::engine::policy_internal
