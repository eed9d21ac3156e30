// What a simulated run did, as a digest and (for one seed rerun on its own)
// as a readable trace: every client operation and its result, every
// durability callback, where the power went, what recovery brought back.
// Two runs of one seed must end with the same digest.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/hash.h"

namespace ctxstore::engine::crash_sim {

class RunLog {
 public:
  explicit RunLog(bool verbose) : verbose_(verbose) {}

  // Adds an event to the digest and, when verbose, prints it.
  template <typename... Args>
  void Event(fmt::format_string<Args...> format, Args&&... args) {
    const std::string line = fmt::format(format, std::forward<Args>(args)...);
    digest_ = Xxh3(line.data(), line.size(), digest_);
    if (verbose_) std::printf("  %s\n", line.c_str());
  }
  // Adds a number that is not worth a line (a device digest, a value hash).
  void Mix(uint64_t v) { digest_ = Xxh3(&v, sizeof(v), digest_); }

  uint64_t digest() const { return digest_; }
  bool verbose() const { return verbose_; }

 private:
  const bool verbose_;
  uint64_t digest_ = 0;
};

}  // namespace ctxstore::engine::crash_sim
