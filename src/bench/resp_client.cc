#include "bench/resp_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ctxstore::bench {
namespace {

Status Errno(const char* what) {
  return Status::Unavailable(std::string("redis ") + what + ": " + std::strerror(errno));
}

}  // namespace

// Built with snprintf: GCC 12 at -O3 warns falsely (-Wrestrict) on chains
// of std::string concatenation.
std::string RespCommandHeader(std::string_view command, std::string_view key, bool with_value,
                              size_t value_len) {
  char head[64];
  int n =
      std::snprintf(head, sizeof(head), "*%d\r\n$%zu\r\n%.*s\r\n$%zu\r\n", with_value ? 3 : 2,
                    command.size(), static_cast<int>(command.size()), command.data(), key.size());
  std::string h(head, static_cast<size_t>(n));
  h.append(key);
  h.append("\r\n");
  if (with_value) {
    n = std::snprintf(head, sizeof(head), "$%zu\r\n", value_len);
    h.append(head, static_cast<size_t>(n));
  }
  return h;
}

Result<int> ConnectLoopback(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const Status st = Errno("connect");
    close(fd);
    return st;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void ConsumeIov(iovec* iov, int count, int& first, size_t n) {
  while (first < count && n >= iov[first].iov_len) {
    n -= iov[first].iov_len;
    ++first;
  }
  if (first < count) {
    iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + n;
    iov[first].iov_len -= n;
  }
}

Result<std::unique_ptr<RespClient>> RespClient::Connect(uint16_t port) {
  Result<int> connected = ConnectLoopback(port);
  if (!connected.ok()) return connected.status();
  const int fd = *connected;
  // A server that stops answering is an error, not a hung benchmark; a
  // 32 MiB reply under load can take a while.
  const timeval timeout{120, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return std::unique_ptr<RespClient>(new RespClient(fd));
}

RespClient::~RespClient() {
  if (fd_ >= 0) close(fd_);
}

Status RespClient::Send(std::string_view header, const char* value, size_t value_len,
                        bool has_value) {
  static const char kCrlf[] = "\r\n";
  iovec iov[3] = {{const_cast<char*>(header.data()), header.size()},
                  {const_cast<char*>(value), value_len},
                  {const_cast<char*>(kCrlf), has_value ? 2u : 0u}};
  int first = 0;
  while (first < 3) {
    const ssize_t n = writev(fd_, iov + first, 3 - first);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write");
    ConsumeIov(iov, 3, first, static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status RespClient::Fill() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == line_buf_.size()) {
    if (begin_ == 0) return Status::Corrupt("redis reply line longer than 16 KiB");
    std::memmove(line_buf_.data(), line_buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (true) {
    const ssize_t n = recv(fd_, line_buf_.data() + end_, line_buf_.size() - end_, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read");
    if (n == 0) return Status::Unavailable("redis closed the connection");
    end_ += static_cast<size_t>(n);
    return Status::Ok();
  }
}

Result<std::string> RespClient::ReadLine() {
  while (true) {
    const char* start = line_buf_.data() + begin_;
    const void* lf = std::memchr(start, '\n', end_ - begin_);
    if (lf != nullptr) {
      const size_t len = static_cast<size_t>(static_cast<const char*>(lf) - start);
      std::string line(start, len > 0 && start[len - 1] == '\r' ? len - 1 : len);
      begin_ += len + 1;
      return line;
    }
    CTX_RETURN_IF_ERROR(Fill());
  }
}

// What is buffered first, then the rest straight from the socket into dst.
Status RespClient::ReadExact(char* dst, size_t n) {
  const size_t buffered = std::min(n, end_ - begin_);
  std::memcpy(dst, line_buf_.data() + begin_, buffered);
  begin_ += buffered;
  for (size_t done = buffered; done < n;) {
    const ssize_t got = recv(fd_, dst + done, n - done, MSG_WAITALL);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Errno("read");
    if (got == 0) return Status::Unavailable("redis closed the connection");
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

Status RespClient::Set(std::string_view key, const char* value, size_t value_len) {
  CTX_RETURN_IF_ERROR(Send(RespCommandHeader("SET", key, true, value_len), value, value_len, true));
  auto line = ReadLine();
  if (!line.ok()) return line.status();
  if (*line != "+OK") return Status::Internal("SET: " + *line);
  return Status::Ok();
}

Status RespClient::SetBatch(const std::vector<std::string>& keys, const char* value,
                            size_t value_len) {
  for (const std::string& key : keys) {
    CTX_RETURN_IF_ERROR(
        Send(RespCommandHeader("SET", key, true, value_len), value, value_len, true));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    auto line = ReadLine();
    if (!line.ok()) return line.status();
    if (*line != "+OK") return Status::Internal("SET: " + *line);
  }
  return Status::Ok();
}

Status RespClient::FlushAll() {
  static constexpr std::string_view kFlushAll = "*1\r\n$8\r\nFLUSHALL\r\n";
  CTX_RETURN_IF_ERROR(Send(kFlushAll, nullptr, 0, false));
  auto line = ReadLine();
  if (!line.ok()) return line.status();
  if (*line != "+OK") return Status::Internal("FLUSHALL: " + *line);
  return Status::Ok();
}

Result<uint64_t> RespClient::Get(std::string_view key, char* buf, size_t capacity) {
  CTX_RETURN_IF_ERROR(Send(RespCommandHeader("GET", key, false, 0), nullptr, 0, false));
  auto line = ReadLine();
  if (!line.ok()) return line.status();
  if (line->empty() || (*line)[0] != '$') return Status::Internal("GET: " + *line);
  if (*line == "$-1") return Status::NotFound("GET: no such key");
  char* end = nullptr;
  const unsigned long long len = std::strtoull(line->c_str() + 1, &end, 10);
  if (end == line->c_str() + 1 || *end != '\0') return Status::Corrupt("GET: bad header " + *line);
  if (len > capacity) {
    return Status::Invalid("GET: value of " + std::to_string(len) + " bytes, buffer of " +
                           std::to_string(capacity));
  }
  CTX_RETURN_IF_ERROR(ReadExact(buf, len));
  char crlf[2];
  CTX_RETURN_IF_ERROR(ReadExact(crlf, 2));
  if (crlf[0] != '\r' || crlf[1] != '\n') return Status::Corrupt("GET: no CRLF after the value");
  return len;
}

}  // namespace ctxstore::bench
