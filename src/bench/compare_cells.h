// The cells of `ctxstore-bench compare` (bench/compare.h): one measurement
// of the datapath, flash or small section each, with everything it needs to
// run alone. Each starts a fresh server of the binary in
// ctx.options.ctxstore_exe with a fresh data folder, measures the load that
// `run` measures for that cell (store_cells.h) and stops the server, so
// that no cell inherits another's state or another binary's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"

namespace ctxstore::bench {

struct CompareCell {
  std::string section;       // datapath, flash, small
  std::string name;          // "put 64 KiB x1", "flash_get 4 MiB x8 (sealed)", "exists"
  std::string op;            // as in results.json: put, get, sync_put, flash_get, exists, ...
  uint64_t value_bytes = 0;  // 0 for small operations
  uint32_t connections = 1;
  uint32_t keys = 0;  // keys per request of a small operation
  bool sealed = false;
  bool ops_metric = false;  // judged on op/s (small operations), else GB/s
  std::function<Result<LoadResult>(BenchContext&)> measure;
};

// The sections compare can run, in the order they run.
const std::vector<std::string>& CompareSectionNames();

// The cells of the given sections (names from CompareSectionNames), in
// the order `run` measures them, at the sizes of ctx (ConfigureSizes).
std::vector<CompareCell> CompareCells(const BenchContext& ctx,
                                      const std::vector<std::string>& sections);

}  // namespace ctxstore::bench
