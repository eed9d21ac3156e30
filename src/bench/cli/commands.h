// The subcommands of `ctxstore-bench` (main.cc). Each Register* adds one
// subcommand; when it runs, it stores the process exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

namespace ctxstore::bench {

// Exit codes, the same as the ctxstore CLI's (src/cli/commands.h).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitError = 3;

// `run`: the benchmark harness (run_command.cc).
void RegisterRunCommand(CLI::App& app, int* exit_code);
// `sim`: the offline cache simulator (sim_command.cc).
void RegisterSimCommand(CLI::App& app, int* exit_code);
// `compare`: two server binaries side by side (compare_command.cc).
void RegisterCompareCommand(CLI::App& app, int* exit_code);

// This process's arguments as typed, for the reports (run_command.cc).
std::string CommandLine();

// "ctxstore-bench: MESSAGE" on stderr.
inline void PrintError(const std::string& message) {
  std::cerr << "ctxstore-bench: " << message << "\n";
}

}  // namespace ctxstore::bench
