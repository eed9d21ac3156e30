// Runs a segment's fdatasync off the flusher's thread, so that the flusher
// writes the next batch while the device makes the previous one durable.
// On this VM's disk a sync of a 4 MiB record costs about as much as its
// write (docs/benchmarks.md, "Where a PUT's time goes", with what the
// overlap gained and where it did not show).
//
// At most one sync is in flight. What it covers is what was written before
// Begin: data written while it runs may or may not be covered, so the
// flusher counts none of it durable until a later sync.
//
// With a thread (Start(true)) the sync runs there. Without one it runs
// inside Begin, and Wait only hands back its result: a simulation that steps
// the flusher sees the same order of decisions (begin, write the next batch,
// learn the result) with the device calls made in one valid order.
#pragma once

#include <memory>
#include <optional>
#include <thread>

#include "common/env.h"
#include "common/mutex.h"
#include "ctxstore/status.h"
#include "engine/flash/segment.h"

namespace ctxstore::engine {

class Syncer {
 public:
  explicit Syncer(Env* env) : env_(env) {}
  ~Syncer();  // stops and joins the thread
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  void Start(bool thread) EXCLUDES(mu_);
  // Begins segment->Sync(). None may be in flight (busy() is false).
  void Begin(std::shared_ptr<Segment> segment) EXCLUDES(mu_);
  // One was begun and Wait has not returned its result yet.
  bool busy() const EXCLUDES(mu_);
  // Waits for the sync begun last and returns its result.
  Status Wait() EXCLUDES(mu_);

 private:
  void ThreadMain() EXCLUDES(mu_);

  Env* const env_;
  mutable Mutex mu_;
  CondVar cv_;                                        // a sync was begun, one finished, or stopping
  std::shared_ptr<Segment> segment_ GUARDED_BY(mu_);  // begun, not yet synced
  std::optional<Status> result_ GUARDED_BY(mu_);      // synced, not yet waited for
  bool busy_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool threaded_ = false;
  std::thread thread_;
};

}  // namespace ctxstore::engine
