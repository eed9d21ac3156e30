#include "engine/context/policy.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/hash.h"
#include "engine/context/policy_internal.h"

namespace ctxstore::engine {

uint32_t PolicyKeyHash(std::string_view key) {
  return static_cast<uint32_t>(Xxh3(key.data(), key.size()));
}
namespace policy_internal {

void NodeList::Link(PolicyNode* n) {
  n->queue = queue_;
  size_++;
  bytes_ += n->bytes;
}

void NodeList::PushHead(PolicyNode* n) {
  n->prev = nullptr;
  n->next = head_;
  if (head_ != nullptr) {
    head_->prev = n;
  } else {
    tail_ = n;
  }
  head_ = n;
  Link(n);
}

void NodeList::PushTail(PolicyNode* n) {
  n->next = nullptr;
  n->prev = tail_;
  if (tail_ != nullptr) {
    tail_->next = n;
  } else {
    head_ = n;
  }
  tail_ = n;
  Link(n);
}

void NodeList::Unlink(PolicyNode* n) {
  if (n->prev != nullptr) {
    n->prev->next = n->next;
  } else {
    head_ = n->next;
  }
  if (n->next != nullptr) {
    n->next->prev = n->prev;
  } else {
    tail_ = n->prev;
  }
  n->prev = nullptr;
  n->next = nullptr;
  n->queue = kUnlinked;
  size_--;
  bytes_ -= n->bytes;
}

PolicyNode* FirstEvictable(const NodeList& list, const Evictable& evictable) {
  for (PolicyNode* n = list.tail(); n != nullptr; n = n->prev) {
    if (evictable(n)) return n;
  }
  return nullptr;
}

void GhostList::Add(uint64_t key_hash, uint64_t capacity) {
  capacity = std::max(capacity, kMinCapacity);
  uint64_t seq = next_seq_++;
  latest_[key_hash] = seq;
  fifo_.push_back({key_hash, seq});
  // Usually pops one entry; after the capacity shrinks (the namespace
  // emptied) it pops more, but each entry is popped once, so O(1) amortized.
  while (fifo_.size() > capacity) {
    const Entry& oldest = fifo_.front();
    auto it = latest_.find(oldest.key_hash);
    if (it != latest_.end() && it->second == oldest.seq) latest_.erase(it);
    fifo_.pop_front();
  }
}

}  // namespace policy_internal

std::unique_ptr<EvictionPolicy> NewEvictionPolicy(std::string_view name) {
  if (name == "lru") return policy_internal::NewLruPolicy();
  if (name == "s3fifo") return policy_internal::NewS3FifoPolicy();
  if (name == "lru-ghost") return policy_internal::NewLruGhostPolicy();
  if (name == "lru-doorkeeper") return policy_internal::NewLruDoorkeeperPolicy();
  return nullptr;
}

std::vector<std::string> EvictionPolicyNames() {
  std::vector<std::string> out;
  std::string_view all = kPolicyNames;
  while (!all.empty()) {
    size_t comma = all.find(',');
    std::string_view name = all.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty() && NewEvictionPolicy(name) != nullptr) out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    all.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace ctxstore::engine
