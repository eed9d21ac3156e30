// Waiting for durability on a connection's own executor: a sync PUT, a sync
// DELETE or a FLUSH is answered only once the engine's DurableCallback has
// run (on the flusher thread), and no network thread blocks meanwhile.
// g++ 12 rule for the coroutines here: no braced initializer lists inside
// co_await arguments.
#pragma once

#include <asio.hpp>

#include <memory>

#include "ctxstore/status.h"
#include "engine/engine.h"
#include "service/op_table.h"

namespace ctxstore::server {

// Turns a DurableCallback into something a coroutine can wait for.
class DurableWaiter : public std::enable_shared_from_this<DurableWaiter> {
 public:
  explicit DurableWaiter(const asio::any_io_executor& ex) : timer_(ex) {}
  engine::DurableCallback Callback() {
    return [self = shared_from_this()](Status st) {
      asio::post(self->timer_.get_executor(), [self, st = std::move(st)]() mutable {
        self->status_ = std::move(st);
        self->done_ = true;
        self->timer_.cancel();
      });
    };
  }
  asio::awaitable<Status> Wait() {
    while (!done_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      asio::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return status_;
  }

 private:
  asio::steady_timer timer_;
  bool done_ = false;
  Status status_;
};

// The service's DurableWait for one request: a waiter is made only when a
// handler arms it (sync DELETE, FLUSH), so other requests pay nothing.
class DurableHook final : public service::DurableWait {
 public:
  explicit DurableHook(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  engine::DurableCallback Arm() override {
    waiter_ = std::make_shared<DurableWaiter>(ex_);
    return waiter_->Callback();
  }
  // Null unless armed.
  DurableWaiter* waiter() const { return waiter_.get(); }

 private:
  asio::any_io_executor ex_;
  std::shared_ptr<DurableWaiter> waiter_;
};

}  // namespace ctxstore::server
