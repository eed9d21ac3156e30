// `ctxstore-bench compare` through the real executables: a smoke comparison
// of the ctxstore binary with itself gives a well-formed compare.json with
// every cell of every section, run in ABBA order. Ratios of a binary to
// itself are noise on a shared machine, so only their form is checked, not
// speed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/subprocess.h"
#include "server_process.h"

namespace ctxstore::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kBench = (fs::path(CTXSTORE_BINARY).parent_path() / "ctxstore-bench").string();

CommandResult Compare(std::vector<std::string> args) {
  args.insert(args.begin(), {kBench, "compare"});
  Result<CommandResult> r = RunCommand(args, 600000);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CommandResult{};
}

void ExpectSide(const json& side, const std::string& where) {
  SCOPED_TRACE(where + ": " + side.dump());
  ASSERT_EQ(side["rounds"].get<int>(), 2);
  EXPECT_GT(side["median"].get<double>(), 0);
  EXPECT_LE(side["min"].get<double>(), side["median"].get<double>());
  EXPECT_LE(side["median"].get<double>(), side["max"].get<double>());
  EXPECT_GT(side["p50_us"].get<double>(), 0);
  EXPECT_LE(side["p50_us"].get<double>(), side["p99_us"].get<double>());
  ASSERT_EQ(side["runs"].size(), 2u);
  for (const json& run : side["runs"]) EXPECT_FALSE(run.contains("error"));
}

// Round 1 runs the baseline first, round 2 the candidate first.
void ExpectAbba(const json& cell) {
  std::map<int, std::map<std::string, int>> seq;  // round -> side -> seq
  for (const char* side : {"baseline", "candidate"}) {
    for (const json& run : cell[side]["runs"])
      seq[run["round"].get<int>()][side] = run["seq"].get<int>();
  }
  EXPECT_LT(seq[1]["baseline"], seq[1]["candidate"]) << cell["cell"];
  EXPECT_LT(seq[2]["candidate"], seq[2]["baseline"]) << cell["cell"];
}

TEST(BenchCompare, SmokeComparisonOfABinaryWithItself) {
  TempDir out;
  CommandResult r = Compare({"--smoke", "--baseline", CTXSTORE_BINARY, "--candidate",
                             CTXSTORE_BINARY, "--out", out.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| section | cell |"), std::string::npos) << "no table on stdout:\n"
                                                                 << r.out;
  std::ifstream in(out.path() + "/compare.json");
  json c = json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(c.is_discarded()) << "compare.json is not JSON";

  EXPECT_EQ(c["meta"]["mode"], "smoke");
  EXPECT_EQ(c["meta"]["rounds_done"], 2);
  EXPECT_GT(c["meta"]["machine"]["cores"].get<int>(), 0);
  for (const char* side : {"baseline", "candidate"}) {
    EXPECT_EQ(c[side]["sha256"].get<std::string>().size(), 64u) << c[side];
    EXPECT_TRUE(c[side].contains("version")) << c[side];
  }
  EXPECT_TRUE(c["identical_binaries"].get<bool>());

  // Every cell of the three sections: the data path grid (PUT and GET of
  // every size at every concurrency), four flash cells, four small ops.
  std::map<std::string, size_t> per_section;
  std::set<std::string> small_ops;
  for (const json& cell : c["cells"]) {
    const std::string where = cell["section"].get<std::string>() + " " + cell["cell"].dump();
    per_section[cell["section"]]++;
    if (cell["section"] == "small") small_ops.insert(cell["op"]);
    ExpectSide(cell["baseline"], where + " baseline");
    ExpectSide(cell["candidate"], where + " candidate");
    ExpectAbba(cell);
    EXPECT_GT(cell["ratio"].get<double>(), 0) << where;
    EXPECT_TRUE(cell["worse"].is_boolean() && cell["within_noise"].is_boolean()) << where;
    EXPECT_FALSE(cell["verdict"].get<std::string>().empty()) << where;
  }
  const size_t grid = c["meta"]["value_sizes"].size() * c["meta"]["connections"].size();
  EXPECT_EQ(per_section["datapath"], 2 * grid);
  EXPECT_EQ(per_section["flash"], 4u);
  EXPECT_EQ(small_ops, (std::set<std::string>{"exists", "batch_exists", "match_prefix",
                                              "match_prefix_lease"}));
  EXPECT_EQ(c["summary"]["cells"].get<size_t>(), c["cells"].size());
  EXPECT_EQ(c["summary"]["errors"], 0);

  std::ifstream md(out.path() + "/compare.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("# ctxstore-bench compare"), std::string::npos) << text;
  EXPECT_NE(text.find("the two binaries are identical"), std::string::npos) << text;
}

TEST(BenchCompare, UsageErrorsExit2) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  CommandResult missing =
      Compare({"--baseline", dir.path() + "/nope", "--candidate", CTXSTORE_BINARY, "--out", out});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("no executable baseline binary"), std::string::npos) << missing.err;
  CommandResult section = Compare({"--baseline", CTXSTORE_BINARY, "--candidate", CTXSTORE_BINARY,
                                   "--out", out, "--sections", "redis"});
  EXPECT_EQ(section.exit_code, 2) << section.err;
  EXPECT_NE(section.err.find("unknown section 'redis'"), std::string::npos) << section.err;
  CommandResult rounds = Compare({"--baseline", CTXSTORE_BINARY, "--candidate", CTXSTORE_BINARY,
                                  "--out", out, "--rounds", "0"});
  EXPECT_EQ(rounds.exit_code, 2) << rounds.err;
  EXPECT_FALSE(fs::exists(out)) << "a usage error wrote results";
}

TEST(BenchCompare, UnwritableOutputExits3) {
  // `ctxstore bench compare` forwards to ctxstore-bench; OUT is a file.
  TempDir dir;
  const std::string file = dir.path() + "/file";
  std::ofstream(file) << "x";
  CliResult r = RunCli({"bench", "compare", "--smoke", "--baseline", CTXSTORE_BINARY, "--candidate",
                        CTXSTORE_BINARY, "--out", file + "/out"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ctxstore::testing
