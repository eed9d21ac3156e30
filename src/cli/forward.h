// Subcommands that another program implements: `ctxstore NAME ARGS...` runs
// `PROGRAM ARGS...` from the folder this binary is in (same stdin, stdout,
// stderr and exit code), or says that PROGRAM is not installed. This keeps
// optional tools (the benchmark harness, with hiredis) out of the server
// binary while `ctxstore bench ...` keeps working where they are installed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ctxstore::cli {

struct ForwardedCommand {
  std::string name;         // the subcommand of ctxstore
  std::string program;      // the executable beside ctxstore that implements it
  std::string description;  // for `ctxstore --help`
};

void RegisterForwardedCommand(CLI::App& app, const ForwardedCommand& command, int* exit_code);

}  // namespace ctxstore::cli
