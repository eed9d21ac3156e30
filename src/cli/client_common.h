// Helpers shared by the client subcommands (commands.cc and
// context_commands.cc): connecting, error reporting and common options.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "ctxstore/client.h"

namespace ctxstore::cli {

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 success, 1 not found, 2 usage error, 3 any other error "
    "(server unreachable, server error).";

void PrintError(const std::string& message);

// Exit code and message for a failed call on key (empty for key-less calls).
int Fail(const Status& st, std::string_view key = {});

// --server and --namespace: where every client command connects.
struct ConnectionArgs {
  std::string server = kDefaultServer;
  std::string ns = "default";
};

// Connects, or returns the exit code to use.
int ConnectTo(const ConnectionArgs& conn, std::unique_ptr<Client>* client);

// Parses an optional duration option (empty: not given); false after
// printing the usage error.
bool ParseDurationArg(const std::string& option, const std::string& text, uint64_t* ms);

// exists, rm and stat.
struct KeyArgs {
  ConnectionArgs conn;
  bool sync = false;
  std::string key;
  std::string group;  // rm --group
};

// KEY or --group G, exactly one; false after printing the usage error.
bool OneTarget(const std::string& command, const std::string& key, const std::string& group);

// Every client command takes these. Subcommands of `ns` share one
// ConnectionArgs with `ns` itself, so the options work on either level.
void AddConnectionOptions(CLI::App* sub, ConnectionArgs* conn);

}  // namespace ctxstore::cli
