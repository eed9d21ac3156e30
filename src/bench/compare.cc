// `ctxstore-bench compare` (bench/compare.h): the rounds, and compare.json.
#include "bench/compare.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/compare_cells.h"
#include "bench/compare_stats.h"
#include "bench/harness.h"
#include "bench/progress.h"
#include "common/subprocess.h"

namespace ctxstore::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::array<const char*, 2> kSides = {"baseline", "candidate"};

// One cell's runs so far, per side: what compare.json lists, and the
// figures of the runs that succeeded.
struct CellRuns {
  std::array<json, 2> runs = {json::array(), json::array()};
  std::array<SideRounds, 2> rounds;
};

struct CompareRun {
  CompareOptions options;
  BenchContext ctx;
  Progress progress;
  std::vector<CompareCell> cells;
  std::vector<CellRuns> results;  // one per cell
  std::array<json, 2> identity;
  std::string date;
  uint32_t runs_done = 0;  // numbers the runs in the order they ran
  SteadyClock::time_point started = SteadyClock::now();

  const std::string& Exe(int side) const {
    return side == 0 ? options.baseline_exe : options.candidate_exe;
  }
};

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

Status CheckBinary(const std::string& path, const char* side) {
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec) || ::access(path.c_str(), X_OK) != 0) {
    return Status::Invalid(std::string("no executable ") + side + " binary at '" + path + "'");
  }
  return Status::Ok();
}

// Fills in the defaults and rejects what cannot run.
Status Validate(CompareOptions* o) {
  const std::vector<std::string>& known = CompareSectionNames();
  if (o->sections.empty()) o->sections = known;
  for (const std::string& s : o->sections) {
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      return Status::Invalid("unknown section '" + s +
                             "' (compare measures datapath, flash and small)");
    }
  }
  if (o->rounds == 0) o->rounds = DefaultCompareRounds(o->quick, o->smoke);
  if (!(o->max_regression_pct >= 0)) return Status::Invalid("--max-regression-pct must be >= 0");
  CTX_RETURN_IF_ERROR(CheckBinary(o->baseline_exe, "baseline"));
  return CheckBinary(o->candidate_exe, "candidate");
}

// Creates the output and work folders (work defaults to OUT/work).
Status PrepareFolders(CompareOptions* o) {
  std::error_code ec;
  fs::create_directories(o->out_dir, ec);
  if (ec || !fs::is_directory(o->out_dir)) {
    return Status::IoError("cannot create " + o->out_dir + (ec ? ": " + ec.message() : ""));
  }
  if (o->work_dir.empty()) o->work_dir = (fs::path(o->out_dir) / "work").string();
  fs::create_directories(o->work_dir, ec);
  if (ec) return Status::IoError("cannot create " + o->work_dir + ": " + ec.message());
  return Status::Ok();
}

// A run's result as listed in compare.json; an error, or a load with
// failed requests, is recorded and left out of the figures.
json RecordRun(const Result<LoadResult>& r, const CompareCell& cell, SideRounds* rounds,
               Progress& progress) {
  if (!r.ok()) {
    progress.Warn(r.status().ToString());
    return {{"error", r.status().ToString()}};
  }
  json j = ToJson(*r);
  if (r->errors > 0 || r->ops == 0) {
    j["error"] = r->errors > 0 ? "failed requests, first: " + r->first_error : "no requests done";
    progress.Warn(Summary(*r));
    return j;
  }
  rounds->throughput.push_back(cell.ops_metric ? r->ops_per_s() : r->gbps());
  rounds->p50_us.push_back(r->p50_us);
  rounds->p99_us.push_back(r->p99_us);
  progress.Result(Summary(*r));
  return j;
}

// WORK/round3-baseline/07-get-4-MiB-x4: a folder per run, where its
// server's log stays (an error names it) and its data folder is deleted.
std::string RunFolder(const CompareRun& run, size_t cell_index, int side, uint32_t round) {
  char index[16];
  std::snprintf(index, sizeof(index), "%02zu-", cell_index + 1);
  std::string slug = index;
  for (char c : run.cells[cell_index].name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      slug += c;
    } else if (slug.back() != '-') {
      slug += '-';
    }
  }
  if (slug.back() == '-') slug.pop_back();
  const std::string round_side = "round" + std::to_string(round + 1) + "-" + kSides[side];
  return (fs::path(run.options.work_dir) / round_side / slug).string();
}

