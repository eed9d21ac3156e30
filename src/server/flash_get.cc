#include "server/flash_get.h"

#include <memory>
#include <optional>
#include <string>

#include "service/key_ops.h"

namespace ctxstore::server {
namespace {

// Starts a GET's flash read on the reader pool; the pool thread posts the
// coroutine's completion handler back to its own executor, where it is
// called and destroyed (it owns coroutine frames allocated there). A named
// type rather than a lambda inside the coroutine: g++ 12 mishandles
// init-captures of lambdas written in coroutines.
struct StartFlashGet {
  const service::Service* service;
  uint32_t ns;
  std::shared_ptr<const std::string> key;
  std::shared_ptr<std::optional<Result<engine::ValueRef>>> result;
  BlockingPool* pool;

  template <typename Handler>
  void operator()(Handler handler) const {
    auto held = std::make_shared<Handler>(std::move(handler));
    pool->Post([service = service, ns = ns, key = key, result = result, held]() mutable {
      result->emplace(service::ReadFromFlash(*service, ns, *key));
      auto home = asio::get_associated_executor(*held);
      asio::post(home, [h = std::move(held)] { std::move (*h)(); });
    });
  }
};

}  // namespace

asio::awaitable<Result<engine::ValueRef>> GetValueOffLoop(const ConnectionContext& ctx,
                                                          const service::Session& session,
                                                          std::string_view key) {
  auto value = service::Get(*ctx.service, session, key, /*never_block=*/true);
  if (value.status().code() != StatusCode::kBusy) co_return value;
  const uint32_t ns = session.namespace_id();
  if (ctx.flash_readers == nullptr) {
    co_return service::ReadFromFlash(*ctx.service, ns, key);  // blocks this thread
  }
  auto result = std::make_shared<std::optional<Result<engine::ValueRef>>>();
  StartFlashGet start{ctx.service, ns, std::make_shared<const std::string>(key), result,
                      ctx.flash_readers};
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(start, asio::use_awaitable);
  co_return std::move(**result);
}

}  // namespace ctxstore::server
