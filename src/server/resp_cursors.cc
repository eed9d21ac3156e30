#include "server/resp_cursors.h"

#include <utility>

namespace ctxstore::server {

ScanCursors::ScanCursors(uint64_t first_id) : next_id_(first_id) {}

uint64_t ScanCursors::Save(uint32_t ns, std::string after_key) {
  MutexLock lock(&mu_);
  // Cursors are replies' integers: kept positive as a signed 64-bit value.
  uint64_t id = 0;
  while (id == 0 || cursors_.count(id) != 0) id = next_id_++ & ((uint64_t{1} << 62) - 1);
  std::list<uint64_t>& order = order_[ns];
  if (order.size() >= kMaxPerNamespace) {
    cursors_.erase(order.front());
    order.pop_front();
  }
  order.push_back(id);
  cursors_[id] = Position{ns, std::move(after_key), std::prev(order.end())};
  return id;
}

std::optional<std::string> ScanCursors::Find(uint32_t ns, uint64_t cursor) {
  MutexLock lock(&mu_);
  auto it = cursors_.find(cursor);
  if (it == cursors_.end() || it->second.ns != ns) return std::nullopt;
  std::list<uint64_t>& order = order_[ns];
  order.splice(order.end(), order, it->second.in_order);  // most recently used
  return it->second.after_key;
}

}  // namespace ctxstore::server
