// `ctxstore token create|ls|revoke`: access token admin (an admin token
// only). See cli/commands.h for the exit codes.
#pragma once

#include <CLI/CLI.hpp>

namespace ctxstore::cli {

void RegisterTokenCommands(CLI::App& app, int* exit_code);

}  // namespace ctxstore::cli
