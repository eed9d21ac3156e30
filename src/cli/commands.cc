// Client subcommands: put, get, exists, rm, stats and flush, and the
// registration of every client subcommand (the context ones, ls, stat, pin,
// unpin, rm --group and ns, are in context_commands.cc). Each connects with
// ctxstore::Client (in the namespace given by --namespace), runs one call and
// maps the result to an exit code (cli/commands.h) with a one-line message on
// stderr when it fails.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/context_commands.h"
#include "cli/namespace_commands.h"
#include "cli/token_commands.h"
#include "common/units.h"
#include "ctxstore/client.h"

namespace ctxstore::cli {
namespace {

// The bytes of a file or of stdin. A regular file is mapped rather than read,
// so the value goes from the page cache to the socket without another copy.
class InputBytes {
 public:
  ~InputBytes() {
    if (map_ != nullptr) ::munmap(map_, map_len_);
  }
  Status Load(const std::string& path) {
    if (path == "-") return ReadAll(STDIN_FILENO, "stdin");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    Status result;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        map_ = p;
        map_len_ = static_cast<size_t>(st.st_size);
        ::close(fd);
        return Status::Ok();
      }
    }
    result = ReadAll(fd, path);  // pipes, devices, empty files, mmap failures
    ::close(fd);
    return result;
  }
  std::span<const uint8_t> bytes() const {
    if (map_ != nullptr) return {static_cast<const uint8_t*>(map_), map_len_};
    return {reinterpret_cast<const uint8_t*>(data_.data()), data_.size()};
  }

 private:
  Status ReadAll(int fd, const std::string& name) {
    char chunk[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd, chunk, sizeof(chunk));
      if (n > 0) {
        data_.append(chunk, static_cast<size_t>(n));
      } else if (n == 0) {
        return Status::Ok();
      } else if (errno != EINTR) {
        return Status::IoError("cannot read " + name + ": " + std::strerror(errno));
      }
    }
  }

  void* map_ = nullptr;
  size_t map_len_ = 0;
  std::string data_;
};

