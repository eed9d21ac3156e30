// The Redis protocol's replies: RespWriter appends them, encoded, to a
// string, in RESP2 or RESP3 (the client picks with HELLO). Pure: no I/O and
// no shared state; one writer per reply batch, one thread.
//
// Where the two versions differ (null, null array, map, verbatim text) the
// writer picks the form; everything else is the same bytes in both. Values
// are not copied through here: BulkHeader writes "$<len>\r\n" and the caller
// sends the value's bytes, then "\r\n", by a gather write from the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ctxstore::protocol {

class RespWriter {
 public:
  // proto: 2 or 3 (anything but 3 writes RESP2).
  RespWriter(std::string* out, int proto) : out_(out), resp3_(proto == 3) {}

  int proto() const { return resp3_ ? 3 : 2; }

  // "+OK\r\n". CR and LF become spaces: a simple string is one line.
  void Simple(std::string_view s);
  // Redis's addReplyError convention: text that starts with '-' carries its
  // own code ("-NOAUTH Authentication required."); any other text gets
  // "-ERR " ("Protocol error: ..." -> "-ERR Protocol error: ..."). CR and LF
  // become spaces, as Redis does for error texts.
  void Error(std::string_view code_and_text);
  void Integer(int64_t v);                 // ":12\r\n"
  void Bulk(std::string_view s);           // "$3\r\nabc\r\n"
  void BulkHeader(uint64_t length_bytes);  // "$3\r\n": the caller sends the bytes and "\r\n"
  void Null();                             // "$-1\r\n" | "_\r\n"
  void NullArray();                        // "*-1\r\n" | "_\r\n"
  void Array(size_t n);                    // "*n\r\n" then n elements
  void Map(size_t n);                      // "*2n\r\n" | "%n\r\n" then n key/value pairs
  void Verbatim(std::string_view txt);     // bulk | "=len+4\r\ntxt:...\r\n"

 private:
  void Line(std::string_view head, std::string_view text);  // head, text (CR/LF as spaces), CRLF
  void Count(char type, int64_t n);                         // type, decimal, CRLF

  std::string* out_;
  bool resp3_;
};

}  // namespace ctxstore::protocol
