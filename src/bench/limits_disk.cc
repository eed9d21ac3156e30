// Flash bandwidth where the data folder lives: fio, O_DIRECT, 4 MiB
// sequential writes and reads at queue depths 8, 32 and 64 and at 1 and 4
// jobs (each job its own slice of the file); the limit is the best of them,
// since a device may need a deeper queue than one job gives it.
//
// Then the durable write limit: the same writes with fdatasync (psync at 1,
// 4 and 8 jobs syncing after every write; the async engine at QD 8 and 32
// syncing after every write and after every 16). An O_DIRECT write may end
// in a volatile write-back cache (a virtual disk's, a drive's); only a sync
// makes it durable, and a sync PUT, or a PUT once DRAM is full of data that
// must reach flash before it can be evicted, waits for one. So the
// targets of those PUTs are set against this rate (docs/benchmarks.md).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/limits_parts.h"
#include "bench/tool_output.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

struct FioConfig {
  std::string rw;  // "write" or "read"
  uint32_t iodepth = kFioIoDepth;
  uint32_t numjobs = 1;
  uint32_t fdatasync = 0;  // fdatasync after this many writes (0: never)
  bool psync = false;      // the synchronous engine (one write at a time per job)
};

// One fio run of `config` for runtime_s (time based, over the file again
// if it ends sooner); bw_bytes of its direction over every job, and its syncs.
Result<FioFigures> RunFio(const std::string& exe, const std::string& file, uint64_t file_bytes,
                       const FioConfig& config, const std::string& engine, int runtime_s) {
  const uint64_t slice = file_bytes / config.numjobs;
  std::vector<std::string> argv = {
      exe, "--name=ctxstore-" + config.rw, "--filename=" + file, "--size=" + std::to_string(slice),
      "--offset_increment=" + std::to_string(slice), "--numjobs=" + std::to_string(config.numjobs),
      "--group_reporting", "--bs=4M", "--iodepth=" + std::to_string(config.iodepth),
      "--rw=" + config.rw, "--direct=1", "--ioengine=" + engine, "--time_based",
      "--runtime=" + std::to_string(runtime_s), "--output-format=json"};
  if (config.fdatasync > 0) argv.push_back("--fdatasync=" + std::to_string(config.fdatasync));
  auto run = RunCommand(argv, (runtime_s + 60) * 1000);
  if (!run.ok()) return run.status();
  auto gbps = ParseFioFigures(run->out, config.rw);
  if (run->exit_code != 0 || !gbps.ok()) {
    return Status::IoError("fio " + engine + " exited " + std::to_string(run->exit_code) + ": " +
                           run->err.substr(0, run->err.find('\n')) +
                           (gbps.ok() ? "" : " (" + gbps.status().message() + ")"));
  }
  return gbps;
}

std::vector<FioConfig> Configs(bool smoke) {
  std::vector<FioConfig> configs;
  // Writes first: they lay the file out for the reads.
  for (const char* rw : {"write", "read"}) {
    for (uint32_t jobs : {1u, 4u}) {
      for (uint32_t qd : {8u, 32u, 64u}) {
        if (smoke && (jobs != 1 || qd != kFioIoDepth)) continue;
        configs.push_back({rw, qd, jobs});
      }
    }
  }
  // Durable writes, last: into the file laid out above.
  for (uint32_t jobs : {1u, 4u, 8u}) {
    if (smoke && jobs != 1) continue;
    configs.push_back({"write", 1, jobs, 1, true});
  }
  for (uint32_t every : {1u, 16u}) {
    for (uint32_t qd : {8u, 32u}) {
      if (smoke && (every != 1 || qd != kFioIoDepth)) continue;
      configs.push_back({"write", qd, 1, every, false});
    }
  }
  return configs;
}

std::string Label(const FioConfig& c) {
  std::string label = "O_DIRECT sequential " + c.rw;
  label += c.psync ? " (psync)" : ", QD " + std::to_string(c.iodepth);
  label += ", " + std::to_string(c.numjobs) + " job(s)";
  if (c.fdatasync > 0) label += ", fdatasync every " + std::to_string(c.fdatasync);
  return label + " (fio)";
}

