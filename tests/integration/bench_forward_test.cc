// `ctxstore bench ...` runs the ctxstore-bench installed beside ctxstore,
// with its arguments, output and exit code, and says clearly when there is
// none. (BenchSmoke runs the whole harness through it.)
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/subprocess.h"
#include "server_process.h"

namespace ctxstore::testing {
namespace {

TEST(BenchForward, RunsCtxstoreBenchBesideIt) {
  CliResult r = RunCli({"bench", "sim", "--trace", CTXSTORE_TEST_DATA_DIR "/sample_trace.jsonl",
                        "--capacity-blocks", "10", "--policies", "lru", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_FALSE(j.empty());
}

TEST(BenchForward, PassesHelpAndUsageErrorsThrough) {
  CliResult help = RunCli({"bench", "run", "--help"});
  EXPECT_EQ(help.exit_code, 0) << Describe(help);
  EXPECT_NE(help.out.find("--server-binary"), std::string::npos) << help.out;
  CliResult usage = RunCli({"bench", "run"});  // --out is required
  EXPECT_EQ(usage.exit_code, 2) << Describe(usage);
  EXPECT_NE(usage.err.find("--out"), std::string::npos) << usage.err;
}

TEST(BenchForward, SaysWhenCtxstoreBenchIsNotInstalled) {
  TempDir dir;
  const std::string alone = dir.path() + "/ctxstore";
  std::filesystem::copy_file(CTXSTORE_BINARY, alone);
  Result<CommandResult> r = RunCommand({alone, "bench", "run", "--out", dir.path()}, 60000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3) << r->err;
  EXPECT_NE(
      r->err.find("ctxstore-bench is not installed (looked for " + dir.path() + "/ctxstore-bench)"),
      std::string::npos)
      << r->err;
}

}  // namespace
}  // namespace ctxstore::testing
