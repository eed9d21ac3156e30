#include "bench/resp_mux.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "bench/resp_client.h"

namespace ctxstore::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A connection that sends nothing back for this long is broken, not slow
// (a 32 MiB reply under load takes well under a second).
constexpr int kReplyTimeoutMs = 120000;

Status Errno(const char* what) {
  return Status::Unavailable(std::string("redis ") + what + ": " + std::strerror(errno));
}

// What one call to MuxConn::Step came to.
enum class StepResult {
  kBlocked,   // waiting for the socket; epoll says when to step again
  kFinished,  // the operation ended; result() holds what it moved or its error
  kBroken,    // the connection cannot go on; result() holds why
};

// One connection and the operation in flight on it.
class MuxConn {
 public:
  MuxConn(int fd, const RespMuxSpec& spec, uint32_t index) : fd_(fd), spec_(spec), index_(index) {}
  ~MuxConn() { close(fd_); }
  MuxConn(const MuxConn&) = delete;
  MuxConn& operator=(const MuxConn&) = delete;

  // Starts the operation of `iteration` (sends nothing yet: Step does).
  void Begin(uint64_t iteration) {
    std::array<char, 48> buf;
    const std::string_view key = spec_.key(index_, iteration, buf);
    const bool set = spec_.op == RespMuxOp::kSet;
    header_ = RespCommandHeader(set ? "SET" : "GET", key, set, spec_.value_bytes);
    static const char kCrlf[] = "\r\n";
    out_[0] = {header_.data(), header_.size()};
    out_[1] = {set ? spec_.values[index_] : nullptr, set ? spec_.value_bytes : 0};
    out_[2] = {const_cast<char*>(kCrlf), set ? 2u : 0u};
    out_first_ = 0;
    line_len_ = 0;
    body_len_ = body_done_ = 0;
    phase_ = Phase::kSend;
    started_ = Clock::now();
  }

  // Moves the operation as far as the socket allows without blocking.
  StepResult Step() {
    while (true) {
      StepResult r = StepResult::kBlocked;
      bool progressed = false;
      switch (phase_) {
        case Phase::kSend:
          r = Send(progressed);
          break;
        case Phase::kHeader:
          r = ReceiveHeader(progressed);
          break;
        case Phase::kBody:
          r = ReceiveBody(progressed);
          break;
      }
      if (r != StepResult::kBlocked || !progressed) return r;
    }
  }

  int fd() const { return fd_; }
  Clock::time_point started() const { return started_; }
  const Result<uint64_t>& result() const { return result_; }

 private:
  enum class Phase { kSend, kHeader, kBody };

  StepResult Broken(Status why) {
    result_ = std::move(why);
    return StepResult::kBroken;
  }
  StepResult Finished(Result<uint64_t> moved) {
    result_ = std::move(moved);
    return StepResult::kFinished;
  }

