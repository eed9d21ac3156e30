// Flash bandwidth where the data folder lives: fio, O_DIRECT, 4 MiB
// sequential writes and reads at queue depths 8, 32 and 64 and at 1 and 4
// jobs (each job its own slice of the file); the limit is the best of them,
// since a device may need a deeper queue than one job gives it.
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
};

// One fio run of `config` for runtime_s (time based, over the file again
// if it ends sooner); bw_bytes of its direction over every job.
Result<double> FioGbps(const std::string& exe, const std::string& file, uint64_t file_bytes,
                       const FioConfig& config, const std::string& engine, int runtime_s) {
  const uint64_t slice = file_bytes / config.numjobs;
  auto run = RunCommand(
      {exe, "--name=ctxstore-" + config.rw, "--filename=" + file, "--size=" + std::to_string(slice),
       "--offset_increment=" + std::to_string(slice), "--numjobs=" + std::to_string(config.numjobs),
       "--group_reporting", "--bs=4M", "--iodepth=" + std::to_string(config.iodepth),
       "--rw=" + config.rw, "--direct=1", "--ioengine=" + engine, "--time_based",
       "--runtime=" + std::to_string(runtime_s), "--output-format=json"},
      (runtime_s + 60) * 1000);
  if (!run.ok()) return run.status();
  auto gbps = ParseFioGbps(run->out, config.rw);
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
  return configs;
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
  // Containers and older kernels may refuse io_uring; the first engine that
  // writes is used for every configuration.
  std::string engine;
  const std::vector<FioConfig> configs = Configs(ctx.options.smoke);
  out["disk_configs"] = json::array();
  json best_read, best_write;
  for (const FioConfig& c : configs) {
    const std::string label = "O_DIRECT sequential " + c.rw + ", QD " + std::to_string(c.iodepth) +
                              ", " + std::to_string(c.numjobs) + " job(s) (fio)";
    ctx.progress->Step(label);
    Result<double> gbps = Status::IoError("no engine");
    for (const char* e : {"io_uring", "libaio", "psync"}) {
      if (!engine.empty() && engine != e) continue;
      gbps = FioGbps(fio, file, file_bytes, c, e, runtime_s);
      if (gbps.ok()) {
        engine = e;
        break;
      }
      skipped.push_back("disk " + std::string(e) + ": " + gbps.status().ToString());
    }
    if (!gbps.ok()) {
      ctx.progress->Warn(gbps.status().ToString());
      if (engine.empty()) break;  // no engine works here
      continue;
    }
    ctx.progress->Result(GbpsLabel(*gbps));
    json row = {{"tool", "fio"},          {"ioengine", engine},  {"rw", c.rw},
                {"iodepth", c.iodepth},   {"numjobs", c.numjobs}, {"gbps", *gbps}};
    out["disk_configs"].push_back(row);
    json& best = c.rw == "write" ? best_write : best_read;
    if (best.is_null() || *gbps > best["gbps"].get<double>()) best = row;
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
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
}

}  // namespace ctxstore::bench
