#include "cli/token_commands.h"

#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/client_common.h"

namespace ctxstore::cli {
namespace {

struct TokenArgs {
  ConnectionArgs conn;  // shared by `token` and its subcommands
  std::string role;
  std::string ns;  // of the new token (not the connection's --namespace)
  std::string label;
  std::string id;
  bool json = false;
};

std::string FormatUtc(uint64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

int RunTokenCreate(const TokenArgs& a) {
  if (a.role != "admin" && a.ns.empty()) {
    PrintError("token create --role " + a.role + " needs --namespace NS");
    return kExitUsage;
  }
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto created = client->CreateToken(a.role, a.ns, a.label);
  if (!created.ok()) return Fail(created.status(), "namespace " + a.ns);
  // The token alone on stdout, for `TOKEN=$(ctxstore token create ...)`.
  std::cout << created->token << "\n";
  std::cout.flush();
  std::cerr << "token " << created->info.id << " (" << created->info.role << " in "
            << created->info.namespace_name << ")\n";
  return std::cout ? kExitOk : kExitError;
}

int RunTokenLs(const TokenArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto list = client->ListTokens();
  if (!list.ok()) return Fail(list.status());
  if (a.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const TokenInfo& t : *list) {
      out.push_back({{"id", t.id},
                     {"role", t.role},
                     {"namespace", t.namespace_name},
                     {"label", t.label},
                     {"created_ms", t.created_ms}});
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"ID", "ROLE", "NAMESPACE", "CREATED", "LABEL"}};
    for (const TokenInfo& t : *list) {
      rows.push_back({t.id, t.role, t.namespace_name, FormatUtc(t.created_ms),
                      t.label.empty() ? "-" : t.label});
    }
    PrintTable(rows);
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitError;
}

int RunTokenRevoke(const TokenArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  if (Status st = client->RevokeToken(a.id); !st.ok()) return Fail(st, "token " + a.id);
  return kExitOk;
}

}  // namespace

void RegisterTokenCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<TokenArgs>();
  CLI::App* token = app.add_subcommand("token", "Manage access tokens (create, ls, revoke)");
  token->require_subcommand(1);
  AddConnectionOptions(token, &args->conn);
  token->footer(kExitCodesHelp);
  {
    CLI::App* sub = token->add_subcommand(
        "create", "Create a token and print it (alone) on stdout; the server keeps only its hash");
    AddConnectionOptions(sub, &args->conn);
    // --namespace here names the new token's namespace, so the connection
    // uses the default one (the admin token's).
    sub->add_option("--role", args->role, "read, write (implies read) or admin (every namespace)")
        ->required()
        ->check(CLI::IsMember({"read", "write", "admin"}));
    sub->add_option("--label", args->label, "Free text shown by `token ls` (<= 128 bytes)");
    sub->footer(std::string(kExitCodesHelp) +
                " --namespace names the namespace the new token is valid in (read and write "
                "tokens need one).");
    sub->callback([args, exit_code] {
      args->ns = args->conn.ns;
      args->conn.ns.clear();
      *exit_code = RunTokenCreate(*args);
    });
  }
  {
    CLI::App* sub = token->add_subcommand("ls", "List tokens: id, role, namespace, created, label");
    AddConnectionOptions(sub, &args->conn);
    sub->add_flag("--json", args->json, "Print a JSON array instead of a table");
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunTokenLs(*args); });
  }
  {
    CLI::App* sub = token->add_subcommand(
        "revoke", "Revoke token ID: connections using it fail at their next request");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("ID", args->id, "Token id (16 hex digits, from `token ls`)")->required();
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunTokenRevoke(*args); });
  }
}

}  // namespace ctxstore::cli