  StepResult Send(bool& progressed) {
    msghdr msg{};
    msg.msg_iov = out_ + out_first_;
    msg.msg_iovlen = static_cast<size_t>(3 - out_first_);
    // MSG_NOSIGNAL: a server that hung up is an error, not a SIGPIPE.
    const ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return StepResult::kBlocked;
      return Broken(Errno("write"));
    }
    ConsumeIov(out_, 3, out_first_, static_cast<size_t>(n));
    if (out_first_ == 3) phase_ = Phase::kHeader;
    progressed = true;
    return StepResult::kBlocked;
  }

  StepResult ReceiveHeader(bool& progressed) {
    const ssize_t n = recv(fd_, line_.data() + line_len_, line_.size() - line_len_, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return StepResult::kBlocked;
      return Broken(Errno("read"));
    }
    if (n == 0) return Broken(Status::Unavailable("redis closed the connection"));
    line_len_ += static_cast<size_t>(n);
    progressed = true;
    const char* lf = static_cast<const char*>(std::memchr(line_.data(), '\n', line_len_));
    if (lf == nullptr) {
      if (line_len_ == line_.size()) return Broken(Status::Corrupt("redis reply line too long"));
      return StepResult::kBlocked;
    }
    const size_t eol = static_cast<size_t>(lf - line_.data());
    const std::string line(line_.data(), eol > 0 && line_[eol - 1] == '\r' ? eol - 1 : eol);
    const char* rest = lf + 1;
    const size_t rest_len = line_len_ - eol - 1;
    const char* what = spec_.op == RespMuxOp::kSet ? "SET: " : "GET: ";
    const bool bulk = spec_.op == RespMuxOp::kGet && line.size() > 1 && line[0] == '$';
    if (!bulk || line == "$-1") {
      // A whole reply in one line: nothing may follow it, as one request is in flight.
      if (rest_len != 0) return Broken(Status::Corrupt(std::string(what) + "bytes after " + line));
      if (spec_.op == RespMuxOp::kSet && line == "+OK") return Finished(spec_.value_bytes);
      if (line == "$-1") return Finished(Status::NotFound("GET: no such key"));
      return Finished(Status::Internal(what + line));
    }
    char* end = nullptr;
    const unsigned long long len = std::strtoull(line.c_str() + 1, &end, 10);
    if (*end != '\0') return Broken(Status::Corrupt("GET: bad header " + line));
    if (len > spec_.value_bytes) {
      return Broken(Status::Invalid("GET: value of " + std::to_string(len) + " bytes, buffer of " +
                                    std::to_string(spec_.value_bytes)));
    }
    body_len_ = len;
    phase_ = Phase::kBody;
    if (rest_len > body_len_ + 2) return Broken(Status::Corrupt("GET: bytes after the value"));
    Take(rest, rest_len);
    return body_done_ == body_len_ + 2 ? EndBody() : StepResult::kBlocked;
  }

  // Bytes of the body and its CRLF that arrived with the header line.
  void Take(const char* p, size_t n) {
    const size_t to_body = std::min(n, body_len_);
    std::memcpy(spec_.values[index_], p, to_body);
    std::memcpy(crlf_, p + to_body, n - to_body);
    body_done_ = n;
  }

  StepResult ReceiveBody(bool& progressed) {
    iovec in[2];
    int count = 0;
    if (body_done_ < body_len_) {
      in[count++] = {spec_.values[index_] + body_done_, body_len_ - body_done_};
    }
    const size_t crlf_done = body_done_ > body_len_ ? body_done_ - body_len_ : 0;
    in[count++] = {crlf_ + crlf_done, 2 - crlf_done};
    const ssize_t n = readv(fd_, in, count);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return StepResult::kBlocked;
      return Broken(Errno("read"));
    }
    if (n == 0) return Broken(Status::Unavailable("redis closed the connection"));
    body_done_ += static_cast<size_t>(n);
    progressed = true;
    return body_done_ == body_len_ + 2 ? EndBody() : StepResult::kBlocked;
  }

  StepResult EndBody() {
    if (crlf_[0] != '\r' || crlf_[1] != '\n') {
      return Broken(Status::Corrupt("GET: no CRLF after the value"));
    }
    if (body_len_ != spec_.value_bytes) {
      return Finished(Status::Corrupt("GET returned " + std::to_string(body_len_) + " bytes"));
    }
    return Finished(body_len_);
  }

  const int fd_;
  const RespMuxSpec& spec_;
  const uint32_t index_;
  Phase phase_ = Phase::kSend;
  Clock::time_point started_;
  Result<uint64_t> result_ = uint64_t{0};
  std::string header_;
  iovec out_[3] = {};
  int out_first_ = 0;
  // The reply's first line, and whatever of the body arrived with it.
  std::array<char, 1024> line_ = {};
  size_t line_len_ = 0;
  uint64_t body_len_ = 0;
  uint64_t body_done_ = 0;  // of the body and its CRLF
  char crlf_[2] = {};
};

Result<std::unique_ptr<MuxConn>> Open(const RespMuxSpec& spec, uint32_t index, int epoll_fd) {
  Result<int> connected = ConnectLoopback(spec.port);
  if (!connected.ok()) return connected.status();
  const int fd = *connected;
  auto conn = std::make_unique<MuxConn>(fd, spec, index);  // closes fd from here on
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) return Errno("fcntl");
  // Edge-triggered for both directions, registered once: Step runs until
  // the socket would block, so no event is lost and no epoll_ctl is needed
  // between operations.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u32 = index;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) return Errno("epoll_ctl");
  return conn;
}

