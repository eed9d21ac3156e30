// The ctxstore command-line client against the real server process: the
// exit codes and output formats that scripts rely on.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "server_process.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::CliResult;
using ::ctxstore::testing::Describe;
using ::ctxstore::testing::RunCli;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;
using ::ctxstore::testing::TempDir;

using ::ctxstore::testing::RandomBytes;

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The whole of stderr is one line.
bool OneLine(const std::string& s) {
  return !s.empty() && s.back() == '\n' && std::count(s.begin(), s.end(), '\n') == 1;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  void TearDown() override { StopAndReport(server_); }
  std::string File(const std::string& name) const { return files_.path() + "/" + name; }

  ServerProcess server_;
  TempDir files_;
};

TEST_F(CliTest, PutFileGetToFileRoundTripOf4MiB) {
  std::string value = RandomBytes(4 << 20, 1);
  WriteFile(File("in"), value);
  CliResult r = server_.Cli({"put", "big", File("in")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  r = server_.Cli({"get", "big", "-o", File("out")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  std::string got = ReadFile(File("out"));
  ASSERT_EQ(got.size(), value.size());
  EXPECT_TRUE(got == value);
}

TEST_F(CliTest, PutFromStdinGetToStdout) {
  std::string value("binary\0bytes\n\xff\x00 end", 20);
  CliResult r = server_.Cli({"put", "k", "-"}, value);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"get", "k"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, value);
}

TEST_F(CliTest, PutEmptyFile) {
  WriteFile(File("empty"), "");
  CliResult r = server_.Cli({"put", "e", File("empty")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"get", "e"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, ExistsExitCodes) {
  ASSERT_EQ(server_.Cli({"put", "k", "-"}, "v").exit_code, 0);
  CliResult r = server_.Cli({"exists", "k"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  r = server_.Cli({"exists", "absent"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, RmThenGetIsNotFound) {
  ASSERT_EQ(server_.Cli({"put", "k", "-"}, "v").exit_code, 0);
  CliResult r = server_.Cli({"rm", "k"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = server_.Cli({"get", "k"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ctxstore: not found: k\n");
  r = server_.Cli({"rm", "k"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  // A miss must not create or truncate the output file.
  WriteFile(File("keep"), "keep me");
  r = server_.Cli({"get", "k", "-o", File("keep")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(ReadFile(File("keep")), "keep me");
}

TEST_F(CliTest, PutExistingNeedsOverwrite) {
  ASSERT_EQ(server_.Cli({"put", "k", "-"}, "first").exit_code, 0);
  CliResult r = server_.Cli({"put", "k", "-"}, "second");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.err, "ctxstore: exists: k\n");
  EXPECT_EQ(server_.Cli({"get", "k"}).out, "first");
  r = server_.Cli({"put", "--overwrite", "--sync", "k", "-"}, "second");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(server_.Cli({"get", "k"}).out, "second");
}

TEST_F(CliTest, StatsJsonAndTable) {
  ASSERT_EQ(server_.Cli({"put", "k", "-"}, "v").exit_code, 0);
  CliResult r = server_.Cli({"stats", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json stats = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(stats.is_discarded()) << r.out;
  ASSERT_TRUE(stats.is_object()) << r.out;
  EXPECT_EQ(stats.value("objects", uint64_t{0}), 1u) << r.out;

  r = server_.Cli({"stats"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("objects"), std::string::npos) << r.out;
}

TEST_F(CliTest, Flush) {
  ASSERT_EQ(server_.Cli({"put", "k", "-"}, "v").exit_code, 0);
  CliResult r = server_.Cli({"flush"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST(CliUsage, BadServerValueIsAUsageError) {
  for (const char* server : {"127.0.0.1:", ":7070", "127.0.0.1:99999", "127.0.0.1:70x", "::1:7070",
                             "http://h:1", "unix://relative.sock", "ctxstore://h:1/path"}) {
    CliResult r = RunCli({"get", "--server", server, "k"});
    EXPECT_EQ(r.exit_code, 2) << server << ": " << Describe(r);
    EXPECT_TRUE(OneLine(r.err)) << server << ": " << r.err;
    EXPECT_NE(r.err.find("invalid --server: address '"), std::string::npos) << r.err;
  }
  // A host alone is the default port on it: unreachable, not a usage error.
  CliResult r = RunCli({"get", "--server", "nonsense.invalid", "k"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("nonsense.invalid"), std::string::npos) << r.err;
}

TEST(CliUsage, MissingArgumentsAreUsageErrors) {
  std::vector<std::vector<std::string>> cases = {
      {},
      {"put"},
      {"put", "k"},
      {"get"},
      {"exists"},
      {"rm"},
      {"get", "k", "--bogus"},
      {"no-such-command"},
  };
  for (const auto& args : cases) {
    CliResult r = RunCli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << "[" << joined << "] " << Describe(r);
    EXPECT_FALSE(r.err.empty()) << "[" << joined << "] says nothing";
  }
}

TEST(CliUsage, UnreachableServerExits3WithOneLine) {
  std::string server = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"get", "--server", server, "k"},
           {"exists", "--server", server, "k"},
           {"stats", "--server", server},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 3) << Describe(r);
    EXPECT_TRUE(OneLine(r.err)) << r.err;
    EXPECT_EQ(r.err.rfind("ctxstore: unavailable: connection refused to " + server, 0), 0u)
        << r.err;
  }
  CliResult r = RunCli({"put", "--server", server, "k", "-"}, "value");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
}

TEST(CliUsage, MissingInputFileExits3) {
  std::string server = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  // The file is read before connecting, so the message names the file.
  CliResult r = RunCli({"put", "--server", server, "k", "/nonexistent/file"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ctxstore
