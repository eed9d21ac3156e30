#include "server/resp_output.h"

#include <utility>

namespace ctxstore::server {

void RespOutput::AppendValue(engine::ValueRef value) {
  value_bytes_ += value.size;
  values_.push_back(Spliced{text_.size(), std::move(value)});
}

const std::vector<asio::const_buffer>& RespOutput::Buffers() {
  buffers_.clear();
  size_t text_done = 0;
  for (const Spliced& s : values_) {
    if (s.text_offset > text_done) {
      buffers_.push_back(asio::buffer(text_.data() + text_done, s.text_offset - text_done));
    }
    if (s.value.size > 0) buffers_.push_back(asio::buffer(s.value.data, s.value.size));
    text_done = s.text_offset;
  }
  if (text_.size() > text_done) {
    buffers_.push_back(asio::buffer(text_.data() + text_done, text_.size() - text_done));
  }
  return buffers_;
}

void RespOutput::Clear() {
  text_.clear();
  values_.clear();
  value_bytes_ = 0;
  buffers_.clear();
  // A burst of large replies may have grown the text: do not keep it.
  if (text_.capacity() > 4 * kMaxTextBytes) std::string().swap(text_);
}

}  // namespace ctxstore::server