// One round over every live connection (see RunRound in loadgen.cc, whose
// rules for starting an operation this follows).
class MuxRound {
 public:
  MuxRound(std::vector<std::unique_ptr<MuxConn>>& conns, std::vector<bool>& broken,
           const LoadSpec& spec, uint64_t first)
      : conns_(conns),
        broken_(broken),
        spec_(spec),
        first_(first),
        tallies_(conns.size()),
        ends_(conns.size()),
        next_(conns.size(), 0),
        busy_(conns.size(), false) {}

  LoadResult Run(int epoll_fd) {
    start_ = Clock::now();
    std::fill(ends_.begin(), ends_.end(), start_);
    for (uint32_t w = 0; w < conns_.size(); ++w) {
      if (!broken_[w] && StartNext(w)) Drive(w);
    }
    std::array<epoll_event, 64> events;
    while (active_ > 0) {
      const int n = epoll_wait(epoll_fd, events.data(), events.size(), kReplyTimeoutMs);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        BreakActive(n == 0 ? Status::Unavailable("redis sent no reply in 120 s") : Errno("epoll"));
        break;
      }
      for (int k = 0; k < n; ++k) {
        const uint32_t w = events[static_cast<size_t>(k)].data.u32;
        if (busy_[w]) Drive(w);
      }
    }
    return SumRound(tallies_, start_, ends_);
  }

 private:
  // Whether connection w's next operation may start, as RunRound decides.
  bool MayStart(uint32_t w) {
    if (next_[w] < spec_.min_ops) {
      if (spec_.max_ops != 0) issued_++;
      return true;
    }
    if (Clock::now() - start_ >= std::chrono::milliseconds(spec_.duration_ms)) return false;
    return spec_.max_ops == 0 || issued_++ < spec_.max_ops;
  }

  bool StartNext(uint32_t w) {
    if (!MayStart(w)) {
      Stop(w);
      return false;
    }
    conns_[w]->Begin(first_ + next_[w]);
    if (!busy_[w]) active_++;
    busy_[w] = true;
    return true;
  }

  void Stop(uint32_t w) {
    if (busy_[w]) active_--;
    busy_[w] = false;
    ends_[w] = Clock::now();
  }

  void Drive(uint32_t w) {
    while (true) {
      MuxConn& c = *conns_[w];
      const StepResult r = c.Step();
      if (r == StepResult::kBlocked) return;
      const double latency_us =
          std::chrono::duration<double, std::micro>(Clock::now() - c.started()).count();
      tallies_[w].Record(c.result(), next_[w]++, latency_us);
      if (r == StepResult::kBroken) {
        broken_[w] = true;
        Stop(w);
        return;
      }
      if (!StartNext(w)) return;
    }
  }

  void BreakActive(const Status& why) {
    for (uint32_t w = 0; w < conns_.size(); ++w) {
      if (!busy_[w]) continue;
      tallies_[w].Record(why, next_[w]++, 0);
      broken_[w] = true;
      Stop(w);
    }
  }

  std::vector<std::unique_ptr<MuxConn>>& conns_;
  std::vector<bool>& broken_;
  const LoadSpec& spec_;
  const uint64_t first_;
  std::vector<OpTally> tallies_;
  std::vector<Clock::time_point> ends_;
  std::vector<uint64_t> next_;  // per connection: operations started this round
  std::vector<bool> busy_;      // per connection: an operation in flight
  uint32_t active_ = 0;
  uint64_t issued_ = 0;
  Clock::time_point start_;
};

}  // namespace

Result<LoadResult> RunRespMux(const LoadSpec& load, const RespMuxSpec& spec) {
  const uint32_t workers = std::max<uint32_t>(1, load.workers);
  if (spec.values.size() < workers || !spec.key) {
    return Status::Invalid("RunRespMux: a key function and a buffer per connection are needed");
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Errno("epoll_create1");
  std::unique_ptr<int, void (*)(int*)> epoll_closer(new int(epoll_fd), [](int* fd) {
    close(*fd);
    delete fd;
  });
  std::vector<std::unique_ptr<MuxConn>> conns;
  for (uint32_t w = 0; w < workers; ++w) {
    auto c = Open(spec, w, epoll_fd);
    if (!c.ok()) return c.status();
    conns.push_back(std::move(*c));
  }
  std::vector<bool> broken(workers, false);
  return RunRounds(load, [&](const LoadSpec& round_spec, uint64_t first) {
    return MuxRound(conns, broken, round_spec, first).Run(epoll_fd);
  });
}

}  // namespace ctxstore::bench
