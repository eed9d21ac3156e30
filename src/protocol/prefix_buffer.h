// The bytes of a streamed body's prefix (a PUT's key and options, a
// BATCH_PUT item's header), asked for a piece at a time. The incremental
// parsers (put_body.h) decide how many bytes they need next from what they
// have parsed so far; Ask checks that many against what is left of the body
// before the caller reads anything. Pure: the caller moves the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace ctxstore::protocol {

class PrefixBuffer {
 public:
  explicit PrefixBuffer(uint64_t body_len) : remaining_(body_len) {}

  // Asks for the next n bytes of the body: false (nothing asked) when fewer
  // than n are left. The caller then fills Space().
  bool Ask(size_t n) {
    if (n > remaining_) return false;
    buf_.resize(buf_.size() + n);
    asked_ = n;
    remaining_ -= n;
    return true;
  }
  // Where the bytes of the last Ask go.
  std::span<uint8_t> Space() {
    return {reinterpret_cast<uint8_t*>(buf_.data()) + buf_.size() - asked_, asked_};
  }
  size_t asked() const { return asked_; }

  // Body bytes neither asked for nor taken: what the caller skips after an
  // error, or the value's length once a PUT prefix is complete.
  uint64_t remaining() const { return remaining_; }
  // Body bytes the caller consumed itself (a BATCH_PUT item's value);
  // at most remaining().
  void Take(uint64_t n) { remaining_ -= n; }

  size_t size() const { return buf_.size(); }
  std::string_view bytes(size_t offset, size_t len) const {
    return std::string_view(buf_).substr(offset, len);
  }
  // A little-endian integer at offset (which the caller has asked for).
  template <typename T>
  T Load(size_t offset) const {
    static_assert(std::is_integral_v<T>);
    T v{};
    std::memcpy(&v, buf_.data() + offset, sizeof(T));
    return v;
  }
  // Forgets the bytes so far (keeping the memory): the next item's header.
  void Clear() {
    buf_.clear();
    asked_ = 0;
  }

 private:
  std::string buf_;
  size_t asked_ = 0;
  uint64_t remaining_;
};

}  // namespace ctxstore::protocol
