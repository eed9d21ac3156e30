#include "bench/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ctxstore::bench {

Progress::Progress(bool enabled) : enabled_(enabled) {}

void Progress::Section(std::string_view name, uint32_t steps) {
  std::lock_guard<std::mutex> lock(mu_);
  section_ = name;
  steps_ = steps;
  step_ = 0;
  Print("== " + section_);
}

void Progress::Step(std::string_view what) {
  std::lock_guard<std::mutex> lock(mu_);
  ++step_;
  std::string pos =
      steps_ > 0 ? std::to_string(step_) + "/" + std::to_string(steps_) : std::to_string(step_);
  Print("[" + section_ + " " + pos + "] " + std::string(what));
}

void Progress::Result(std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  Print("    " + std::string(line));
}

void Progress::Warn(std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  Print("    warning: " + std::string(line));
}

void Progress::Print(const std::string& line) {
  if (!enabled_) return;
  double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%7.1fs %s\n", elapsed_s, line.c_str());
  std::fflush(stderr);
}

}  // namespace ctxstore::bench
