#include "common/completion_pool.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/check.h"
#include "common/thread_name.h"

namespace ctxstore {

Result<std::unique_ptr<CompletionPool>> CompletionPool::Create(unsigned threads,
                                                               const std::string& name) {
  if (threads == 0 || threads > kMaxThreads) {
    return Status::Invalid("a completion pool needs 1 to " + std::to_string(kMaxThreads) +
                           " threads, not " + std::to_string(threads));
  }
  UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd.valid()) return Status::IoError(std::string("eventfd: ") + std::strerror(errno));
  std::unique_ptr<CompletionPool> pool(new CompletionPool(std::move(fd)));
  pool->workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    pool->workers_.emplace_back([p = pool.get(), thread_name = name + "-" + std::to_string(i)] {
      SetThreadName(thread_name);
      p->Work();
    });
  }
  return pool;
}

CompletionPool::~CompletionPool() {
  Close();
  Join();
}

bool CompletionPool::Submit(uint64_t id, std::function<void()> job) {
  MutexLock lock(&mu_);
  if (closed_) return false;
  queue_.emplace_back(id, std::move(job));
  ++outstanding_;
  queued_cv_.Signal();
  return true;
}

std::vector<uint64_t> CompletionPool::TakeCompleted() {
  // Read the eventfd before taking the list: a completion that lands in
  // between is then taken now and leaves one spurious wake-up behind,
  // never the other way round (a completion with its wake-up consumed).
  uint64_t count = 0;
  while (::read(event_fd_.get(), &count, sizeof(count)) < 0 && errno == EINTR) {
  }
  std::vector<uint64_t> taken;
  MutexLock lock(&mu_);
  taken.swap(done_);
  CTX_CHECK(outstanding_ >= taken.size());
  outstanding_ -= taken.size();
  return taken;
}

size_t CompletionPool::outstanding() const {
  MutexLock lock(&mu_);
  return outstanding_;
}

void CompletionPool::Close() {
  MutexLock lock(&mu_);
  closed_ = true;
  queued_cv_.SignalAll();
}

void CompletionPool::Join() {
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void CompletionPool::Work() {
  for (;;) {
    std::pair<uint64_t, std::function<void()>> job;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !closed_) queued_cv_.Wait(&mu_);
      if (queue_.empty()) return;  // closed and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.second();
    job.second = nullptr;  // the job's captures go before it is announced
    bool wake = false;
    {
      MutexLock lock(&mu_);
      wake = done_.empty();  // one eventfd write per burst of completions
      done_.push_back(job.first);
    }
    if (wake) {
      const uint64_t one = 1;
      // Cannot fail short of a bad fd or the counter reaching 2^64-2.
      const ssize_t written = ::write(event_fd_.get(), &one, sizeof(one));
      CTX_CHECK(written == sizeof(one));
    }
  }
}

}  // namespace ctxstore
