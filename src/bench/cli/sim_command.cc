// `ctxstore-bench sim`: the offline cache simulator (bench/cache_sim.h) on
// request traces, printed as a markdown table or as JSON.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/cache_sim.h"
#include "bench/cli/commands.h"
#include "bench/trace.h"
#include "engine/policy.h"

namespace ctxstore::bench {
namespace {

struct SimArgs {
  std::vector<std::string> traces;
  std::vector<uint64_t> capacities{1000, 3000, 6000, 12000};
  std::vector<std::string> policies = engine::EvictionPolicyNames();
  size_t max_requests = 0;
  bool json = false;
};

int RunSim(const SimArgs& a) {
  std::vector<Trace> traces;
  for (const std::string& path : a.traces) {
    Result<Trace> t = LoadTrace(path, a.max_requests);
    if (!t.ok()) {
      PrintError(t.status().message());
      return kExitError;
    }
    traces.push_back(std::move(*t));
  }
  SimConfig config{a.capacities, a.policies};
  Result<std::vector<SimResult>> results = RunSimulations(traces, config);
  if (!results.ok()) {
    PrintError(results.status().message());
    return kExitUsage;
  }
  if (a.json) {
    std::cout << ToJson(*results).dump(2) << "\n";
  } else {
    std::cout << FormatTable(*results);
  }
  return kExitOk;
}

}  // namespace

void RegisterSimCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SimArgs>();
  CLI::App* sub = app.add_subcommand(
      "sim", "Simulate the eviction policies, Belady's optimum and an unlimited cache on traces");
  sub->add_option("--trace", args->traces,
                  "JSONL request trace (Mooncake format); repeat for several")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--capacity-blocks", args->capacities,
                  "Cache capacities in 512-token blocks, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--policies", args->policies, "Engine policies, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember(engine::EvictionPolicyNames()))
      ->capture_default_str();
  sub->add_option("--max-requests", args->max_requests,
                  "Replay only the first N requests of each trace (0 = all)")
      ->capture_default_str();
  sub->add_flag("--json", args->json, "Print JSON instead of a markdown table");
  sub->footer(
      "Belady (offline optimum) and an unlimited cache are always reported. Exit: 0 ok, 2 usage, "
      "3 unreadable or malformed trace.");
  sub->callback([args, exit_code] { *exit_code = RunSim(*args); });
}

}  // namespace ctxstore::bench