// One cell against one binary.
void MeasureOnce(CompareRun& run, size_t cell_index, int side, uint32_t round) {
  const CompareCell& cell = run.cells[cell_index];
  BenchContext ctx = run.ctx;
  ctx.options.ctxstore_exe = run.Exe(side);
  ctx.options.work_dir = RunFolder(run, cell_index, side, round);
  std::error_code ec;
  fs::create_directories(ctx.options.work_dir, ec);
  run.progress.Step(cell.section + " " + cell.name + ": " + kSides[side]);
  Result<LoadResult> r = Status::Internal("not run");
  try {
    r = cell.measure(ctx);
  } catch (const std::exception& e) {
    r = Status::Internal(std::string("exception: ") + e.what());
  }
  RemoveScratch(ctx.options.work_dir);
  CellRuns& runs = run.results[cell_index];
  json record = RecordRun(r, cell, &runs.rounds[side], run.progress);
  record["round"] = round + 1;
  record["seq"] = ++run.runs_done;
  runs.runs[side].push_back(std::move(record));
}

// Round k (from 0): every cell against both binaries, baseline first when
// k is even, candidate first when it is odd.
void RunRound(CompareRun& run, uint32_t round) {
  const bool baseline_first = round % 2 == 0;
  run.progress.Section("round " + std::to_string(round + 1) + "/" +
                           std::to_string(run.options.rounds) +
                           (baseline_first ? " (baseline first)" : " (candidate first)"),
                       static_cast<uint32_t>(run.cells.size() * 2));
  for (size_t i = 0; i < run.cells.size(); ++i) {
    for (int side : baseline_first ? std::array<int, 2>{0, 1} : std::array<int, 2>{1, 0}) {
      MeasureOnce(run, i, side, round);
    }
  }
}

json SideJson(const CellRuns& runs, int side) {
  SideSummary s = Summarize(runs.rounds[side]);
  return {{"rounds", s.rounds}, {"median", s.median}, {"min", s.min},           {"max", s.max},
          {"p50_us", s.p50_us}, {"p99_us", s.p99_us}, {"runs", runs.runs[side]}};
}

double RatioOrZero(double candidate, double baseline) {
  return baseline > 0 ? candidate / baseline : 0;
}

json CellJson(const CompareCell& cell, const CellRuns& runs, double max_regression_pct) {
  json j = {{"section", cell.section},
            {"cell", cell.name},
            {"op", cell.op},
            {"value_bytes", cell.value_bytes},
            {"connections", cell.connections},
            {"sealed", cell.sealed},
            {"metric", cell.ops_metric ? "ops_per_s" : "gbps"},
            {"unit", cell.ops_metric ? "op/s" : "GB/s"}};
  if (cell.keys > 0) j["keys"] = cell.keys;
  j["baseline"] = SideJson(runs, 0);
  j["candidate"] = SideJson(runs, 1);
  const SideSummary a = Summarize(runs.rounds[0]);
  const SideSummary b = Summarize(runs.rounds[1]);
  const Verdict v = Judge(a, b, max_regression_pct);
  j["ratio"] = v.valid ? json(v.ratio) : json(nullptr);
  j["change_pct"] = v.valid ? json(v.change_pct) : json(nullptr);
  j["p50_ratio"] = RatioOrZero(b.p50_us, a.p50_us);
  j["p99_ratio"] = RatioOrZero(b.p99_us, a.p99_us);
  j["worse"] = v.worse;
  j["better"] = v.better;
  j["within_noise"] = v.within_noise;
  j["verdict"] = v.label;
  return j;
}

json SummaryJson(const json& cells) {
  int worse = 0, worse_outside_noise = 0, better = 0, errors = 0;
  json lowest = nullptr;
  for (const json& c : cells) {
    if (!c["ratio"].is_number()) {
      ++errors;
      continue;
    }
    worse += c["worse"].get<bool>();
    worse_outside_noise += c["worse"].get<bool>() && !c["within_noise"].get<bool>();
    better += c["better"].get<bool>();
    if (lowest.is_null() || c["ratio"].get<double>() < lowest["ratio"].get<double>()) {
      lowest = {{"section", c["section"]}, {"cell", c["cell"]}, {"ratio", c["ratio"]}};
    }
  }
  return {{"cells", cells.size()}, {"worse", worse},   {"worse_outside_noise", worse_outside_noise},
          {"better", better},      {"errors", errors}, {"lowest_ratio", lowest}};
}

