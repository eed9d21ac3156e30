// A connection's read-ahead: the bytes received past what the last read
// asked for. Small reads (a frame header, a PUT's key and options, a small
// body) fill it with one receive of whatever has arrived, so that a PUT
// costs two receives (header and prefix with the first bytes of the value,
// then the rest of the value straight into the arena) instead of one per
// field: on the CI VM each system call costs several microseconds of
// hypervisor time (docs/benchmarks.md, "Where the time goes"). Large reads
// take what is buffered and then go to the socket directly, so a value's
// bytes are copied at most kCapacityBytes once more.
//
// Not thread-safe: one per connection, used by its coroutine only.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "common/check.h"

namespace ctxstore::server {

class ReadAhead {
 public:
  // Reads of at least this many bytes bypass the buffer; a fill receives
  // at most this many.
  static constexpr size_t kCapacityBytes = 4096;

  size_t buffered() const { return end_ - begin_; }

  // Copies min(buffered(), dst.size()) bytes into dst and consumes them.
  size_t Take(std::span<uint8_t> dst) {
    const size_t n = std::min(buffered(), dst.size());
    std::memcpy(dst.data(), buf_.data() + begin_, n);
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
    return n;
  }
  // Discards up to n buffered bytes; how many.
  size_t Skip(uint64_t n) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(buffered(), n));
    begin_ += k;
    if (begin_ == end_) begin_ = end_ = 0;
    return k;
  }

  // Where a fill receives into: the whole buffer, which must be empty (a
  // fill happens only after Take emptied it).
  std::span<uint8_t> Space() {
    CTX_CHECK(buffered() == 0);
    return std::span<uint8_t>(buf_.data(), buf_.size());
  }
  void Filled(size_t n) {
    CTX_CHECK(begin_ == 0 && end_ == 0 && n <= buf_.size());
    end_ = n;
  }

 private:
  std::array<uint8_t, kCapacityBytes> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace ctxstore::server
