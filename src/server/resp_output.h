// The Redis front end's pending replies: the encoded text of every reply
// (RespWriter appends to text()) with the values of GET replies spliced in
// by reference, so that a pipeline's replies go out in one gather write
// and each value straight from the arena (the ValueRef keeps its bytes
// alive and unevictable until the write is done). Not thread-safe: one per
// connection.
#pragma once

#include <asio/buffer.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/types.h"

namespace ctxstore::server {

class RespOutput {
 public:
  // Past these the connection writes before it runs the next command:
  // they bound what one connection holds for a client that pipelines.
  static constexpr size_t kMaxTextBytes = 64 << 10;
  static constexpr size_t kMaxValues = 512;
  static constexpr uint64_t kMaxValueBytes = 16 << 20;

  std::string* text() { return &text_; }
  // The value's bytes go out here, after the text so far; the caller then
  // appends the "\r\n" that ends the bulk string.
  void AppendValue(engine::ValueRef value);

  bool empty() const { return text_.empty() && values_.empty(); }
  bool full() const {
    return text_.size() >= kMaxTextBytes || values_.size() >= kMaxValues ||
           value_bytes_ >= kMaxValueBytes;
  }
  // The gather list, valid until Clear().
  const std::vector<asio::const_buffer>& Buffers();
  void Clear();

 private:
  struct Spliced {
    size_t text_offset;  // the value goes before this byte of text_
    engine::ValueRef value;
  };
  std::string text_;
  std::vector<Spliced> values_;
  uint64_t value_bytes_ = 0;
  std::vector<asio::const_buffer> buffers_;
};

}  // namespace ctxstore::server
