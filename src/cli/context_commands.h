// Context subcommands: ls, stat, pin, unpin and rm --group. See
// cli/commands.h for the exit codes.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/client_common.h"

namespace ctxstore::cli {

// Adds ls, stat, pin and unpin.
void RegisterContextCommands(CLI::App& app, int* exit_code);

// rm --group GROUP: deletes the group's objects and prints how many.
int RunRmGroup(const KeyArgs& a);

}  // namespace ctxstore::cli
