#include "bench/harness.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "bench/report.h"
#include "ctxstore/client.h"

namespace ctxstore::bench {
namespace fs = std::filesystem;

Status WaitUntilWarm(const StoreServer& server, uint64_t timeout_ms) {
  ClientOptions o;
  o.port = server.port;
  o.token = server.token;
  o.tls_ca_file = server.tls_ca_file;
  o.client_name = "bench-warmup";
  auto client = Client::Connect(o);
  if (!client.ok()) return client.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto stats = (*client)->StatsJson();
    if (!stats.ok()) return stats.status();
    nlohmann::json j = nlohmann::json::parse(*stats, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return Status::Corrupt("STATS is not a JSON object");
    const uint64_t populated = j.value("dram_populated_bytes", uint64_t{0});
    if (populated >= j.value("dram_capacity_bytes", uint64_t{0})) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("the server's DRAM tier was not populated in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string BenchContext::ScratchDir(const std::string& name) const {
  fs::path dir = fs::path(options.work_dir) / name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  return dir.string();
}

Result<StoreServer> StartStoreServer(const BenchContext& ctx, const std::string& name,
                                     const std::vector<std::string>& args, std::string data_dir) {
  StoreServer server;
  server.data_dir = data_dir.empty() ? ctx.ScratchDir(name) : std::move(data_dir);
  server.log_path = (fs::path(ctx.options.work_dir) / (name + ".log")).string();
  Result<uint16_t> port = FreePort();
  if (!port.ok()) return port.status();
  server.port = *port;
  std::vector<std::string> argv = {ctx.options.ctxstore_exe,
                                   "serve",
                                   "--data-dir",
                                   server.data_dir,
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(*port),
                                   "--log-level",
                                   "warn"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = ChildProcess::Start(argv, server.log_path);
  if (!child.ok()) return child.status();
  server.process = std::move(*child);
  // Generous: a restart of a large store replays its index first.
  Status s = WaitForPort(server.port, server.process.get(), 300000);
  if (!s.ok()) {
    return Status(s.code(), "ctxstore server '" + name + "': " + s.message() +
                                " (log: " + server.log_path + ")");
  }
  // Written before the server listens: the benchmarks pay what clients pay.
  std::ifstream token_file(server.data_dir + "/admin.token");
  std::getline(token_file, server.token);
  return server;
}

namespace {

std::string ReadFirstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      size_t colon = line.find(':');
      std::string v = colon == std::string::npos ? line : line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

}  // namespace

nlohmann::json MachineInfo(const HarnessOptions& o) {
  utsname u{};
  ::uname(&u);
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::string mem = ReadFirstLine("/proc/meminfo", "MemTotal");
  return {{"hostname", host},
          {"kernel", std::string(u.sysname) + " " + u.release},
          {"cpu", ReadFirstLine("/proc/cpuinfo", "model name")},
          {"cores", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"memory", mem},
          {"work_dir", o.work_dir}};
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void ConfigureSizes(BenchContext& ctx) {
  const HarnessOptions& o = ctx.options;
  if (o.smoke) {
    ctx.value_sizes = {64 << 10, 1 << 20};
    ctx.connections = {1, 2};
    ctx.cell_duration_ms = 100;
    ctx.cell_max_bytes = 64ull << 20;
    ctx.data_set_bytes = 8ull << 20;
    ctx.scale_max_objects = 5000;
    ctx.replay_max_requests = 200;
  } else if (o.quick) {
    ctx.value_sizes = {64 << 10, 4 << 20};
    ctx.connections = {1, 4};
    ctx.cell_duration_ms = 700;
    ctx.cell_max_bytes = 2ull << 30;
    ctx.data_set_bytes = 256ull << 20;
    ctx.scale_max_objects = 300000;
    ctx.replay_max_requests = 0;
  } else {
    ctx.value_sizes = {64 << 10, 1 << 20, 4 << 20, 32 << 20};
    ctx.connections = {1, 4, 16};
    ctx.cell_duration_ms = 1500;
    ctx.cell_max_bytes = 4ull << 30;
    ctx.data_set_bytes = 1ull << 30;
    ctx.scale_max_objects = 10000000;
    ctx.replay_max_requests = 0;
  }
}

// Deletes the folders a section left in the work folder (servers' data,
// fio's file, the file store): a full run writes tens of GiB in all. The
// logs stay.
void RemoveScratch(const std::string& work_dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(work_dir, ec)) {
    if (e.is_directory(ec)) fs::remove_all(e.path(), ec);
  }
}

namespace {

struct Section {
  const char* name;
  std::function<nlohmann::json(BenchContext&)> run;
};

// Every section, in the order they run and appear in the report.
const std::vector<Section>& AllSections() {
  static const std::vector<Section> kAll = {
      {"limits", RunLimits}, {"datapath", RunDataPath}, {"redis", RunRedis},
      {"resp", RunResp},     {"fs", RunFsStore},        {"flash", RunFlash},
      {"tls", RunTls},       {"small", RunSmallOps},    {"shm", RunShm},
      {"python", RunPython}, {"growth", RunGrowth},     {"scale", RunScale},
      {"replay", RunReplay},
  };
  return kAll;
}

Status CheckSectionNames(const std::vector<std::string>& names) {
  const std::vector<Section>& all = AllSections();
  for (const std::string& s : names) {
    bool known = std::any_of(all.begin(), all.end(), [&](const Section& x) { return s == x.name; });
    if (!known) return Status::Invalid("unknown section '" + s + "'");
  }
  return Status::Ok();
}

// Creates the output and work folders (work defaults to OUT/work).
Status PrepareFolders(HarnessOptions* o) {
  std::error_code ec;
  fs::create_directories(o->out_dir, ec);
  if (ec) return Status::IoError("cannot create " + o->out_dir + ": " + ec.message());
  if (o->work_dir.empty()) o->work_dir = (fs::path(o->out_dir) / "work").string();
  fs::create_directories(o->work_dir, ec);
  if (ec) return Status::IoError("cannot create " + o->work_dir + ": " + ec.message());
  return Status::Ok();
}

nlohmann::json Meta(const BenchContext& ctx) {
  const HarnessOptions& o = ctx.options;
  return {{"date", UtcNow()},
          {"command", o.command_line},
          {"mode", o.smoke   ? "smoke"
                   : o.quick ? "quick"
                             : "full"},
          {"machine", MachineInfo(o)},
          {"value_sizes", ctx.value_sizes},
          {"connections", ctx.connections},
          {"cell_duration_ms", ctx.cell_duration_ms},
          {"data_set_bytes", ctx.data_set_bytes}};
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs one section into results[name]: an exception becomes its "error".
// Its scratch folders are deleted afterwards.
void RunSection(const Section& section, BenchContext& ctx, nlohmann::json* results) {
  ctx.progress->Section(section.name, 0);
  const auto started = std::chrono::steady_clock::now();
  nlohmann::json& out = (*results)[section.name];
  try {
    out = section.run(ctx);
  } catch (const std::exception& e) {
    out = {{"error", std::string("exception: ") + e.what()}};
  }
  out["elapsed_s"] = SecondsSince(started);
  RemoveScratch(ctx.options.work_dir);
  if (out.contains("error")) {
    ctx.progress->Warn(section.name + std::string(": ") + out["error"].get<std::string>());
  }
}

// results.json and results.md in the output folder.
Status WriteResults(const nlohmann::json& results, const std::string& out_dir) {
  const fs::path out(out_dir);
  std::ofstream json_file(out / "results.json");
  json_file << results.dump(2) << "\n";
  std::ofstream md_file(out / "results.md");
  md_file << FormatMarkdown(results);
  if (!json_file.good() || !md_file.good()) {
    return Status::IoError("cannot write the results to " + out_dir);
  }
  return Status::Ok();
}

bool Selected(const HarnessOptions& o, const Section& section) {
  return o.sections.empty() ||
         std::find(o.sections.begin(), o.sections.end(), section.name) != o.sections.end();
}

}  // namespace

Status RunHarness(const HarnessOptions& options) {
  BenchContext ctx;
  ctx.options = options;
  CTX_RETURN_IF_ERROR(PrepareFolders(&ctx.options));
  ConfigureSizes(ctx);
  Progress progress;
  ctx.progress = &progress;
  CTX_RETURN_IF_ERROR(CheckSectionNames(options.sections));

  nlohmann::json results;
  results["meta"] = Meta(ctx);
  const auto started = std::chrono::steady_clock::now();
  for (const Section& section : AllSections()) {
    if (Selected(options, section)) RunSection(section, ctx, &results);
  }
  results["meta"]["elapsed_s"] = SecondsSince(started);
  results["targets"] = ComputeTargets(results);

  std::vector<std::string> warnings;
  results["charts"] = WriteCharts(results, options.out_dir, &warnings);
  for (const std::string& w : warnings) progress.Warn(w);
  CTX_RETURN_IF_ERROR(WriteResults(results, options.out_dir));
  progress.Section("done", 0);
  progress.Result("wrote " + (fs::path(options.out_dir) / "results.json").string() +
                  " and results.md");
  return Status::Ok();
}

}  // namespace ctxstore::bench
