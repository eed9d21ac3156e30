// Context subcommands: ls, stat, pin, unpin, rm --group and ns. Each
// connects with ctxstore::Client (in the namespace given by --namespace),
// runs one call and maps the result to an exit code (cli/commands.h) with a
// one-line message on stderr when it fails.
#include "cli/context_commands.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"
#include "ctxstore/client.h"

namespace ctxstore::cli {
namespace {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

// Keys and groups are arbitrary bytes; `ls` prints one object per line with
// tab-separated fields, so control bytes (and bytes that are not UTF-8) are
// escaped C-style and a backslash is doubled.
std::string EscapeForLine(std::string_view s) {
  const bool utf8 = IsValidUtf8(s);
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (b < 0x20 || b == 0x7f || (b >= 0x80 && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", b);
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// Wall-clock milliseconds as ISO 8601 UTC ("2025-01-02T03:04:05.678Z").
std::string FormatTimeMs(uint64_t ms) {
  const auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (::gmtime_r(&secs, &tm) == nullptr) return std::to_string(ms);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s.%03uZ", date, static_cast<unsigned>(ms % 1000));
  return buf;
}

void PrintCount(uint64_t n) {
  std::cout << n << "\n";
  std::cout.flush();
}

// --- ls ----------------------------------------------------------------------

struct LsArgs {
  ConnectionArgs conn;
  std::string prefix;
  std::string group;
  uint64_t limit = 0;  // 0: everything
};

constexpr uint32_t kListPageLimit = 1000;  // the protocol's largest page

std::string Tier(const ObjectInfo& o) {
  if (o.in_dram && o.on_flash) return "dram+flash";
  if (o.in_dram) return "dram";
  if (o.on_flash) return "flash";
  return "-";
}

int RunLs(const LsArgs& a, bool limit_given) {
  if (limit_given && a.limit == 0) {
    PrintError("--limit must be at least 1");
    return kExitUsage;
  }
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  ListOptions opts;
  opts.prefix = a.prefix;
  opts.group = a.group;
  uint64_t printed = 0;
  for (;;) {
    uint64_t want = limit_given ? a.limit - printed : kListPageLimit;
    opts.limit = static_cast<uint32_t>(std::min<uint64_t>(want, kListPageLimit));
    auto page = client->List(opts);
    if (!page.ok()) return Fail(page.status());
    for (const ObjectInfo& o : page->items) {
      std::cout << EscapeForLine(o.key) << '\t' << o.value_len << '\t' << Tier(o) << '\t'
                << (o.expires_ms == 0 ? std::string("-") : FormatTimeMs(o.expires_ms)) << '\t'
                << (o.group.empty() ? std::string("-") : EscapeForLine(o.group)) << '\n';
      ++printed;
    }
    if (page->next_cursor.empty() || (limit_given && printed >= a.limit)) break;
    opts.cursor = std::move(page->next_cursor);
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitError;
}

// --- stat --------------------------------------------------------------------

// Strings as JSON can carry only UTF-8; anything else is replaced (keys,
// groups and writers are meant to be text; the metadata blob is not, so it
// gets a hex form instead).
int RunStat(const KeyArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto info = client->Stat(a.key);
  if (!info.ok()) return Fail(info.status(), a.key);
  const ObjectInfo& o = *info;
  nlohmann::ordered_json j;
  j["key"] = o.key;
  j["namespace_id"] = o.namespace_id;
  j["size"] = o.value_len;
  // Hex: a u64 does not survive JSON readers that use doubles (jq, JavaScript).
  char xxh3[24];
  std::snprintf(xxh3, sizeof(xxh3), "%016llx", static_cast<unsigned long long>(o.value_xxh3));
  j["xxh3"] = xxh3;
  j["created_ms"] = o.created_ms;
  j["expires_ms"] = o.expires_ms;
  j["in_dram"] = o.in_dram;
  j["on_flash"] = o.on_flash;
  j["durable"] = o.durable;
  j["sealed"] = o.sealed;
  j["pinned"] = o.pinned;
  j["pin_dram"] = o.pin_dram;
  j["pin_expires_ms"] = o.pin_expires_ms;
  j["leases"] = o.leases;
  j["lease_expires_ms"] = o.lease_expires_ms;
  j["orphan"] = o.orphan;
  j["group"] = o.group;
  j["parent"] = o.parent;
  j["writer"] = o.writer;
  if (IsValidUtf8(o.meta)) {
    j["meta"] = o.meta;
  } else {
    j["meta_hex"] = Hex(o.meta);
  }
  std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  std::cout.flush();
  return std::cout ? kExitOk : kExitError;
}

// --- pin, unpin --------------------------------------------------------------

struct PinArgs {
  ConnectionArgs conn;
  std::string key;
  std::string group;
  std::string ttl;
  bool dram = false;
};

int RunPin(const PinArgs& a) {
  if (!OneTarget("pin", a.key, a.group)) return kExitUsage;
  PinOptions opts;
  if (!ParseDurationArg("--ttl", a.ttl, &opts.ttl_ms)) return kExitUsage;
  opts.by_group = !a.group.empty();
  opts.dram = a.dram;
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  const std::string& name = opts.by_group ? a.group : a.key;
  auto n = client->Pin(name, opts);
  if (!n.ok()) return Fail(n.status(), opts.by_group ? "group " + name : name);
  // Like rm: a group operation reports how many objects it touched.
  if (opts.by_group) PrintCount(*n);
  return kExitOk;
}

int RunUnpin(const PinArgs& a) {
  if (!OneTarget("unpin", a.key, a.group)) return kExitUsage;
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  const bool by_group = !a.group.empty();
  if (Status st = client->Unpin(by_group ? a.group : a.key, by_group); !st.ok()) {
    return Fail(st, by_group ? "pin on group " + a.group : "pin on " + a.key);
  }
  return kExitOk;
}

}  // namespace

int RunRmGroup(const KeyArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto n = client->DeleteGroup(a.group);
  if (!n.ok()) return Fail(n.status(), "group " + a.group);
  PrintCount(*n);
  return kExitOk;
}

void RegisterContextCommands(CLI::App& app, int* exit_code) {
  {
    auto args = std::make_shared<LsArgs>();
    CLI::App* sub = app.add_subcommand(
        "ls", "List objects, one per line: key, size, tier, expiry (UTC), group");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("--prefix", args->prefix, "Only keys starting with this");
    sub->add_option("--group", args->group, "Only objects of this group");
    CLI::Option* limit = sub->add_option("--limit", args->limit, "List at most N objects");
    sub->footer(std::string(kExitCodesHelp) +
                " Fields are tab-separated; \"-\" stands for none. Control bytes in keys and "
                "groups are escaped (\\t, \\n, \\xNN, \\\\).");
    sub->callback([args, limit, exit_code] { *exit_code = RunLs(*args, limit->count() > 0); });
  }
  {
    auto args = std::make_shared<KeyArgs>();
    CLI::App* sub = app.add_subcommand("stat", "Print everything known about KEY as JSON");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("KEY", args->key, "Key")->required();
    sub->footer(std::string(kExitCodesHelp) +
                " Metadata that is not UTF-8 is printed as hex under \"meta_hex\".");
    sub->callback([args, exit_code] { *exit_code = RunStat(*args); });
  }
  {
    auto args = std::make_shared<PinArgs>();
    CLI::App* sub = app.add_subcommand(
        "pin", "Keep KEY, or a group's objects present and future, from eviction");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("--group", args->group, "Pin the group instead of one KEY (prints the count)");
    sub->add_option("--ttl", args->ttl, "The pin lapses after this long (default: never)");
    sub->add_flag("--dram", args->dram, "Also keep (or load) the objects in DRAM");
    sub->add_option("KEY", args->key, "Key");
    sub->footer(std::string(kExitCodesHelp) +
                " Pins survive restarts. A pin the namespace's quota cannot hold exits 3 with "
                "\"no space: pinned\".");
    sub->callback([args, exit_code] { *exit_code = RunPin(*args); });
  }
  {
    auto args = std::make_shared<PinArgs>();
    CLI::App* sub = app.add_subcommand("unpin", "Remove the pin on KEY or on a group");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("--group", args->group, "Unpin the group instead of one KEY");
    sub->add_option("KEY", args->key, "Key");
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunUnpin(*args); });
  }
}

}  // namespace ctxstore::cli
