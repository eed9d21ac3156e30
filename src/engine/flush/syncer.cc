#include "engine/flush/syncer.h"

#include "common/check.h"

namespace ctxstore::engine {

Syncer::~Syncer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void Syncer::Start(bool thread) {
  threaded_ = thread;
  if (thread) thread_ = env_->StartThread("ctx-syncer", [this] { ThreadMain(); });
}

void Syncer::Begin(std::shared_ptr<Segment> segment) {
  CTX_CHECK(segment != nullptr);
  if (!threaded_) {
    Status st = segment->Sync();
    MutexLock lock(&mu_);
    CTX_CHECK(!busy_);
    busy_ = true;
    result_ = std::move(st);
    return;
  }
  MutexLock lock(&mu_);
  CTX_CHECK(!busy_);
  busy_ = true;
  segment_ = std::move(segment);
  cv_.SignalAll();
}

bool Syncer::busy() const {
  MutexLock lock(&mu_);
  return busy_;
}

Status Syncer::Wait() {
  MutexLock lock(&mu_);
  CTX_CHECK(busy_);
  while (!result_.has_value()) cv_.Wait(&mu_);
  Status st = std::move(*result_);
  result_.reset();
  busy_ = false;
  return st;
}

void Syncer::ThreadMain() {
  MutexLock lock(&mu_);
  while (true) {
    while (segment_ == nullptr && !stopping_) cv_.Wait(&mu_);
    if (segment_ == nullptr) return;  // stopping, nothing begun
    std::shared_ptr<Segment> segment = std::move(segment_);
    segment_.reset();
    mu_.Unlock();
    Status st = segment->Sync();
    segment.reset();
    mu_.Lock();
    result_ = std::move(st);
    cv_.SignalAll();
  }
}

}  // namespace ctxstore::engine
