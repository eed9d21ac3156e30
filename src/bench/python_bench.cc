// The python section: the Python package against the C++ client on the same
// server and cells, in one run (issue 18's targets). The C++ cells run here,
// in-process; the Python cells run in /usr/bin/python3 (ctxstore/_bench.py,
// the package built beside this executable), which prints its rows as JSON.
// Without the package (a build with CTXSTORE_BUILD_PYTHON=OFF) the section
// says it was skipped.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "bench/process.h"
#include "bench/store_cells.h"
#include "bench/store_load.h"

namespace ctxstore::bench {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kGetKeys = 16;
constexpr uint32_t kChainKeys = 64;
const char kPython[] = "/usr/bin/python3";

// The keys _bench.py reads (its GET_KEYS_4MIB, GET_KEYS_1MIB, CHAIN_KEYS).
std::string KeyOf(const char* prefix, uint32_t i) { return prefix + std::to_string(i); }

// build/python, when it holds the native module.
std::string PythonPackageDir() {
  const fs::path dir = fs::path(BesideThisExecutable("python"));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "ctxstore", ec)) {
    if (entry.path().filename().string().rfind("_ctxstore", 0) == 0) return dir.string();
  }
  return "";
}

Status LoadKeys(Client& c) {
  PutOptions overwrite;
  overwrite.overwrite = true;
  const std::vector<uint8_t> big = MakeValue(4 << 20, 31), mid = MakeValue(1 << 20, 32);
  for (uint32_t i = 0; i < kGetKeys; ++i) {
    CTX_RETURN_IF_ERROR(c.Put(KeyOf("py-get4m-", i), big, overwrite));
    CTX_RETURN_IF_ERROR(c.Put(KeyOf("py-get1m-", i), mid, overwrite));
  }
  const std::vector<uint8_t> small = MakeValue(64, 33);
  for (uint32_t i = 0; i < kChainKeys; ++i) {
    CTX_RETURN_IF_ERROR(c.Put(KeyOf("py-chain-", i), small, overwrite));
  }
  return c.Flush();
}

nlohmann::json CxxRow(const char* cell, const LoadResult& r) {
  nlohmann::json row = {{"cell", cell}, {"client", "c++"}};
  row.update(ToJson(r));
  return row;
}

// The C++ client on the cells the targets compare: get_into 4 MiB x4 (a
// Client per thread) and batch_exists of 64 keys on one connection.
Result<nlohmann::json> CxxCells(BenchContext& ctx, const StoreServer& server) {
  auto clients = Connect(server, 4);
  if (!clients.ok()) return clients.status();
  CTX_RETURN_IF_ERROR(LoadKeys(*(*clients)[0]));
  nlohmann::json rows = nlohmann::json::array();
  ctx.progress->Step("C++ get_into 4 MiB x4");
  std::vector<std::vector<uint8_t>> buffers(4, std::vector<uint8_t>(4 << 20));
  LoadResult get = RunLoad({4, ctx.cell_duration_ms, 0, 1}, [&](uint32_t w, uint64_t it)
                                                                 -> Result<uint64_t> {
    auto n = (*clients)[w]->GetInto(KeyOf("py-get4m-", (w * 5 + it) % kGetKeys), buffers[w]);
    if (!n.ok()) return n.status();
    return *n;
  });
  Report(ctx, get);
  rows.push_back(CxxRow("get_into_4mib_x4", get));
  std::vector<std::string> chain;
  for (uint32_t i = 0; i < kChainKeys; ++i) chain.push_back(KeyOf("py-chain-", i));
  ctx.progress->Step("C++ batch_exists of 64 keys");
  LoadResult exists = RunLoad({1, ctx.cell_duration_ms, 0, 1}, [&](uint32_t, uint64_t)
                                                                   -> Result<uint64_t> {
    auto r = (*clients)[0]->BatchExists(chain);
    if (!r.ok()) return r.status();
    return 0;
  });
  Report(ctx, exists);
  rows.push_back(CxxRow("batch_exists_64", exists));
  return rows;
}

// The Python cells, each as long as a harness cell with the same rounds.
Result<nlohmann::json> PythonCells(BenchContext& ctx, const StoreServer& server,
                                   const std::string& package_dir) {
  ctx.progress->Step("Python cells (ctxstore._bench)");
  const uint32_t rounds = 3;
  const double seconds = static_cast<double>(ctx.cell_duration_ms) / 1000.0;
  auto run = RunCommand({"/usr/bin/env", "PYTHONPATH=" + package_dir, kPython, "-m",
                         "ctxstore._bench", "--address", "127.0.0.1:" + std::to_string(server.port),
                         "--token", server.token, "--seconds", std::to_string(seconds), "--rounds",
                         std::to_string(rounds)},
                        /*timeout_ms=*/600000);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return Status::Internal("python3 -m ctxstore._bench exited " +
                            std::to_string(run->exit_code) + ": " + run->err);
  }
  nlohmann::json parsed = nlohmann::json::parse(run->out, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("rows")) {
    return Status::Internal("ctxstore._bench printed no rows: " + run->out);
  }
  for (nlohmann::json& row : parsed["rows"]) {
    row["client"] = "python";
    char line[160];
    std::snprintf(line, sizeof(line), "python %s: %.2f GB/s, p50 %.1f us",
                  row.value("cell", "").c_str(), row.value("gbps", 0.0),
                  row.value("p50_us", 0.0));
    ctx.progress->Result(line);
  }
  return parsed["rows"];
}

}  // namespace

nlohmann::json RunPython(BenchContext& ctx) {
  const std::string package_dir = PythonPackageDir();
  if (package_dir.empty()) {
    return {{"skipped", "the Python package is not built beside ctxstore-bench "
                        "(a build with CTXSTORE_BUILD_PYTHON=OFF)"}};
  }
  if (!fs::exists(kPython)) return {{"skipped", std::string(kPython) + " is not installed"}};
  Result<StoreServer> server = StartWarmServer(ctx, "python", {"--memory", "512MiB"});
  if (!server.ok()) return {{"error", server.status().ToString()}};
  auto cxx = CxxCells(ctx, *server);
  if (!cxx.ok()) return {{"error", cxx.status().ToString()}};
  auto python = PythonCells(ctx, *server, package_dir);
  if (!python.ok()) return {{"error", python.status().ToString()}};
  nlohmann::json rows = *cxx;
  for (const nlohmann::json& row : *python) rows.push_back(row);
  return {{"rows", rows}};
}

}  // namespace ctxstore::bench
