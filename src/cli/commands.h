// CLI subcommands. Each Register* adds its subcommands to the app; when one
// runs, it stores the process exit code in *exit_code:
//   0 success (for `exists`: present), 1 not found, 2 usage error, 3 any other
//   error, 4 authentication or authorization failure.
#pragma once

#include <CLI/CLI.hpp>

namespace ctxstore::engine {
class Device;
}  // namespace ctxstore::engine

namespace ctxstore::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitError = 3;
inline constexpr int kExitUnauthorized = 4;

inline constexpr const char* kDefaultServer = "127.0.0.1:7070";
// Where `serve` keeps its data by default (the quick start's folder), and
// so where client commands look for admin.token.
inline constexpr const char* kDefaultDataDir = "data";

// device: what the engine does its file I/O through; nullptr (the product)
// is the POSIX device. Only a test build of the server passes another (the
// power-cut device of tests/durability), which must outlive the command.
void RegisterServeCommand(CLI::App& app, int* exit_code, engine::Device* device = nullptr);
// keygen (cli/keygen.cc).
void RegisterKeygenCommand(CLI::App& app, int* exit_code);
void RegisterClientCommands(CLI::App& app, int* exit_code);

}  // namespace ctxstore::cli