Status WriteAll(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("cannot write " + name + ": " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// --- put ---------------------------------------------------------------------

struct PutArgs {
  ConnectionArgs conn;
  bool sync = false;
  bool overwrite = false;
  std::string ttl;
  std::string group;
  std::string parent;
  std::string meta;
  std::string key;
  std::string file;
};

int RunPut(const PutArgs& a) {
  PutOptions opts;
  if (!ParseDurationArg("--ttl", a.ttl, &opts.ttl_ms)) return kExitUsage;
  // The input first: a missing file is reported as such, whatever the server.
  InputBytes input;
  if (Status st = input.Load(a.file); !st.ok()) return Fail(st);
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  opts.sync = a.sync;
  opts.overwrite = a.overwrite;
  opts.group = a.group;
  opts.parent = a.parent;
  opts.meta = a.meta;
  if (Status st = client->Put(a.key, input.bytes(), opts); !st.ok()) return Fail(st, a.key);
  return kExitOk;
}

// --- get ---------------------------------------------------------------------

struct GetArgs {
  ConnectionArgs conn;
  std::string key;
  std::string output;
  bool meta = false;
};

int RunGet(const GetArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  // Fetched before the output is opened, so a miss leaves an existing file alone.
  std::string bytes;
  if (a.meta) {
    auto got = client->GetWithMeta(a.key);
    if (!got.ok()) return Fail(got.status(), a.key);
    bytes = std::move(got->meta);
  } else {
    auto value = client->Get(a.key);
    if (!value.ok()) return Fail(value.status(), a.key);
    bytes = std::move(*value);
  }
  if (a.output.empty() || a.output == "-") {
    if (Status st = WriteAll(STDOUT_FILENO, bytes, "stdout"); !st.ok()) return Fail(st);
    return kExitOk;
  }
  int fd = ::open(a.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Status::IoError("cannot open " + a.output + ": " + std::strerror(errno)));
  Status st = WriteAll(fd, bytes, a.output);
  if (::close(fd) != 0 && st.ok()) {
    st = Status::IoError("cannot write " + a.output + ": " + std::strerror(errno));
  }
  return st.ok() ? kExitOk : Fail(st);
}

// --- exists ------------------------------------------------------------------

int RunExists(const KeyArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto size = client->Exists(a.key);
  if (size.ok()) return kExitOk;
  // Absence is an answer, not an error: silent, like test(1).
  if (size.status().code() == StatusCode::kNotFound) return kExitNotFound;
  return Fail(size.status(), a.key);
}

// --- rm ----------------------------------------------------------------------

int RunRm(const KeyArgs& a) {
  if (!OneTarget("rm", a.key, a.group)) return kExitUsage;
  if (!a.group.empty()) return RunRmGroup(a);
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  if (Status st = client->Delete(a.key, a.sync); !st.ok()) return Fail(st, a.key);
  return kExitOk;
}

// --- stats -------------------------------------------------------------------

struct StatsArgs {
  ConnectionArgs conn;
  bool json = false;
};

struct StatsField {
  const char* key;
  const char* label;
  bool bytes;
};

// docs/protocol.md's STATS fields, in display order.
constexpr StatsField kStatsFields[] = {
    {"objects", "objects", false},
    {"dram_objects", "DRAM objects", false},
    {"dram_bytes", "DRAM bytes", true},
    {"dram_capacity_bytes", "DRAM capacity", true},
    {"dram_populated_bytes", "DRAM populated", true},
    {"index_bytes", "index memory", true},
    {"flash_objects", "flash objects", false},
    {"flash_bytes", "flash bytes", true},
    {"flash_capacity_bytes", "flash capacity", true},
    {"flash_segments", "flash segments", false},
    {"hits_dram", "hits (DRAM)", false},
    {"hits_flash", "hits (flash)", false},
    {"misses", "misses", false},
    {"puts", "puts", false},
    {"writes_coalesced", "writes coalesced", false},
    {"flush_batches", "flush batches", false},
    {"writes_during_sync", "writes during a sync", false},
    {"evictions_dram", "DRAM evictions", false},
    {"reclaimed_segments", "reclaimed segments", false},
    {"reclaimed_objects", "reclaimed objects", false},
    {"corrupt_records_skipped", "corrupt records skipped", false},
    {"torn_records_skipped", "torn records skipped", false},
    {"corrupt_reads", "corrupt reads", false},
    {"io_errors", "I/O errors", false},
    {"connections", "connections", false},
};

std::string FormatStatsValue(const nlohmann::json& v, bool bytes) {
  if (v.is_string()) return v.get<std::string>();
  if (bytes && v.is_number_unsigned()) {
    uint64_t n = v.get<uint64_t>();
    return std::to_string(n) + "  (" + FormatSize(n) + ")";
  }
  return v.dump();
}

int RunStats(const StatsArgs& a) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(a.conn, &client); rc != kExitOk) return rc;
  auto body = client->StatsJson();
  if (!body.ok()) return Fail(body.status());
  if (a.json) {
    std::cout << *body;
    if (body->empty() || body->back() != '\n') std::cout << "\n";
    std::cout.flush();
    return std::cout ? kExitOk : kExitError;
  }
  nlohmann::json stats = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (stats.is_discarded() || !stats.is_object()) {
    PrintError("server sent stats that are not a JSON object");
    return kExitError;
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (const StatsField& f : kStatsFields) {
    auto it = stats.find(f.key);
    if (it != stats.end()) rows.emplace_back(f.label, FormatStatsValue(*it, f.bytes));
  }
  // Fields newer than this client are shown too, under their own names.
  for (const auto& [key, value] : stats.items()) {
    bool known = false;
    for (const StatsField& f : kStatsFields) known = known || key == f.key;
    if (!known) rows.emplace_back(key, FormatStatsValue(value, false));
  }
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [label, value] : rows) {
    std::cout << label << std::string(width - label.size() + 2, ' ') << value << "\n";
  }
  std::cout.flush();
  return kExitOk;
}

// --- flush -------------------------------------------------------------------

