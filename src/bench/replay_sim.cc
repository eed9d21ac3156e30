#include "bench/replay_sim.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bench/cache_sim.h"
#include "bench/trace.h"

namespace ctxstore::bench {

nlohmann::json SimulateWholeTrace(const std::string& path, const std::vector<uint64_t>& capacities,
                                  const std::vector<std::string>& policies) {
  Result<Trace> trace = LoadTrace(path);
  if (!trace.ok()) return {{"trace", path}, {"error", trace.status().ToString()}};
  auto results = RunSimulations(std::span(&*trace, 1), {capacities, policies});
  if (!results.ok()) return {{"trace", trace->name}, {"error", results.status().ToString()}};
  nlohmann::json out = ToJson(*results);
  out["trace"] = trace->name;
  out["requests"] = trace->requests.size();
  return out;
}

}  // namespace ctxstore::bench
