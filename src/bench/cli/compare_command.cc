// `ctxstore-bench compare`: two server binaries side by side
// (bench/compare.h).
#include <memory>
#include <string>

#include "bench/cli/commands.h"
#include "bench/compare.h"

namespace ctxstore::bench {
namespace {

int Compare(CompareOptions o) {
  o.command_line = CommandLine();
  Status s = RunCompare(o);
  if (!s.ok()) {
    PrintError(s.ToString());
    return s.code() == StatusCode::kInvalid ? kExitUsage : kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterCompareCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Measure two ctxstore server binaries side by side (the datapath, flash and small sections "
      "of `run`, each cell against each binary in ABBA order per round) and write compare.json "
      "and compare.md");
  cmd->add_option("--baseline", o->baseline_exe, "The ctxstore binary before the change (A)")
      ->required();
  cmd->add_option("--candidate", o->candidate_exe, "The ctxstore binary with the change (B)")
      ->required();
  cmd->add_option("--out", o->out_dir, "Folder for compare.json and compare.md")->required();
  cmd->add_option("--sections", o->sections,
                  "Only these sections, comma-separated: datapath, flash, small (default: all "
                  "three)")
      ->delimiter(',');
  cmd->add_option("--rounds", o->rounds,
                  "Runs of every cell per binary (default: " +
                      std::to_string(DefaultCompareRounds(false, false)) + ", with --smoke " +
                      std::to_string(DefaultCompareRounds(false, true)) +
                      "); even rounds give each binary the first turn equally often")
      ->check(CLI::Range(1u, 1000u));
  CLI::Option* quick = cmd->add_flag("--quick", o->quick,
                                     "The sizes of `run --quick` (about 10 minutes on 2 cores)");
  cmd->add_flag("--smoke", o->smoke, "Tiny sizes (about a minute): checks the command, not speed")
      ->excludes(quick);
  cmd->add_option("--work-dir", o->work_dir,
                  "Scratch folder for the servers' data (default: OUT/work); it decides which "
                  "disk is measured");
  cmd->add_option("--max-regression-pct", o->max_regression_pct,
                  "A cell is 'worse' when the candidate's median is below the baseline's by more "
                  "than this many percent")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->footer(
      "Every run starts its own server of that binary on a free loopback port, with a fresh data "
      "folder, and stops it. Prints the table; exit 0 whatever the verdict (it reports, it does "
      "not judge), 2 usage, 3 the results could not be written.");
  cmd->callback([o, exit_code] { *exit_code = Compare(*o); });
}

}  // namespace ctxstore::bench
