#include "server/watchdog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/clock.h"

namespace ctxstore::server {

void Watchdog::Arm(bool in_frame, bool authenticated) {
  in_frame_ = in_frame;
  authenticated_ = authenticated;
  uint64_t timeout_ms = in_frame ? options_->frame_timeout_ms : options_->idle_timeout_ms;
  if (!authenticated) timeout_ms = std::min(timeout_ms, options_->hello_timeout_ms);
  deadline_ms_ = MonotonicMs() + timeout_ms;
}

asio::awaitable<void> Watchdog::Run(service::Counters* counters, std::function<void()> on_timeout) {
  const ServerOptions& o = *options_;
  const uint64_t tick_ms = std::max<uint64_t>(
      10, std::min({o.idle_timeout_ms, o.frame_timeout_ms, o.hello_timeout_ms}) / 4);
  while (!stopped_) {
    timer_.expires_after(std::chrono::milliseconds(std::min<uint64_t>(tick_ms, 1000)));
    asio::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;
    if (MonotonicMs() >= deadline_ms_) {
      spdlog::info("closing connection: {} timeout",
                   !authenticated_ ? "hello" : (in_frame_ ? "frame" : "idle"));
      counters->timeouts++;
      on_timeout();
      break;
    }
  }
}

void Watchdog::Stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace ctxstore::server
