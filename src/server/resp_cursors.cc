#include "server/resp_cursors.h"

#include <utility>

namespace ctxstore::server {

ScanCursors::ScanCursors(uint64_t first_id) : next_id_(first_id) {}

uint64_t ScanCursors::Save(uint32_t ns, std::string after_key) {
  MutexLock lock(&mu_);
  // Cursors are replies' integers: kept positive as a signed 64-bit value.
  uint64_t id = next_id_++ & ((uint64_t{1} << 62) - 1);
  if (id == 0) id = next_id_++;
  if (order_.size() >= kMaxCursors) {
    cursors_.erase(order_.front());
    order_.pop_front();
  }
  cursors_[id] = Position{ns, std::move(after_key)};
  order_.push_back(id);
  return id;
}

std::optional<std::string> ScanCursors::Find(uint32_t ns, uint64_t cursor) const {
  MutexLock lock(&mu_);
  auto it = cursors_.find(cursor);
  if (it == cursors_.end() || it->second.ns != ns) return std::nullopt;
  return it->second.after_key;
}

}  // namespace ctxstore::server
