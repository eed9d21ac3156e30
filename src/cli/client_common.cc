// Helpers shared by the client subcommands.
#include "cli/client_common.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>

#include "common/units.h"

namespace ctxstore::cli {

void PrintError(const std::string& message) {
  std::cerr << "ctxstore: " << message << "\n";
}

int Fail(const Status& st, std::string_view key) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      PrintError("not found: " + std::string(key));
      return kExitNotFound;
    case StatusCode::kExists:
      PrintError("exists: " + std::string(key));
      return kExitError;
    case StatusCode::kUnauthorized:
      PrintError(st.ToString());
      return kExitUnauthorized;
    default:
      PrintError(st.ToString());
      return kExitError;
  }
}

int ConnectTo(const ConnectionArgs& conn, std::unique_ptr<Client>* client) {
  ClientOptions options;
  if (Status st = ParseServerAddress(conn.server, &options); !st.ok()) {
    PrintError("invalid --server: " + st.message());
    return kExitUsage;
  }
  options.client_name = "ctxstore-cli";
  options.max_idle_connections = 1;
  options.namespace_name = conn.ns;
  options.token = ResolveToken(conn);
  options.tls_ca_file = conn.tls_ca;
  options.tls_cert_file = conn.tls_cert;
  options.tls_key_file = conn.tls_key;
  auto connected = Client::Connect(options);
  if (!connected.ok()) {
    // An unknown namespace is a "not found" like a key in it would be.
    if (connected.status().code() == StatusCode::kNotFound) {
      PrintError(connected.status().message());
      return kExitNotFound;
    }
    return Fail(connected.status());
  }
  *client = std::move(*connected);
  return kExitOk;
}

std::string ResolveToken(const ConnectionArgs& conn) {
  if (!conn.token.empty()) return conn.token;
  if (const char* env = std::getenv("CTXSTORE_TOKEN"); env != nullptr && *env != '\0') return env;
  // The default folder's admin token goes only to a server on this
  // machine: pointed elsewhere, a command would hand it to another host.
  std::string dir = conn.data_dir;
  if (dir.empty()) {
    ClientOptions addr;
    const bool parsed = ParseServerAddress(conn.server, &addr).ok();
    const bool local = parsed && (!addr.unix_path.empty() || addr.host == "localhost" ||
                                  addr.host == "::1" || addr.host.starts_with("127."));
    if (!local) return {};
    dir = kDefaultDataDir;
  }
  std::ifstream file(dir + "/admin.token");
  std::string line;
  if (file && std::getline(file, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    return line;
  }
  return {};
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size() && c < widths.size()) line.append(widths[c] - row[c].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

bool ParseDurationArg(const std::string& option, const std::string& text, uint64_t* ms) {
  if (text.empty()) return true;
  auto parsed = ParseDurationMs(text);
  if (!parsed.ok()) {
    PrintError(option + ": " + parsed.status().message());
    return false;
  }
  *ms = *parsed;
  return true;
}

bool OneTarget(const std::string& command, const std::string& key, const std::string& group) {
  if (key.empty() == group.empty()) {
    PrintError(command + " needs KEY or --group GROUP (exactly one); see ctxstore " + command +
               " --help");
    return false;
  }
  return true;
}

void AddConnectionOptions(CLI::App* sub, ConnectionArgs* conn) {
  sub->add_option("--server", conn->server, "Server address: HOST:PORT, ctxstore://HOST:PORT, "
                  "ctxstores://HOST:PORT (TLS, the system's CAs unless --tls-ca) or unix:///PATH")->capture_default_str();
  sub->add_option("--namespace", conn->ns,
                  "Namespace the command works in (default: the token's; \"default\" for an "
                  "admin token)");
  sub->add_option("--token", conn->token,
                  "Access token (default: $CTXSTORE_TOKEN, else DATA_DIR/admin.token)");
  sub->add_option("--data-dir", conn->data_dir,
                  "The server's data folder, where admin.token is read when no token is given "
                  "(default: data, for a --server on this machine only)");
  sub->add_option("--tls-ca", conn->tls_ca,
                  "PEM CA that signed the server's certificate: connect over TLS");
  sub->add_option("--tls-cert", conn->tls_cert,
                  "PEM client certificate, for servers that require one (with --tls-key)");
  sub->add_option("--tls-key", conn->tls_key, "PEM private key of --tls-cert");
}

}  // namespace ctxstore::cli
