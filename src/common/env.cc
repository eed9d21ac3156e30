#include "common/env.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>

#include "common/check.h"
#include "common/clock.h"
#include "common/thread_name.h"

namespace ctxstore {
namespace {

class RealEnv : public Env {
 public:
  uint64_t MonotonicMs() override { return ctxstore::MonotonicMs(); }
  uint64_t WallClockMs() override { return ctxstore::WallClockMs(); }
};

}  // namespace

std::thread Env::StartThread(std::string name, std::function<void()> fn) {
  return std::thread([name = std::move(name), fn = std::move(fn)] {
    SetThreadName(name);
    fn();
  });
}

void Env::SleepForMs(uint64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void Env::FillRandom(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    // Only a kernel older than 3.17 lacks it; nothing here can do without it.
    CTX_CHECK(n >= 0 && "getrandom failed");
    done += static_cast<size_t>(n);
  }
}

uint64_t Env::RandomU64() {
  uint64_t v = 0;
  FillRandom({reinterpret_cast<uint8_t*>(&v), sizeof(v)});
  return v;
}

Env* Env::Default() {
  static Env* env = new RealEnv();
  return env;
}

}  // namespace ctxstore
