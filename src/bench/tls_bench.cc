// The tls section: the PUT and GET cost of TLS on the native protocol. The
// same cells run against a plaintext server and a TLS server (certificates
// made with the openssl CLI for this run), one after the other in the same
// run, and each TLS row carries its ratio to the plaintext one.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bench/store_load.h"
#include "common/subprocess.h"

namespace ctxstore::bench {
namespace {

// A CA and a server certificate for 127.0.0.1, in dir.
Status MakeCertificates(const std::string& dir) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      "set -e; cd '" + dir + "';" + "openssl req -x509 " + ec +
      " -keyout ca.key -out ca.crt -days 2 -subj /CN=ctxstore-bench-ca;" + "openssl req " + ec +
      " -keyout server.key -out server.csr -subj /CN=ctxstore-bench;" +
      "printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext;" +
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
      "-out server.crt -days 2 -extfile server.ext";
  auto r = RunCommand({"sh", "-c", script}, 60'000);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return Status::Unavailable("openssl failed: " + r->err);
  return Status::Ok();
}

}  // namespace

nlohmann::json RunTls(BenchContext& ctx) {
  nlohmann::json out = {{"rows", nlohmann::json::array()}};
  const std::string certs = ctx.ScratchDir("tls-certs");
  if (Status st = MakeCertificates(certs); !st.ok()) {
    out["skipped"] = "no certificates (is the openssl CLI installed?): " + st.ToString();
    return out;
  }
  const std::vector<uint64_t> sizes = {64 << 10, 4 << 20};
  const std::vector<uint32_t> conns_list = {1, 4};
  const uint64_t memory_bytes = ctx.data_set_bytes * 2 + ctx.cell_max_bytes + (256ull << 20);
  std::map<std::tuple<std::string, uint64_t, uint32_t>, double> plain_gbps;
  for (bool tls : {false, true}) {
    const std::string system = tls ? "ctxstore+tls" : "ctxstore";
    std::vector<std::string> args = {"--memory", std::to_string(memory_bytes), "--disk",
                                     std::to_string(memory_bytes + (1ull << 30))};
    if (tls) {
      args.insert(args.end(),
                  {"--tls-cert", certs + "/server.crt", "--tls-key", certs + "/server.key"});
    }
    Result<StoreServer> server = StartStoreServer(ctx, tls ? "tls" : "tls-plain", args);
    if (server.ok() && tls) server->tls_ca_file = certs + "/ca.crt";
    if (server.ok()) {
      Status warm = WaitUntilWarm(*server);
      if (!warm.ok()) server = warm;
    }
    if (!server.ok()) return {{"error", server.status().ToString()}};
    auto clients = Connect(*server, 4);
    if (!clients.ok()) return {{"error", clients.status().ToString()}};
    auto add = [&](const std::string& op, uint64_t size, uint32_t conns, const LoadResult& r) {
      nlohmann::json row = Row(system, op, size, conns, r);
      const double gbps = row.value("gbps", 0.0);
      auto& plain = plain_gbps[{op, size, conns}];
      if (!tls) plain = gbps;
      if (tls && plain > 0) row["ratio_to_plaintext"] = gbps / plain;
      out["rows"].push_back(std::move(row));
      Report(ctx, r);
    };
    for (uint64_t size : sizes) {
      for (uint32_t conns : conns_list) {
        ctx.progress->Step(system + " PUT " + SizeLabel(size) + " x" + std::to_string(conns));
        if (Status s = (*clients)[0]->Flush(); !s.ok()) ctx.progress->Warn(s.ToString());
        add("put", size, conns,
            MeasurePut(ctx, *clients, "put", size, conns, false, ctx.cell_duration_ms));
      }
      const uint64_t count = std::max<uint64_t>(4, ctx.data_set_bytes / size);
      Status s = Preload(*clients, "get", size, count);
      if (s.ok()) s = (*clients)[0]->Flush();
      if (!s.ok()) return {{"error", s.ToString()}};
      for (uint32_t conns : conns_list) {
        ctx.progress->Step(system + " GET " + SizeLabel(size) + " x" + std::to_string(conns));
        add("get", size, conns,
            MeasureGet(*clients, "get", size, count, conns, ctx.cell_duration_ms,
                       ctx.cell_max_bytes / size));
      }
    }
  }
  return out;
}

}  // namespace ctxstore::bench
