#include "common/env.h"

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

Env* Env::Default() {
  static Env* env = new RealEnv();
  return env;
}

}  // namespace ctxstore
