// A connection's deadlines: between requests the idle timeout, inside one
// the frame timeout (a peer that stalls mid-request, or never reads its
// replies, holds the connection only this long), and until the session
// authenticates at most the hello timeout. One coroutine per connection
// ticks and closes the connection when the deadline passes. Shared by
// every front end. Not thread-safe: used by its connection's thread only.
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <functional>
#include <memory>

#include "server/server.h"
#include "service/counters.h"

namespace ctxstore::server {

class Watchdog {
 public:
  Watchdog(asio::any_io_executor executor, const ServerOptions& options)
      : timer_(std::move(executor)), options_(&options) {}

  // The deadline from now: the frame timeout when in_frame, the idle one
  // otherwise; both at most the hello timeout while !authenticated.
  void Arm(bool in_frame, bool authenticated);
  // No deadline until the next Arm: for protocols whose clients never
  // reconnect (lm://), whose idle connections must stay.
  void Disarm() { deadline_ms_ = UINT64_MAX; }

  // Ticks until Stop(); calls on_timeout once when the deadline passes
  // (counted in counters.timeouts), then returns.
  asio::awaitable<void> Run(service::Counters* counters, std::function<void()> on_timeout);
  void Stop();

 private:
  asio::steady_timer timer_;
  const ServerOptions* options_;
  bool stopped_ = false;
  bool in_frame_ = false;
  bool authenticated_ = false;
  uint64_t deadline_ms_ = 0;
};

// Starts a connection (native, Redis, lm://): counts it, and spawns on its
// executor its Run() coroutine and its watchdog, whose timeout Close()s it;
// both hold `self`, so the connection lives until both are done. Conn
// befriends this function (Run and Close stay private).
template <typename Conn>
void StartWithWatchdog(const std::shared_ptr<Conn>& self, asio::any_io_executor executor,
                       Watchdog& watchdog, service::Counters& counters) {
  counters.connections++;
  counters.connections_total++;
  asio::co_spawn(
      executor, [self]() -> asio::awaitable<void> { co_await self->Run(); }, asio::detached);
  // The callback is made here, not inside a coroutine (g++ 12).
  std::function<void()> on_timeout = [self] { self->Close(); };
  asio::co_spawn(executor, watchdog.Run(&counters, std::move(on_timeout)), asio::detached);
}

}  // namespace ctxstore::server
