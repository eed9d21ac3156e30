// The benchmark harness kept working: a smoke run (tiny sizes, seconds) of
// every section through the real binary, checked for well-formed results,
// not for speed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "server_process.h"

namespace ctxstore::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

bool Installed(const std::string& program) {
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/bin/"}) {
    if (fs::exists(std::string(dir) + program)) return true;
  }
  return false;
}

void ExpectLoadRow(const json& row, const std::string& where) {
  SCOPED_TRACE(where + ": " + row.dump());
  for (const char* field :
       {"ops", "bytes", "errors", "seconds", "gbps", "ops_per_s", "p50_us", "p99_us"}) {
    ASSERT_TRUE(row.contains(field) && row[field].is_number()) << field;
  }
  EXPECT_EQ(row["errors"].get<uint64_t>(), 0u);
  EXPECT_GT(row["ops"].get<uint64_t>(), 0u);
  EXPECT_GT(row["seconds"].get<double>(), 0);
  EXPECT_LE(row["p50_us"].get<double>(), row["p99_us"].get<double>());
}

TEST(BenchSmoke, EverySectionProducesWellFormedResults) {
  TempDir out;
  CliResult r =
      RunCli({"bench", "run", "--smoke", "--out", out.path(), "--traces", CTXSTORE_TEST_DATA_DIR},
             {}, 600000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("== datapath"), std::string::npos) << "no progress display:\n" << r.err;

  std::ifstream in(out.path() + "/results.json");
  ASSERT_TRUE(in.good());
  json results = json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(results.is_discarded()) << "results.json is not JSON";
  EXPECT_EQ(results["meta"]["mode"], "smoke");
  for (const char* section : {"limits", "datapath", "redis", "resp", "fs", "flash", "tls",
                              "small", "shm", "python", "growth", "scale", "replay"}) {
    ASSERT_TRUE(results.contains(section)) << section;
    EXPECT_FALSE(results[section].contains("error")) << section << ": " << results[section];
  }

  // Limits: memcpy and TCP always; the disk when fio is installed.
  EXPECT_GT(results["limits"]["memcpy_gbps"].get<double>(), 0);
  ASSERT_FALSE(results["limits"]["tcp"].empty());
  for (const json& t : results["limits"]["tcp"]) EXPECT_GT(t["gbps"].get<double>(), 0);
  if (Installed("fio")) {
    EXPECT_GT(results["limits"]["disk"]["read_gbps"].get<double>(), 0);
    // The durable write (with fdatasync), each such configuration with its syncs.
    EXPECT_GT(results["limits"]["disk"]["durable_write_gbps"].get<double>(), 0);
    for (const json& d : results["limits"]["disk_configs"]) {
      if (d["fdatasync"].get<uint32_t>() > 0) {
        EXPECT_GT(d["syncs"].get<uint64_t>(), 0u) << d;
      }
    }
  }
  // Cost per byte: the loopback's, XXH3's and the PUT burst's CPU bound.
  for (const json& t : results["limits"]["tcp_configs"]) {
    EXPECT_GT(t["cpu_s_per_gb"].get<double>(), 0) << t;
  }
  EXPECT_GT(results["limits"]["xxh3_cpu_s_per_gb"].get<double>(), 0);
  EXPECT_GT(results["limits"]["put_cpu_bound_gbps"].get<double>(), 0);

  // The data path grid: every size at every concurrency, PUT and GET.
  const json& meta = results["meta"];
  size_t cells = meta["value_sizes"].size() * meta["connections"].size();
  ASSERT_EQ(results["datapath"]["rows"].size(), 2 * cells);
  for (const json& row : results["datapath"]["rows"]) {
    ExpectLoadRow(row, "datapath");
    // /proc counts in 10 ms ticks, too coarse for a 100 ms cell to be sure
    // of one; getrusage counts in microseconds.
    EXPECT_GE(row["server_cpu_s_per_gb"].get<double>(), 0) << row;
    EXPECT_GT(row["client_cpu_s_per_gb"].get<double>(), 0) << row;
  }
  if (Installed("redis-server")) {
    ASSERT_EQ(results["redis"]["rows"].size(), 2 * cells);
    for (const json& row : results["redis"]["rows"]) {
      ExpectLoadRow(row, "redis");
      // Both drivers measured every cell (bench/resp_mux.h); the row is the
      // faster one's.
      const json& drivers = row["drivers"];
      for (const char* d : {"threads", "one_thread"}) {
        ASSERT_TRUE(drivers.contains(d) && drivers[d].contains("gbps")) << row;
        EXPECT_EQ(drivers[d]["errors"].get<uint64_t>(), 0u) << row;
        EXPECT_GT(drivers[d]["gbps"].get<double>(), 0) << row;
      }
      const std::string driver = row["driver"];
      ASSERT_TRUE(drivers.contains(driver)) << row;
      EXPECT_EQ(row["gbps"].get<double>(), drivers[driver]["gbps"].get<double>()) << row;
      for (const char* d : {"threads", "one_thread"}) {
        EXPECT_GE(row["gbps"].get<double>(), drivers[d]["gbps"].get<double>()) << row;
      }
    }
    std::set<std::string> ops;
    for (const json& row : results["redis"]["latency"]) ops.insert(row["op"]);
    EXPECT_TRUE(ops.contains("ping"));
  }
  if (Installed("redis-server") && Installed("redis-benchmark")) {
    // redis-benchmark runs over the harness's key set (-r), preloaded: one
    // row per cell, without error, each naming its key count.
    ASSERT_EQ(results["redis"]["tool_rows"].size(), 2 * cells);
    for (const json& row : results["redis"]["tool_rows"]) {
      EXPECT_FALSE(row.contains("error")) << row;
      EXPECT_GE(row["keys"].get<uint64_t>(), row["connections"].get<uint64_t>()) << row;
      EXPECT_GT(row["gbps"].get<double>(), 0) << row;
    }
  }
  if (Installed("redis-server") && Installed("redis-benchmark")) {
    // The Redis front end against redis-server: every cell measured on both,
    // with its ratio.
    const json& resp = results["resp"];
    ASSERT_EQ(resp["rows"].size(), 8u) << resp;
    std::set<std::string> resp_ops;
    for (const json& row : resp["rows"]) {
      EXPECT_FALSE(row.contains("error")) << row;
      resp_ops.insert(row.value("op", ""));
      for (const char* system : {"redis", "ctxstore"}) {
        ASSERT_TRUE(row.contains(system)) << row;
        EXPECT_GT(row[system]["ops_per_s"].get<double>(), 0) << row;
        EXPECT_GT(row[system]["p50_us"].get<double>(), 0) << row;
      }
      EXPECT_GT(row["ratio"].get<double>(), 0) << row;
    }
    EXPECT_EQ(resp_ops, (std::set<std::string>{"set", "get", "ping", "matchprefix"}));
    // lm:// GET 4 MiB x4 against the native GET on the same server.
    const json& lm = resp["lm"];
    EXPECT_FALSE(lm.contains("error")) << lm;
    for (const char* driver : {"lm", "native"}) {
      ASSERT_TRUE(lm.contains(driver)) << lm;
      EXPECT_EQ(lm[driver]["errors"].get<uint64_t>(), 0u) << lm;
      EXPECT_GT(lm[driver]["gbps"].get<double>(), 0) << lm;
    }
  }
  ASSERT_FALSE(results["fs"]["rows"].empty());
  for (const json& row : results["fs"]["rows"]) ExpectLoadRow(row, "fs");
  ExpectLoadRow(results["flash"]["flash_get"], "flash_get");
  ExpectLoadRow(results["flash"]["sync_put"], "sync_put");
  // Steady state: at least twice the DRAM tier written, half of it measured.
  const json& steady = results["flash"]["steady_put"];
  ExpectLoadRow(steady, "steady_put");
  EXPECT_GE(steady["written_bytes"].get<uint64_t>(), 2 * steady["dram_bytes"].get<uint64_t>())
      << steady;
  EXPECT_GE(steady["warmup_bytes"].get<uint64_t>(), steady["dram_bytes"].get<uint64_t>());
  // The same passes over an encrypted namespace: every record sealed.
  const json& sealed = results["flash"]["sealed"];
  ExpectLoadRow(sealed["flash_get"], "sealed flash_get");
  ExpectLoadRow(sealed["sync_put"], "sealed sync_put");
  EXPECT_GT(sealed["flash_get"]["ratio_to_clear"].get<double>(), 0) << sealed;
  EXPECT_GT(sealed["sealed_records"].get<uint64_t>(), 0u) << sealed;
  EXPECT_EQ(results["flash"]["sealed_records"].get<uint64_t>(), 0u);
  EXPECT_GT(results["limits"]["aes_gcm_seal_gbps"].get<double>(), 0);
  EXPECT_GT(results["limits"]["aes_gcm_open_gbps"].get<double>(), 0);
  // Small ops: each op and the bare socket round trip, over TCP and over Unix.
  std::map<std::string, int> small_per_transport;
  for (const json& row : results["small"]["rows"]) {
    ExpectLoadRow(row, "small");
    small_per_transport[row.value("transport", "")]++;
  }
  EXPECT_EQ(small_per_transport["tcp"], 5) << results["small"];
  EXPECT_EQ(small_per_transport["unix"], 5) << results["small"];
  // Shared memory: PUT and GET at 1 and 4 clients, each against memcpy.
  EXPECT_GT(results["shm"]["memcpy_gbps"].get<double>(), 0);
  ASSERT_EQ(results["shm"]["rows"].size(), 4u) << results["shm"];
  for (const json& row : results["shm"]["rows"]) {
    ExpectLoadRow(row, "shm");
    EXPECT_GT(row["ratio_to_memcpy"].get<double>(), 0) << row;
  }
  // Python: both clients' cells, unless this build has no Python package
  // (the sanitizer builds), which the section says.
  if (results["python"].contains("skipped")) {
    EXPECT_NE(results["python"]["skipped"].get<std::string>().find("CTXSTORE_BUILD_PYTHON"),
              std::string::npos);
  } else {
    std::set<std::string> cells;
    for (const json& row : results["python"]["rows"]) {
      EXPECT_GT(row["ops"].get<uint64_t>(), 0u) << row;
      cells.insert(row["client"].get<std::string>() + " " + row["cell"].get<std::string>());
    }
    EXPECT_EQ(cells, (std::set<std::string>{"c++ get_into_4mib_x4", "c++ batch_exists_64",
                                            "python get_into_4mib_x4", "python batch_exists_64",
                                            "python get_into_1mib_threads64",
                                            "python get_into_1mib_async64"}));
  }
  // TLS: every cell against both servers, each TLS row with its ratio.
  ASSERT_EQ(results["tls"]["rows"].size(), 16u) << results["tls"];
  for (const json& row : results["tls"]["rows"]) {
    ExpectLoadRow(row, "tls");
    if (row["system"] == "ctxstore+tls") {
      EXPECT_GT(row["ratio_to_plaintext"].get<double>(), 0);
    }
  }

  // Growth: the value-size sweep at its connection count and the
  // connection sweep at its value size (their shared point once), PUT and
  // GET, for ctxstore and for redis-benchmark (every smoke size fits it).
  const json& growth = results["growth"];
  const size_t growth_cells = growth["value_sizes"].size() + growth["connections"].size() - 1;
  std::map<std::string, size_t> growth_rows;
  for (const json& row : growth["rows"]) {
    if (row.value("system", "") == "ctxstore") {
      ExpectLoadRow(row, "growth");
    } else {  // redis-benchmark's rows: its own figures, no byte counts
      EXPECT_EQ(row.value("errors", 1), 0) << row;
      EXPECT_GT(row.value("gbps", 0.0), 0) << row;
    }
    ++growth_rows[row.value("system", "")];
  }
  EXPECT_EQ(growth_rows["ctxstore"], 2 * growth_cells) << growth;
  if (Installed("redis-benchmark")) {
    EXPECT_EQ(growth_rows["redis-benchmark"], 2 * growth_cells) << growth;
  }

  // Scale: index memory and restarts measured, every key readable again.
  ASSERT_FALSE(results["scale"]["rows"].empty());
  for (const json& row : results["scale"]["rows"]) {
    // The smoke run loads 2,000 objects: their index grows RSS by less than
    // the allocator's own swings (a heap trim gives back ~0.5 MiB), so the
    // per-object figure is only checked to exist. The restart's figure
    // counts a whole rebuilt index.
    EXPECT_TRUE(row["index_bytes_per_object"].is_number()) << row;
    EXPECT_GT(row["index_bytes_per_object_restart"].get<double>(), 0) << row;
    EXPECT_GT(row["restart_clean_s"].get<double>(), 0) << row;
    EXPECT_GT(row["restart_kill9_s"].get<double>(), 0) << row;
    EXPECT_EQ(row.value("errors", 0), 0) << row;
  }

  // Replay: the online hit rate equals the simulation of the same policy.
  ASSERT_FALSE(results["replay"]["rows"].empty());
  for (const json& row : results["replay"]["rows"]) {
    EXPECT_TRUE(row["matches_sim"].get<bool>()) << row;
    EXPECT_LE(row["hit_rate"].get<double>(), row["belady_hit_rate"].get<double>() + 1e-9) << row;
  }

  // One target per condition of the table and 9 of the resp
  // section, each well-formed.
  ASSERT_EQ(results["targets"].size(), 33u);
  for (const json& t : results["targets"]) {
    EXPECT_TRUE(t["name"].is_string());
    EXPECT_TRUE(t["target"].is_number());
    EXPECT_TRUE(t["met"].is_boolean());
    EXPECT_TRUE(t["measured"].is_number() || t["measured"].is_null());
  }

  std::ifstream md(out.path() + "/results.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("## Targets"), std::string::npos);
  EXPECT_NE(text.find("## Data path"), std::string::npos);
  EXPECT_NE(text.find("## CPU cost per GB"), std::string::npos);
  EXPECT_NE(text.find("## Growth"), std::string::npos);
  if (Installed("gnuplot")) {
    ASSERT_FALSE(results["charts"].empty());
    std::set<std::string> charts(results["charts"].begin(), results["charts"].end());
    EXPECT_TRUE(charts.contains("growth_value_size.png")) << results["charts"];
    EXPECT_TRUE(charts.contains("growth_connections.png")) << results["charts"];
    for (const json& chart : results["charts"]) {
      std::string path = out.path() + "/" + chart.get<std::string>();
      std::ifstream png(path, std::ios::binary);
      char magic[4] = {};
      png.read(magic, 4);
      EXPECT_EQ(std::string(magic + 1, 3), "PNG") << path;
    }
  }
}

TEST(BenchSmoke, UnknownSectionIsAUsageError) {
  TempDir out;
  CliResult r = RunCli({"bench", "run", "--smoke", "--out", out.path(), "--sections", "nope"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("unknown section 'nope'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ctxstore::testing
