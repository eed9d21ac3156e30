// The value bytes that PUTs still being received may hold in DRAM at once,
// all sessions together. A PUT reserves its arena block for the length in
// its header before its value arrives, so slow senders could otherwise tie
// up the whole DRAM tier; a PUT past the budget answers BUSY (its value is
// read and dropped). A value larger than the whole budget still goes
// through when nothing else is in flight.
#pragma once

#include <atomic>
#include <cstdint>

#include "ctxstore/status.h"

namespace ctxstore::service {

// One PUT's share of the budget, given back when it goes (after the
// value's commit, or after a refused value has been skipped).
class InflightHold {
 public:
  InflightHold() = default;
  InflightHold(std::atomic<uint64_t>* counter, uint64_t bytes) : counter_(counter), bytes_(bytes) {}
  InflightHold(InflightHold&& o) noexcept : counter_(o.counter_), bytes_(o.bytes_) {
    o.counter_ = nullptr;
  }
  InflightHold& operator=(InflightHold&& o) noexcept {
    if (this != &o) {
      Release();
      counter_ = o.counter_;
      bytes_ = o.bytes_;
      o.counter_ = nullptr;
    }
    return *this;
  }
  InflightHold(const InflightHold&) = delete;
  InflightHold& operator=(const InflightHold&) = delete;
  ~InflightHold() { Release(); }

 private:
  void Release() {
    if (counter_ != nullptr) counter_->fetch_sub(bytes_);
    counter_ = nullptr;
  }
  std::atomic<uint64_t>* counter_ = nullptr;
  uint64_t bytes_ = 0;
};

class InflightBudget {
 public:
  // bytes: the bytes in flight now (shown by STATS); refused: PUTs refused.
  InflightBudget(std::atomic<uint64_t>* bytes, std::atomic<uint64_t>* refused, uint64_t max_bytes)
      : bytes_(bytes), refused_(refused), max_bytes_(max_bytes) {}

  // kBusy when the value does not fit now.
  Result<InflightHold> Reserve(uint64_t value_len);
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  std::atomic<uint64_t>* bytes_;
  std::atomic<uint64_t>* refused_;
  uint64_t max_bytes_;
};

}  // namespace ctxstore::service
