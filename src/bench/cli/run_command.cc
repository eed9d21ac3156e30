// `ctxstore-bench run`: the benchmark harness (bench/harness.h).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "bench/cli/commands.h"
#include "bench/harness.h"
#include "common/subprocess.h"

namespace ctxstore::bench {

std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : raw) {
    if (c == '\0') c = ' ';
  }
  while (!raw.empty() && raw.back() == ' ') raw.pop_back();
  return raw;
}

namespace {

int RunBenchmarks(HarnessOptions o) {
  if (o.ctxstore_exe.empty()) o.ctxstore_exe = BesideThisExecutable("ctxstore");
  if (!std::filesystem::exists(o.ctxstore_exe)) {
    PrintError("no ctxstore server binary at " + o.ctxstore_exe +
               ": install it beside ctxstore-bench or name it with --server-binary");
    return kExitUsage;
  }
  o.command_line = CommandLine();
  Status s = RunHarness(o);
  if (!s.ok()) {
    PrintError(s.ToString());
    return s.code() == StatusCode::kInvalid ? kExitUsage : kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<HarnessOptions>();
  o->trace_dir = "../shared/data/mooncake-traces";
  CLI::App* run = app.add_subcommand(
      "run",
      "Run the benchmark suite (machine limits, data path vs redis and a filesystem store, flash "
      "tier, small ops, scale, trace replay) and write results.json, results.md and charts");
  run->add_option("--out", o->out_dir, "Folder for results.json, results.md and PNG charts")
      ->required();
  run->add_flag("--quick", o->quick, "A short version of the same suite (a few minutes)");
  run->add_flag("--smoke", o->smoke, "Tiny sizes (seconds): checks the harness, not speed");
  run->add_option("--work-dir", o->work_dir,
                  "Scratch folder for the servers' data and fio files (default: OUT/work); it "
                  "decides which disk is measured");
  run->add_option("--sections", o->sections,
                  "Only these sections, comma-separated: limits, datapath, redis, resp, fs, flash, "
                  "tls, small, shm, python, growth, scale, replay")
      ->delimiter(',');
  run->add_option("--traces", o->trace_dir,
                  "Folder of Mooncake JSONL traces to replay (every *.jsonl in it)")
      ->capture_default_str();
  run->add_option("--server-binary", o->ctxstore_exe,
                  "ctxstore binary to run as the server (default: the ctxstore beside "
                  "ctxstore-bench)");
  run->footer(
      "Starts its own ctxstore servers and redis-server on free loopback ports and stops them at "
      "the end. A missing tool (redis-server, fio, iperf3, gnuplot) skips what needs it. Exit: 0 "
      "ok (whether or not targets are met), 2 usage, 3 the results could not be written.");
  run->callback([o, exit_code] { *exit_code = RunBenchmarks(*o); });
}

}  // namespace ctxstore::bench
