#pragma once

#include <CLI/CLI.hpp>

namespace ctxstore::cli {

// Adds `run` (the benchmark harness) under the `bench` command.
void RegisterBenchRun(CLI::App* bench, int* exit_code);

}  // namespace ctxstore::cli
