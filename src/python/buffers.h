// A Python object's memory, held for one call (the buffer protocol, PEP
// 3118): bytes, bytearray, memoryview, numpy arrays, and CPU torch tensors
// (which ctxstore/_buffers.py hands over as uint8 numpy views). The bytes
// are used where they are: a PUT sends them and get_into receives into
// them, with no copy in between.
//
// Acquire and destroy with the GIL held; while it is held, the exporter
// refuses to resize the object (bytearray, numpy raise BufferError), so
// the memory stays put while a call runs without the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace ctxstore::python {

class BufferView {
 public:
  // The memory of obj, which must be C-contiguous (and writable when
  // `writable`). `what` names the argument in errors ("put's data").
  // TypeError for an object without the buffer protocol or of object
  // dtype; InvalidArgument for one that is not contiguous or read-only.
  BufferView(pybind11::handle obj, bool writable, const char* what);
  ~BufferView() = default;
  BufferView(BufferView&& other) noexcept = default;
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  BufferView& operator=(BufferView&&) = delete;

  std::span<const uint8_t> bytes() const {
    return {static_cast<const uint8_t*>(held_.view.buf), static_cast<size_t>(held_.view.len)};
  }
  std::span<uint8_t> writable_bytes() {
    return {static_cast<uint8_t*>(held_.view.buf), static_cast<size_t>(held_.view.len)};
  }
  size_t itemsize() const { return static_cast<size_t>(held_.view.itemsize); }

 private:
  // A member of its own, so that the buffer is released when the
  // constructor throws after acquiring it (members are destroyed then,
  // the object is not).
  struct Held {
    Py_buffer view{};
    bool held = false;
    Held() = default;
    Held(Held&& other) noexcept : view(other.view), held(other.held) { other.held = false; }
    ~Held() {
      if (held) PyBuffer_Release(&view);
    }
  };
  Held held_;
};

}  // namespace ctxstore::python
