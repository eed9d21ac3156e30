// `ctxstore-bench compare`: two server binaries measured side by side in one
// run, so that a change is judged against the build before it on the same
// machine at the same time (docs/benchmarks.md, "Comparing two builds").
//
// Every cell of the chosen sections (compare_cells.h: the loads `run`
// measures) runs once per round against each binary, each time on a fresh
// server with a fresh data folder. The order alternates by round, baseline
// first in odd rounds and candidate first in even ones (A B, B A, A B, ...),
// so that a drift of the machine's speed over the run (a 2-core VM shared
// with other work, a disk that slows as it fills) hits both binaries alike.
// Each side's figure is the median of its rounds; the verdict
// (compare_stats.h) weighs the ratio of the medians against the threshold
// and against the spread of each side's rounds. It reports; it does not
// fail a build.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::bench {

struct CompareOptions {
  std::string baseline_exe;           // A: the build before the change
  std::string candidate_exe;          // B: the build with it
  std::string out_dir;                // compare.json, compare.md
  std::string work_dir;               // servers' data; default OUT/work
  std::vector<std::string> sections;  // empty: all of CompareSectionNames()
  uint32_t rounds = 0;                // 0: DefaultCompareRounds
  bool quick = false;                 // the sizes of `run --quick`
  bool smoke = false;                 // the sizes of `run --smoke`: checks form, not speed
  double max_regression_pct = 2;      // a candidate slower than this is "worse"
  std::string command_line;           // as typed, for the report
};

// Rounds when --rounds is not given: even, so that each binary goes first
// equally often; a --quick compare of every section fits in about 10
// minutes on 2 cores.
uint32_t DefaultCompareRounds(bool quick, bool smoke);

// Runs the comparison and writes OUT/compare.json and OUT/compare.md (after
// every round, so that an interrupted run leaves what it measured), then
// prints the table on stdout. Invalid: a usage error (unknown section,
// missing binary, rounds < 1); IoError: the results could not be written.
Status RunCompare(CompareOptions options);

// What a binary is: path, resolved_path, size_bytes, modified (UTC),
// sha256, version (`BINARY --version`'s first line, or null when it has
// none) and build (when it sits in a CMake build folder: build_type,
// source_dir and the source tree's commit, branch and dirty flag; null
// otherwise).
nlohmann::json BinaryIdentity(const std::string& path);

// compare.json's summary and table as markdown (compare_report.cc).
std::string FormatCompareMarkdown(const nlohmann::json& compare);
// The table alone (what RunCompare prints).
std::string FormatCompareTable(const nlohmann::json& compare);

}  // namespace ctxstore::bench
