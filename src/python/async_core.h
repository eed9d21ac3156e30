// _ctxstore.AsyncCore: the engine of ctxstore.AsyncClient (python/ctxstore/
// aio.py). Calls (call.h) are submitted with the GIL held and run on a
// CompletionPool's workers, which never take the GIL; each finished call's
// id is announced on the pool's eventfd, which the asyncio loop watches
// with add_reader, and drain() turns the finished calls into Python
// results on the loop's thread, a batch at a time. No thread per request
// and no Python code on the workers.
//
// Thread safety: every method is called with the GIL held (the binding
// guarantees it); calls_ is touched only then. The workers see only the
// Call objects, which stay in calls_ until drained.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/completion_pool.h"
#include "python/call.h"
#include "python/native_client.h"

namespace ctxstore::python {

class AsyncCore {
 public:
  static constexpr unsigned kMaxWorkers = CompletionPool::kMaxThreads;

  AsyncCore(const NativeClient& client, unsigned workers);
  ~AsyncCore();  // waits (without the GIL) for the calls in flight
  AsyncCore(const AsyncCore&) = delete;
  AsyncCore& operator=(const AsyncCore&) = delete;

  int event_fd() const { return pool_->event_fd(); }
  // The client the calls go to; ConnectionError once closed.
  std::shared_ptr<Client> client() const;
  // Queues the call; its id comes back from Drain once it finished.
  uint64_t Submit(std::unique_ptr<Call> call);
  // [(id, ok, result or exception instance)] for the calls finished since
  // the last drain; each call's buffers are released here.
  pybind11::list Drain();
  // Calls submitted and not yet drained.
  size_t outstanding() const { return calls_.size(); }
  // Refuses later submissions (ConnectionError); calls in flight finish
  // and can still be drained.
  void Close();

 private:
  std::shared_ptr<Client> client_;
  std::unique_ptr<CompletionPool> pool_;
  std::unordered_map<uint64_t, std::unique_ptr<Call>> calls_;
  uint64_t next_id_ = 1;
};

// Binds CallT as Client.<name>(args...) (run now, on the caller's thread)
// and AsyncCore.submit_<name>(args...) -> id.
template <typename CallT, typename... Args, typename... Extra>
void DefCall(pybind11::class_<NativeClient>& sync_cls, pybind11::class_<AsyncCore>& async_cls,
             const char* name, const Extra&... extra) {
  sync_cls.def(
      name,
      [](NativeClient& self, Args... args) {
        CallT call(self.get(), std::move(args)...);
        return RunNow(call);
      },
      extra...);
  async_cls.def(("submit_" + std::string(name)).c_str(),
                [](AsyncCore& self, Args... args) {
                  return self.Submit(std::make_unique<CallT>(self.client(), std::move(args)...));
                },
                extra...);
}

void BindAsyncCore(pybind11::module_& m, pybind11::class_<NativeClient>& client);

}  // namespace ctxstore::python
