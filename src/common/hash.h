// Checksums: XXH3-64 everywhere (records, wire, client verification).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ctxstore {

uint64_t Xxh3(const void* data, size_t len);
uint64_t Xxh3(const void* data, size_t len, uint64_t seed);

// Incremental XXH3-64 for data that arrives in pieces.
class Xxh3Stream {
 public:
  Xxh3Stream();
  ~Xxh3Stream();
  Xxh3Stream(const Xxh3Stream&) = delete;
  Xxh3Stream& operator=(const Xxh3Stream&) = delete;
  void Update(const void* data, size_t len);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t, kept out of this header
};

}  // namespace ctxstore
