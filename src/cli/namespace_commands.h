// `ctxstore ns` and its subcommands (create, set, ls, rm). See
// cli/commands.h for the exit codes.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/client_common.h"

namespace ctxstore::cli {

// Adds ns and its subcommands.
void RegisterNamespaceCommands(CLI::App& app, int* exit_code);

}  // namespace ctxstore::cli
