// `ctxstore ns create|set|ls|rm`. The settings' options, their parsing and
// the columns of `ns ls` come from VisitNamespaceFields
// (include/ctxstore/namespace.h): a new namespace setting needs no change
// here.
#include "cli/namespace_commands.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/namespace_json.h"
#include "common/units.h"
#include "ctxstore/client.h"

namespace ctxstore::cli {
namespace {

struct NsArgs {
  ConnectionArgs conn;  // shared by `ns` and its subcommands
  std::string name;
  // The text of each setting's option, by setting name; absent when the
  // option was not given ("" is a value: `--encryption-key ""`).
  std::map<std::string, std::optional<std::string>, std::less<>> settings;
  bool json = false;
};

// The largest unit that divides the duration exactly ("90s", "5m", "2h");
// "-" for 0, which means "none" for every duration shown.
std::string FormatDurationMs(uint64_t ms) {
  if (ms == 0) return "-";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<uint64_t> ParseCount(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

std::optional<bool> ParseBool(std::string_view text) {
  for (std::string_view yes : {"true", "1", "yes", "on"}) {
    if (text == yes) return true;
  }
  for (std::string_view no : {"false", "0", "no", "off"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

// One option's text as the setting's value; false after printing the
// usage error.
template <typename T>
bool ParseSetting(const NamespaceField& field, const std::string& text, std::optional<T>* out) {
  using K = NamespaceFieldKind;
  const std::string option = "--" + std::string(field.flag);
  if constexpr (std::is_same_v<T, std::string>) {
    *out = text;
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    *out = ParseBool(text);
  } else if (field.kind == K::kBytes) {
    auto bytes = ParseSize(text);
    if (!bytes.ok()) {
      PrintError(option + ": " + bytes.status().message());
      return false;
    }
    *out = *bytes;
    return true;
  } else if (field.kind == K::kDurationMs) {
    uint64_t ms = 0;
    if (!ParseDurationArg(option, text, &ms)) return false;
    *out = ms;
    return true;
  } else if (auto n = ParseCount(text); n && (field.kind != K::kPriority || *n < kPriorityLevels)) {
    *out = static_cast<T>(*n);
  }
  if (!out->has_value()) {
    PrintError(option + ": '" + text + "' is not " +
               (field.kind == K::kBool       ? std::string("true or false")
                : field.kind == K::kPriority ? "0.." + std::to_string(kPriorityLevels - 1)
                                             : std::string("a non-negative integer")));
  }
  return out->has_value();
}

// The options given, as a spec; false after printing the usage error.
bool ParseNamespaceSpec(const NsArgs& a, NamespaceSpec* spec) {
  bool ok = true;
  VisitNamespaceFields([&](const NamespaceField& field, auto /*config*/, auto spec_member) {
    auto it = a.settings.find(field.name);
    if (!ok || it == a.settings.end() || !it->second) return;
    ok = ParseSetting(field, *it->second, &(spec->*spec_member));
  });
  return ok;
}

// How `ns ls` shows a setting.
template <typename T>
std::string SettingText(const NamespaceField& field, const T& value) {
  using K = NamespaceFieldKind;
  if constexpr (std::is_same_v<T, std::string>) {
    return value.empty() ? "-" : value;
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if (field.kind == K::kBytes) {
    return value == 0 ? "-" : FormatSize(value);
  } else if (field.kind == K::kDurationMs) {
    return FormatDurationMs(value);
  } else {
    return std::to_string(value);
  }
}

int RunNsCreate(const NsArgs& a) {
  NamespaceSpec spec;
  if (!ParseNamespaceSpec(a, &spec)) return kExitUsage;
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  if (Status st = client->CreateNamespace(a.name, spec); !st.ok()) {
    return Fail(st, "namespace " + a.name);
  }
  return kExitOk;
}

int RunNsSet(const NsArgs& a) {
  NamespaceSpec spec;
  if (!ParseNamespaceSpec(a, &spec)) return kExitUsage;
  nlohmann::json given = nlohmann::json::object();
  AddNamespaceSpecJson(spec, &given);
  if (given.empty()) {
    std::string options;
    VisitNamespaceFields([&](const NamespaceField& field, auto, auto) {
      options += (options.empty() ? "--" : ", --") + std::string(field.flag);
    });
    PrintError("ns set needs at least one of " + options);
    return kExitUsage;
  }
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  if (Status st = client->SetNamespace(a.name, spec); !st.ok()) {
    return Fail(st, "namespace " + a.name);
  }
  return kExitOk;
}

void PrintNamespaceTable(const std::vector<NamespaceInfo>& list) {
  std::vector<std::string> header = {"NAME", "ID"};
  VisitNamespaceFields([&](const NamespaceField& field, auto, auto) {
    if (!field.column.empty()) header.emplace_back(field.column);
  });
  header.insert(header.end(), {"OBJECTS", "BYTES", "EVICTIONS"});
  std::vector<std::vector<std::string>> rows = {header};
  for (const NamespaceInfo& ns : list) {
    std::vector<std::string> row = {ns.name, std::to_string(ns.id)};
    VisitNamespaceFields([&](const NamespaceField& field, auto config_member, auto) {
      if (!field.column.empty()) row.push_back(SettingText(field, ns.config.*config_member));
    });
    row.insert(row.end(),
               {std::to_string(ns.objects), FormatSize(ns.bytes), std::to_string(ns.evictions)});
    rows.push_back(std::move(row));
  }
  PrintTable(rows);
}

int RunNsLs(const NsArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto list = client->ListNamespaces();
  if (!list.ok()) return Fail(list.status());
  if (a.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const NamespaceInfo& ns : *list) {
      out.push_back(NamespaceInfoJson<nlohmann::ordered_json>(ns));
    }
    std::cout << out.dump() << "\n";
  } else {
    PrintNamespaceTable(*list);
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitError;
}

int RunNsRm(const NsArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  if (Status st = client->DeleteNamespace(a.name); !st.ok()) {
    return Fail(st, "namespace " + a.name);
  }
  return kExitOk;
}

void AddSettingOptions(CLI::App* sub, NsArgs* args) {
  VisitNamespaceFields([&](const NamespaceField& field, auto, auto) {
    std::optional<std::string>& text = args->settings[std::string(field.name)];
    sub->add_option("--" + std::string(field.flag), text, std::string(field.help));
  });
}

}  // namespace

void RegisterNamespaceCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<NsArgs>();
  CLI::App* ns = app.add_subcommand("ns", "Manage namespaces (create, set, ls, rm)");
  ns->require_subcommand(1);
  AddConnectionOptions(ns, &args->conn);
  ns->footer(kExitCodesHelp);
  {
    CLI::App* sub = ns->add_subcommand("create", "Create namespace NAME");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("NAME", args->name, "1 to 64 bytes of [A-Za-z0-9._-]")->required();
    AddSettingOptions(sub, args.get());
    sub->footer(std::string(kExitCodesHelp) +
                " Unset options take the server's defaults (no quota, no TTL, priority 4, no "
                "encryption).");
    sub->callback([args, exit_code] { *exit_code = RunNsCreate(*args); });
  }
  {
    CLI::App* sub = ns->add_subcommand("set", "Change namespace NAME's settings");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("NAME", args->name, "Namespace")->required();
    AddSettingOptions(sub, args.get());
    sub->footer(std::string(kExitCodesHelp) + " Options not given stay as they are.");
    sub->callback([args, exit_code] { *exit_code = RunNsSet(*args); });
  }
  {
    CLI::App* sub = ns->add_subcommand("ls", "List namespaces with their settings and usage");
    AddConnectionOptions(sub, &args->conn);
    sub->add_flag("--json", args->json, "Print a JSON array instead of a table");
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunNsLs(*args); });
  }
  {
    CLI::App* sub = ns->add_subcommand("rm", "Delete namespace NAME with its objects and pins");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("NAME", args->name, "Namespace")->required();
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunNsRm(*args); });
  }
}

}  // namespace ctxstore::cli
