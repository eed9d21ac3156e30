// The harness's own Redis client for SET and GET of large values, written
// on a plain socket so that it costs no more than redis-benchmark does:
// a SET sends the RESP header and then the caller's value buffer (writev,
// no formatted copy), and a GET parses the `$len` header and reads the body
// straight into the caller's buffer (one kernel copy, no reply object).
// hiredis, which copies a value into its output buffer and grows its input
// buffer 16 KiB at a time, stays for the small commands (PING, EXISTS).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::bench {

// Both Redis drivers' plumbing (this client and bench/resp_mux.h):
// a blocking TCP connection to 127.0.0.1:port with TCP_NODELAY, as its fd.
Result<int> ConnectLoopback(uint16_t port);
// Marks n more bytes of iov[first..count) sent: `first` moves past the
// iovecs now whole, and the next one is trimmed by what was sent of it.
void ConsumeIov(iovec* iov, int count, int& first, size_t n);

// A command's RESP header up to its value: "*3\r\n$3\r\nSET\r\n$<klen>\r\n<key>\r\n$<vlen>\r\n"
// with a value, "*2\r\n$3\r\nGET\r\n$<klen>\r\n<key>\r\n" without.
std::string RespCommandHeader(std::string_view command, std::string_view key, bool with_value,
                              size_t value_len);

class RespClient {
 public:
  // Connects to 127.0.0.1:port (TCP_NODELAY).
  static Result<std::unique_ptr<RespClient>> Connect(uint16_t port);
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  // SET key value; Ok on +OK.
  Status Set(std::string_view key, const char* value, size_t value_len);

  // SET of every key to the same value, pipelined: all commands are sent,
  // then every reply read (each must be +OK). For preloading; keep a batch
  // to a few MiB, as the server buffers it whole.
  Status SetBatch(const std::vector<std::string>& keys, const char* value, size_t value_len);

  // FLUSHALL; Ok on +OK.
  Status FlushAll();

  // GET key into buf: the value's length. NotFound for a missing key,
  // Invalid (and the connection unusable) when the value is larger than
  // capacity.
  Result<uint64_t> Get(std::string_view key, char* buf, size_t capacity);

 private:
  explicit RespClient(int fd) : fd_(fd), line_buf_(16 << 10) {}
  // header, then (has_value) the value and its CRLF; an empty value may
  // have no buffer at all.
  Status Send(std::string_view header, const char* value, size_t value_len, bool has_value);
  Result<std::string> ReadLine();
  Status ReadExact(char* dst, size_t n);
  Status Fill();

  int fd_ = -1;
  // Bytes received past the last parsed line: small (a reply header and
  // what arrived with it); a body is read around it.
  std::vector<char> line_buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace ctxstore::bench