int RunFlush(const ConnectionArgs& conn) {
  std::unique_ptr<Client> client;
  if (int rc = ConnectTo(conn, &client); rc != kExitOk) return rc;
  if (Status st = client->Flush(); !st.ok()) return Fail(st);
  return kExitOk;
}

constexpr const char* kNotFoundInNamespaceHelp =
    " Keys live in a namespace (--namespace): a key stored in another one is not found here.";

}  // namespace

void RegisterClientCommands(CLI::App& app, int* exit_code) {
  {
    auto args = std::make_shared<PutArgs>();
    CLI::App* sub = app.add_subcommand("put", "Store FILE's bytes (or stdin's, for -) under KEY");
    AddConnectionOptions(sub, &args->conn);
    sub->add_flag("--sync", args->sync, "Return only once the value is on flash and synced");
    sub->add_flag("--overwrite", args->overwrite, "Replace an existing value");
    sub->add_option("--ttl", args->ttl,
                    "Remove the object after this long (e.g. 500ms, 30s, 5m, 2h); default: the "
                    "namespace's default TTL");
    sub->add_option("--group", args->group, "Session tag (ls --group, pin --group, rm --group)");
    sub->add_option("--parent", args->parent, "Key of the previous chunk of the same prefix");
    sub->add_option("--meta", args->meta, "Metadata stored with the value (at most 4096 bytes)");
    sub->add_option("KEY", args->key, "Key (1 to 512 bytes)")->required();
    sub->add_option("FILE", args->file, "File to store; - reads stdin")->required();
    sub->footer(std::string(kExitCodesHelp) +
                " A KEY already present without --overwrite exits 3 with \"exists: KEY\".");
    sub->callback([args, exit_code] { *exit_code = RunPut(*args); });
  }
  {
    auto args = std::make_shared<GetArgs>();
    CLI::App* sub = app.add_subcommand("get", "Write KEY's value to stdout or to a file");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("KEY", args->key, "Key")->required();
    sub->add_option("-o,--output", args->output, "Write the value to this file, not stdout");
    sub->add_flag("--meta", args->meta, "Write the metadata stored with the value instead");
    sub->footer(std::string(kExitCodesHelp) + kNotFoundInNamespaceHelp);
    sub->callback([args, exit_code] { *exit_code = RunGet(*args); });
  }
  {
    auto args = std::make_shared<KeyArgs>();
    CLI::App* sub = app.add_subcommand("exists", "Test whether KEY is stored (prints nothing)");
    AddConnectionOptions(sub, &args->conn);
    sub->add_option("KEY", args->key, "Key")->required();
    sub->footer("Exit codes: 0 present, 1 absent (silent), 2 usage error, 3 any other error.");
    sub->callback([args, exit_code] { *exit_code = RunExists(*args); });
  }
  {
    auto args = std::make_shared<KeyArgs>();
    CLI::App* sub =
        app.add_subcommand("rm", "Delete KEY, or every object of a group (prints the count)");
    AddConnectionOptions(sub, &args->conn);
    sub->add_flag("--sync", args->sync, "Return only once the deletion is on flash and synced");
    sub->add_option("--group", args->group, "Delete the group's objects instead of one KEY");
    sub->add_option("KEY", args->key, "Key");
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunRm(*args); });
  }
  RegisterContextCommands(app, exit_code);
  {
    auto args = std::make_shared<StatsArgs>();
    CLI::App* sub = app.add_subcommand("stats", "Print the server's statistics");
    AddConnectionOptions(sub, &args->conn);
    sub->add_flag("--json", args->json, "Print the server's JSON as is");
    sub->footer(kExitCodesHelp);
    sub->callback([args, exit_code] { *exit_code = RunStats(*args); });
  }
  {
    auto conn = std::make_shared<ConnectionArgs>();
    CLI::App* sub = app.add_subcommand(
        "flush", "Wait until everything acknowledged so far is on flash and synced");
    AddConnectionOptions(sub, conn.get());
    sub->footer(kExitCodesHelp);
    sub->callback([conn, exit_code] { *exit_code = RunFlush(*conn); });
  }
  RegisterNamespaceCommands(app, exit_code);
  RegisterTokenCommands(app, exit_code);
}

}  // namespace ctxstore::cli
