#include "server/flash_get.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "service/key_ops.h"

namespace ctxstore::server {
namespace {

// Starts a blocking job on the reader pool; the pool thread posts the
// coroutine's completion handler back to its own executor, where it is
// called and destroyed (it owns coroutine frames allocated there). A named
// type rather than a lambda inside the coroutine: g++ 12 mishandles
// init-captures of lambdas written in coroutines.
template <typename T>
struct StartOnPool {
  std::function<T()> job;
  std::shared_ptr<std::optional<T>> result;
  BlockingPool* pool;

  template <typename Handler>
  void operator()(Handler handler) const {
    auto held = std::make_shared<Handler>(std::move(handler));
    pool->Post([job = job, result = result, held]() mutable {
      result->emplace(job());
      auto home = asio::get_associated_executor(*held);
      asio::post(home, [h = std::move(held)] { std::move (*h)(); });
    });
  }
};

// The jobs, made outside the coroutines below (g++ 12: no init-captures in
// lambdas written inside a coroutine).
std::function<Result<engine::ValueRef>()> FlashReadJob(const service::Service* service, uint32_t ns,
                                                       std::string key) {
  return [service, ns, key = std::move(key)] { return service::ReadFromFlash(*service, ns, key); };
}

std::function<Status()> SetExpiryJob(const service::Service* service, uint32_t ns, std::string key,
                                     uint64_t expires_ms) {
  return [service, ns, key = std::move(key), expires_ms] {
    return service::SetExpiry(*service, ns, key, expires_ms, /*never_block=*/false);
  };
}

// Runs job on the reader pool (on this thread when there is none).
template <typename T>
asio::awaitable<T> OnPool(const ConnectionContext& ctx, std::function<T()> job) {
  if (ctx.flash_readers == nullptr) co_return job();  // blocks this thread
  auto result = std::make_shared<std::optional<T>>();
  StartOnPool<T> start{std::move(job), result, ctx.flash_readers};
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(start, asio::use_awaitable);
  co_return std::move(**result);
}

}  // namespace

asio::awaitable<Result<engine::ValueRef>> GetValueOffLoop(const ConnectionContext& ctx,
                                                          const service::Session& session,
                                                          std::string_view key) {
  auto value = service::Get(*ctx.service, session, key, /*never_block=*/true);
  if (value.status().code() != StatusCode::kBusy) co_return value;
  co_return co_await OnPool(ctx,
                            FlashReadJob(ctx.service, session.namespace_id(), std::string(key)));
}

asio::awaitable<Status> SetExpiryOffLoop(const ConnectionContext& ctx,
                                         const service::Session& session, std::string_view key,
                                         uint64_t expires_ms) {
  Status st = service::SetExpiry(*ctx.service, session.namespace_id(), key, expires_ms,
                                 /*never_block=*/true);
  if (st.code() != StatusCode::kBusy) co_return st;
  co_return co_await OnPool(
      ctx, SetExpiryJob(ctx.service, session.namespace_id(), std::string(key), expires_ms));
}

}  // namespace ctxstore::server
