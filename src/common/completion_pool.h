// A fixed pool of worker threads whose finished jobs are announced on an
// eventfd: the shape an event loop can wait on without a thread of its own
// per request (asyncio's add_reader; LMCache's native connectors expose
// the same event_fd + drain). The Python AsyncClient runs the blocking C++
// client's calls on it (src/python/async_binding.cc).
//
// Jobs run in submission order on whichever worker is free; a job's id is
// reported by TakeCompleted once the job has returned. The eventfd is
// readable whenever completions are waiting (it may also be readable, at
// worst once, when none are: callers drain in a loop that tolerates an
// empty batch).
//
// Thread safety: Submit, TakeCompleted and Close may be called from any
// thread; Join from one thread, not a worker.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/unique_fd.h"
#include "ctxstore/status.h"

namespace ctxstore {

class CompletionPool {
 public:
  static constexpr unsigned kMaxThreads = 256;

  // `threads` workers (1..kMaxThreads) named "<name>-N".
  static Result<std::unique_ptr<CompletionPool>> Create(unsigned threads, const std::string& name);
  ~CompletionPool();  // Close() + Join()
  CompletionPool(const CompletionPool&) = delete;
  CompletionPool& operator=(const CompletionPool&) = delete;

  int event_fd() const { return event_fd_.get(); }

  // Queues `job`. False once Close() was called (the job is not queued).
  // `job` must not throw; it runs without any lock of the pool's held.
  bool Submit(uint64_t id, std::function<void()> job);
  // The ids of the jobs finished since the last call, in finishing order.
  std::vector<uint64_t> TakeCompleted();
  // Jobs submitted and not yet taken by TakeCompleted.
  size_t outstanding() const;

  // Refuses later submissions; queued jobs still run.
  void Close();
  // Waits for every queued job to finish and the workers to exit (after
  // Close). Their completions can still be taken afterwards.
  void Join();

 private:
  explicit CompletionPool(UniqueFd event_fd) : event_fd_(std::move(event_fd)) {}
  void Work();

  const UniqueFd event_fd_;
  std::vector<std::thread> workers_;
  mutable Mutex mu_;
  CondVar queued_cv_;
  std::deque<std::pair<uint64_t, std::function<void()>>> queue_ GUARDED_BY(mu_);
  std::vector<uint64_t> done_ GUARDED_BY(mu_);
  size_t outstanding_ GUARDED_BY(mu_) = 0;
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace ctxstore
