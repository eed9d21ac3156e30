// Helpers shared by the client subcommands (commands.cc and
// context_commands.cc): connecting, error reporting and common options.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "ctxstore/client.h"

namespace ctxstore::cli {

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 success, 1 not found, 2 usage error, 3 any other error "
    "(server unreachable, server error), 4 authentication or authorization failure.";

void PrintError(const std::string& message);

// Exit code and message for a failed call on key (empty for key-less calls).
int Fail(const Status& st, std::string_view key = {});

// --server, --namespace, --token and --data-dir: where every client
// command connects, and as whom.
struct ConnectionArgs {
  std::string server = kDefaultServer;
  std::string ns;  // empty: the token's namespace ("default" for admin tokens)
  std::string token;
  std::string data_dir;  // empty: kDefaultDataDir, for a loopback server only
  std::string tls_ca;    // non-empty: TLS
  std::string tls_cert;
  std::string tls_key;
};

// The token to use: --token, else $CTXSTORE_TOKEN, else the first line of
// DATA_DIR/admin.token when it can be read (without --data-dir, only for a
// server on a loopback address), else none.
std::string ResolveToken(const ConnectionArgs& conn);

// Prints rows as columns separated by two spaces (the first row a header).
void PrintTable(const std::vector<std::vector<std::string>>& rows);

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
