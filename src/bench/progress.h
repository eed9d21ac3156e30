// Progress display of the benchmark harness on stderr: one line per step,
// with the section, the step's position and the elapsed time, so that a long
// run shows where it is.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

namespace ctxstore::bench {

class Progress {
 public:
  explicit Progress(bool enabled = true);
  // A new section with `steps` steps (0 when unknown).
  void Section(std::string_view name, uint32_t steps);
  // The next step of the current section is starting.
  void Step(std::string_view what);
  // A result line under the current step (printed indented).
  void Result(std::string_view line);
  // A warning (a skipped measurement, a missing tool).
  void Warn(std::string_view line);

 private:
  void Print(const std::string& line);
  bool enabled_;
  std::mutex mu_;
  std::string section_;
  uint32_t steps_ = 0;
  uint32_t step_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ctxstore::bench
