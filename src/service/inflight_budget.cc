#include "service/inflight_budget.h"

#include <string>

namespace ctxstore::service {

Result<InflightHold> InflightBudget::Reserve(uint64_t value_len) {
  uint64_t before = bytes_->load();
  bool refused = false;
  do {
    refused = before > 0 && before + value_len > max_bytes_;
  } while (!refused && !bytes_->compare_exchange_weak(before, before + value_len));
  if (refused) {
    (*refused_)++;
    return Status::Busy("too many value bytes in flight on the server (" +
                        std::to_string(max_bytes_) + "-byte budget); retry");
  }
  return InflightHold(bytes_, value_len);
}

}  // namespace ctxstore::service
