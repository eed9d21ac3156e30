// Little-endian, bounds-checked byte encoding: protocol bodies, the
// checkpoint and catalog files.
// Pure: no I/O. A reader never reads past its span; every failed read leaves
// the reader in a failed state that the caller checks once at the end.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace ctxstore {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  template <typename T>
  void Put(T v) {
    static_assert(std::is_integral_v<T>);
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));  // hosts are little-endian (static_assert below)
    out_->append(buf, sizeof(T));
  }
  void PutBytes(std::string_view bytes) { out_->append(bytes); }
  // u16 length then the bytes: keys and short strings.
  void PutShortString(std::string_view s) {
    Put(static_cast<uint16_t>(s.size()));
    PutBytes(s);
  }

 private:
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}
  explicit ByteReader(std::string_view data)
      : data_(reinterpret_cast<const uint8_t*>(data.data()), data.size()) {}

  template <typename T>
  T Get() {
    static_assert(std::is_integral_v<T>);
    T v{};
    if (!Need(sizeof(T))) return v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view GetBytes(size_t n) {
    if (!Need(n)) return {};
    std::string_view v(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return v;
  }
  std::string_view GetShortString() { return GetBytes(Get<uint16_t>()); }

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

 private:
  bool Need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

static_assert(std::endian::native == std::endian::little, "ctxstore encodes little-endian");

}  // namespace ctxstore