json MetaJson(const CompareRun& run, uint32_t rounds_done) {
  const CompareOptions& o = run.options;
  const char* mode = o.smoke ? "smoke" : (o.quick ? "quick" : "full");
  return {{"date", run.date},
          {"command", o.command_line},
          {"mode", mode},
          {"sections", o.sections},
          {"rounds", o.rounds},
          {"rounds_done", rounds_done},
          {"order", "ABBA: baseline first in odd rounds, candidate first in even ones"},
          {"max_regression_pct", o.max_regression_pct},
          {"machine", MachineInfo(run.ctx.options)},
          {"driver", BesideThisExecutable("ctxstore-bench")},
          {"value_sizes", run.ctx.value_sizes},
          {"connections", run.ctx.connections},
          {"cell_duration_ms", run.ctx.cell_duration_ms},
          {"data_set_bytes", run.ctx.data_set_bytes},
          {"elapsed_s", SecondsSince(run.started)}};
}

bool IdenticalBinaries(const json& a, const json& b) {
  const std::string sha = a.value("sha256", "");
  return !sha.empty() && sha == b.value("sha256", "");
}

json CompareJson(const CompareRun& run, uint32_t rounds_done) {
  json cells = json::array();
  for (size_t i = 0; i < run.cells.size(); ++i) {
    cells.push_back(CellJson(run.cells[i], run.results[i], run.options.max_regression_pct));
  }
  return {{"meta", MetaJson(run, rounds_done)},
          {"baseline", run.identity[0]},
          {"candidate", run.identity[1]},
          {"identical_binaries", IdenticalBinaries(run.identity[0], run.identity[1])},
          {"summary", SummaryJson(cells)},
          {"cells", cells}};
}

Status WriteOutputs(const json& compare, const std::string& out_dir) {
  const fs::path out(out_dir);
  std::ofstream json_file(out / "compare.json");
  json_file << compare.dump(2) << "\n";
  std::ofstream md_file(out / "compare.md");
  md_file << FormatCompareMarkdown(compare);
  json_file.close();
  md_file.close();
  if (!json_file.good() || !md_file.good()) {
    return Status::IoError("cannot write compare.json and compare.md to " + out_dir);
  }
  return Status::Ok();
}

}  // namespace

uint32_t DefaultCompareRounds(bool /*quick*/, bool smoke) {
  // A --quick round of the three sections took 92 s on a busy 2-core VM
  // (32 runs, each with its server's start and stop), so 6 rounds fit in
  // about 10 minutes. A full round is several times longer; 6 rounds still,
  // as the medians and spreads need them. A smoke run checks the order
  // both ways round, not speed.
  return smoke ? 2 : 6;
}

Status RunCompare(CompareOptions options) {
  CTX_RETURN_IF_ERROR(Validate(&options));
  CTX_RETURN_IF_ERROR(PrepareFolders(&options));
  CompareRun run;
  run.options = options;
  run.ctx.options.out_dir = options.out_dir;
  run.ctx.options.work_dir = options.work_dir;
  run.ctx.options.quick = options.quick;
  run.ctx.options.smoke = options.smoke;
  run.ctx.options.command_line = options.command_line;
  ConfigureSizes(run.ctx);
  run.ctx.progress = &run.progress;
  run.cells = CompareCells(run.ctx, options.sections);
  run.results.resize(run.cells.size());
  run.date = UtcNow();
  for (int side : {0, 1}) run.identity[side] = BinaryIdentity(run.Exe(side));

  for (uint32_t round = 0; round < options.rounds; ++round) {
    RunRound(run, round);
    if (round + 1 == options.rounds) break;
    const double per_round = SecondsSince(run.started) / (round + 1);
    const int left_s = static_cast<int>(per_round * (options.rounds - round - 1));
    run.progress.Result("about " + std::to_string(left_s) + " s left");
    // After every round, so that an interrupted comparison keeps its figures.
    Status s = WriteOutputs(CompareJson(run, round + 1), options.out_dir);
    if (!s.ok()) run.progress.Warn(s.ToString());
  }
  const json compare = CompareJson(run, options.rounds);
  CTX_RETURN_IF_ERROR(WriteOutputs(compare, options.out_dir));
  std::cout << FormatCompareTable(compare) << std::flush;
  run.progress.Result("wrote " + (fs::path(options.out_dir) / "compare.json").string() +
                      " and compare.md");
  return Status::Ok();
}

}  // namespace ctxstore::bench