// Runs `config` on the engine that wrote first (`engine`, found here on the
// first run: containers and older kernels may refuse io_uring), or on psync
// when the configuration asks for it. Engines that fail are noted in skipped.
Result<FioFigures> RunOnEngine(const std::string& exe, const std::string& file,
                               uint64_t file_bytes, const FioConfig& c, int runtime_s,
                               std::string& engine, json& skipped) {
  std::vector<std::string> engines = {"io_uring", "libaio", "psync"};
  if (c.psync) engines = {"psync"};
  else if (!engine.empty()) engines = {engine};
  Result<FioFigures> run = Status::IoError("no engine");
  for (const std::string& e : engines) {
    run = RunFio(exe, file, file_bytes, c, e, runtime_s);
    if (run.ok()) {
      if (!c.psync) engine = e;
      return run;
    }
    skipped.push_back("disk " + e + ": " + run.status().ToString());
  }
  return run;
}

// A row of disk_configs; a durable write's has its syncs.
json ConfigRow(const FioConfig& c, const std::string& engine, const FioFigures& f) {
  json row = {{"tool", "fio"},          {"ioengine", engine},   {"rw", c.rw},
              {"iodepth", c.iodepth},   {"numjobs", c.numjobs}, {"fdatasync", c.fdatasync},
              {"gbps", f.gbps}};
  if (c.fdatasync > 0) {
    row["syncs"] = f.syncs;
    row["sync_mean_us"] = f.sync_mean_us;
    row["sync_p99_us"] = f.sync_p99_us;
  }
  return row;
}

// The durable write limit and the configuration that gave it.
json DurableWrite(const json& best) {
  return {{"durable_write_gbps", best["gbps"]},
          {"durable_write_ioengine", best["ioengine"]},
          {"durable_write_iodepth", best["iodepth"]},
          {"durable_write_numjobs", best["numjobs"]},
          {"durable_write_fdatasync", best["fdatasync"]},
          {"durable_write_sync_mean_us", best["sync_mean_us"]}};
}

}  // namespace

void MeasureDisk(BenchContext& ctx, json& out, json& skipped) {
  const std::string fio = FindExecutable("fio");
  if (fio.empty()) {
    skipped.push_back("disk: fio is not installed");
    ctx.progress->Warn("fio is not installed; disk bandwidth skipped");
    return;
  }
  uint64_t file_bytes = ctx.options.quick ? 1ull << 30 : 2ull << 30;
  int runtime_s = ctx.options.quick ? 2 : 4;
  if (ctx.options.smoke) {
    file_bytes = 32ull << 20;
    runtime_s = 1;
  }
  const std::string file = ctx.ScratchDir("fio") + "/fio.dat";
  std::string engine;  // the first that wrote; every async configuration uses it
  const std::vector<FioConfig> configs = Configs(ctx.options.smoke);
  out["disk_configs"] = json::array();
  json best_read, best_write, best_durable;
  for (const FioConfig& c : configs) {
    ctx.progress->Step(Label(c));
    // Durable runs stay short: at most 3 s each (seven of them).
    const int run_s = c.fdatasync > 0 ? std::min(runtime_s, 3) : runtime_s;
    Result<FioFigures> fio_run = RunOnEngine(fio, file, file_bytes, c, run_s, engine, skipped);
    if (!fio_run.ok()) {
      ctx.progress->Warn(fio_run.status().ToString());
      if (engine.empty()) break;  // no engine works here
      continue;
    }
    const double gbps = fio_run->gbps;
    json row = ConfigRow(c, c.psync ? "psync" : engine, *fio_run);
    std::string result = GbpsLabel(gbps);
    if (c.fdatasync > 0) {
      result += ", fdatasync mean " + std::to_string(static_cast<int>(fio_run->sync_mean_us)) +
                " us";
    }
    ctx.progress->Result(result);
    out["disk_configs"].push_back(row);
    json& best = c.fdatasync > 0 ? best_durable : c.rw == "write" ? best_write : best_read;
    if (best.is_null() || gbps > best["gbps"].get<double>()) best = row;
  }
  if (!best_read.is_null() && !best_write.is_null()) {
    out["disk"] = {{"tool", "fio"},
                   {"ioengine", engine},
                   {"path", file},
                   {"block_bytes", 4194304},
                   {"file_bytes", file_bytes},
                   {"runtime_s_per_config", runtime_s},
                   {"read_gbps", best_read["gbps"]},
                   {"write_gbps", best_write["gbps"]},
                   {"read_iodepth", best_read["iodepth"]},
                   {"read_numjobs", best_read["numjobs"]},
                   {"write_iodepth", best_write["iodepth"]},
                   {"write_numjobs", best_write["numjobs"]}};
    if (!best_durable.is_null()) out["disk"].update(DurableWrite(best_durable));
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
}

}  // namespace ctxstore::bench
