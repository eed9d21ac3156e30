#include "common/hash.h"

#include <xxhash.h>
#if defined(__x86_64__)
// libxxhash's run-time dispatch picks the widest vector unit (AVX2,
// AVX-512) of the machine: twice the speed of the SSE2 code a portable
// build inlines, and every byte stored or served is hashed once.
#include <xxh_x86dispatch.h>
#endif

namespace ctxstore {

uint64_t Xxh3(const void* data, size_t len) {
  return XXH3_64bits(data, len);
}

uint64_t Xxh3(const void* data, size_t len, uint64_t seed) {
  return XXH3_64bits_withSeed(data, len, seed);
}

Xxh3Stream::Xxh3Stream() : state_(XXH3_createState()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}
Xxh3Stream::~Xxh3Stream() {
  XXH3_freeState(static_cast<XXH3_state_t*>(state_));
}
void Xxh3Stream::Update(const void* data, size_t len) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, len);
}
uint64_t Xxh3Stream::Digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

}  // namespace ctxstore
