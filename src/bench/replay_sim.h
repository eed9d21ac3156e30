// The offline simulation of whole traces that stands beside the trace
// replay section's online replay of a prefix (bench/replay.cc).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ctxstore::bench {

// The offline simulation (bench/cache_sim.h) of the whole trace at `path`:
// every policy and Belady at every capacity, then the unlimited cache, as
// {"trace", "requests", "results": [...]} (cache_sim's ToJson rows), or
// {"trace", "error"}.
nlohmann::json SimulateWholeTrace(const std::string& path, const std::vector<uint64_t>& capacities,
                                  const std::vector<std::string>& policies);

}  // namespace ctxstore::bench
