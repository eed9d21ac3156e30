#include "protocol/resp_reply.h"

#include <charconv>

namespace ctxstore::protocol {

void RespWriter::Line(std::string_view head, std::string_view text) {
  out_->append(head);
  const size_t start = out_->size();
  out_->append(text);
  for (size_t i = start; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n");
}

void RespWriter::Count(char type, int64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  (void)ec;  // 24 bytes hold any int64
  out_->push_back(type);
  out_->append(digits, end);
  out_->append("\r\n");
}

void RespWriter::Simple(std::string_view s) {
  Line("+", s);
}

void RespWriter::Error(std::string_view code_and_text) {
  if (!code_and_text.empty() && code_and_text[0] == '-') {
    Line("-", code_and_text.substr(1));
  } else {
    Line("-ERR ", code_and_text);
  }
}

void RespWriter::Integer(int64_t v) {
  Count(':', v);
}

void RespWriter::Bulk(std::string_view s) {
  Count('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n");
}

void RespWriter::BulkHeader(uint64_t length_bytes) {
  Count('$', static_cast<int64_t>(length_bytes));
}

void RespWriter::Null() {
  out_->append(resp3_ ? "_\r\n" : "$-1\r\n");
}

void RespWriter::NullArray() {
  out_->append(resp3_ ? "_\r\n" : "*-1\r\n");
}

void RespWriter::Array(size_t n) {
  Count('*', static_cast<int64_t>(n));
}

void RespWriter::Map(size_t n) {
  if (resp3_) {
    Count('%', static_cast<int64_t>(n));
  } else {
    Count('*', static_cast<int64_t>(2 * n));
  }
}

void RespWriter::Verbatim(std::string_view txt) {
  if (!resp3_) {
    Bulk(txt);
    return;
  }
  Count('=', static_cast<int64_t>(txt.size() + 4));
  out_->append("txt:");
  out_->append(txt);
  out_->append("\r\n");
}

}  // namespace ctxstore::protocol
