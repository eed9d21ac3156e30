#include "bench/resp_lm.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/loadgen.h"
#include "bench/resp_client.h"
#include "ctxstore/client.h"
#include "protocol/lm_message.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;
using protocol::LmCommand;
using protocol::LmRequest;

constexpr uint64_t kValueBytes = 4ull << 20;
constexpr uint32_t kConnections = 4;

Status SendAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    const ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0) return Status::IoError(std::string("lm send: ") + std::strerror(errno));
    p += n;
    len -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status RecvAll(int fd, void* data, size_t len) {
  char* p = static_cast<char*>(data);
  while (len > 0) {
    const ssize_t n = ::recv(fd, p, len, MSG_WAITALL);
    if (n <= 0) return Status::IoError("lm recv: connection closed or failed");
    p += n;
    len -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// One lm:// connection: a blocking socket.
struct LmConn {
  int fd = -1;
  std::vector<uint8_t> buffer;
  ~LmConn() {
    if (fd >= 0) ::close(fd);
  }
  Status Put(const std::string& key, const std::vector<uint8_t>& value) {
    LmRequest req;
    req.command = LmCommand::kPut;
    req.length = static_cast<uint32_t>(value.size());
    req.key = key;
    const protocol::LmRequestBytes bytes = protocol::EncodeLmRequest(req);
    CTX_RETURN_IF_ERROR(SendAll(fd, bytes.data(), bytes.size()));
    return SendAll(fd, value.data(), value.size());
  }
  Result<uint64_t> Get(const std::string& key) {
    LmRequest req;
    req.command = LmCommand::kGet;
    req.key = key;
    const protocol::LmRequestBytes bytes = protocol::EncodeLmRequest(req);
    CTX_RETURN_IF_ERROR(SendAll(fd, bytes.data(), bytes.size()));
    protocol::LmReplyBytes reply;
    CTX_RETURN_IF_ERROR(RecvAll(fd, reply.data(), reply.size()));
    int32_t code = 0, length = 0;
    std::memcpy(&code, reply.data(), 4);
    std::memcpy(&length, reply.data() + 4, 4);
    if (code != protocol::kLmSuccess) return Status::NotFound("lm GET " + key + ": miss");
    if (length < 0 || static_cast<uint64_t>(length) > buffer.size()) {
      return Status::Corrupt("lm GET " + key + ": length " + std::to_string(length));
    }
    CTX_RETURN_IF_ERROR(RecvAll(fd, buffer.data(), static_cast<size_t>(length)));
    return static_cast<uint64_t>(length);
  }
};

Result<std::unique_ptr<LmConn>> ConnectLm(uint16_t port) {
  auto fd = ConnectLoopback(port);
  if (!fd.ok()) return fd.status();
  auto conn = std::make_unique<LmConn>();
  conn->fd = *fd;
  conn->buffer.resize(kValueBytes);
  return conn;
}

std::string Key(const char* prefix, uint64_t n) {
  char key[48];
  std::snprintf(key, sizeof(key), "%s-%06llu", prefix, static_cast<unsigned long long>(n));
  return key;
}

json Figures(const std::vector<LoadResult>& rounds) {
  std::vector<double> ops, gbps, p50, p99;
  uint64_t errors = 0;
  std::string first_error;
  for (const LoadResult& r : rounds) {
    ops.push_back(r.ops_per_s());
    gbps.push_back(r.gbps());
    p50.push_back(r.p50_us);
    p99.push_back(r.p99_us);
    errors += r.errors;
    if (first_error.empty()) first_error = r.first_error;
  }
  json j = {{"ops_per_s", Median(ops)}, {"gbps", Median(gbps)},    {"p50_us", Median(p50)},
            {"p99_us", Median(p99)},    {"rounds", rounds.size()}, {"rounds_ops_per_s", ops},
            {"errors", errors}};
  if (!first_error.empty()) j["first_error"] = first_error;
  return j;
}

// The connections of both drivers, and `keys` values of 4 MiB PUT through
// each ("lm-N" over lm://, "native-N" over the native protocol).
Status Prepare(const StoreServer& server, uint16_t lm_port, uint64_t keys,
               std::vector<std::unique_ptr<LmConn>>& lm,
               std::vector<std::unique_ptr<Client>>& native) {
  ClientOptions o;
  o.port = server.port;
  o.token = server.token;
  o.client_name = "bench-lm-native";
  for (uint32_t c = 0; c < kConnections; ++c) {
    auto l = ConnectLm(lm_port);
    if (!l.ok()) return Status(l.status().code(), "lm connect: " + l.status().message());
    auto n = Client::Connect(o);
    if (!n.ok()) return Status(n.status().code(), "connect: " + n.status().message());
    lm.push_back(std::move(*l));
    native.push_back(std::move(*n));
  }
  std::vector<uint8_t> value(kValueBytes);
  FillValue(value.data(), value.size(), 5);
  for (uint64_t k = 0; k < keys; ++k) {
    CTX_RETURN_IF_ERROR(lm[0]->Put(Key("lm", k), value));
    CTX_RETURN_IF_ERROR(native[0]->Put(Key("native", k), std::span<const uint8_t>(value)));
  }
  // lm:// PUTs have no reply: a GET of the last one on the same connection
  // comes after it.
  auto got = lm[0]->Get(Key("lm", keys - 1));
  if (!got.ok()) return Status(got.status().code(), "lm GET after PUT: " + got.status().message());
  if (*got != kValueBytes) return Status::Corrupt("lm GET after PUT: " + std::to_string(*got));
  return Status::Ok();
}

}  // namespace

json LmGetCell(BenchContext& ctx, const StoreServer& server, uint16_t lm_port) {
  json row = {{"cell", "GET 4 MiB x4 lm:// / native GET"},
              {"op", "lm_get"},
              {"value_bytes", kValueBytes},
              {"connections", kConnections},
              {"pipeline", 1}};
  const uint64_t keys = std::max<uint64_t>(kConnections, ctx.data_set_bytes / kValueBytes / 2);
  row["keys"] = keys;
  ctx.progress->Step("resp: lm:// and native GET 4 MiB x4, " + std::to_string(keys) + " keys");
  std::vector<std::unique_ptr<LmConn>> lm;
  std::vector<std::unique_ptr<Client>> native;
  if (Status st = Prepare(server, lm_port, keys, lm, native); !st.ok()) {
    row["error"] = st.ToString();
    return row;
  }
  std::vector<std::vector<uint8_t>> buffers(kConnections, std::vector<uint8_t>(kValueBytes));
  LoadSpec spec;
  spec.workers = kConnections;
  spec.duration_ms = ctx.cell_duration_ms;
  spec.rounds = 1;
  const LoadOp lm_op = [&](uint32_t w, uint64_t i) {
    return lm[w]->Get(Key("lm", (i * kConnections + w) % keys));
  };
  const LoadOp native_op = [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
    auto got = native[w]->GetInto(Key("native", (i * kConnections + w) % keys),
                                  std::span<uint8_t>(buffers[w]));
    if (!got.ok()) return got.status();
    return static_cast<uint64_t>(*got);
  };
  std::vector<LoadResult> native_rounds, lm_rounds;
  const int rounds = ctx.options.smoke ? 1 : 3;
  for (int r = 0; r < rounds; ++r) {
    native_rounds.push_back(RunLoad(spec, native_op));
    lm_rounds.push_back(RunLoad(spec, lm_op));
  }
  row["native"] = Figures(native_rounds);
  row["lm"] = Figures(lm_rounds);
  const double a = row["lm"]["ops_per_s"].get<double>();
  const double b = row["native"]["ops_per_s"].get<double>();
  row["ratio"] = b > 0 ? json(a / b) : json(nullptr);
  row["ratio_of"] = "ops_per_s";
  char line[128];
  std::snprintf(line, sizeof(line), "native %.2f GB/s, lm:// %.2f GB/s (%.2fx)",
                row["native"]["gbps"].get<double>(), row["lm"]["gbps"].get<double>(),
                b > 0 ? a / b : 0.0);
  ctx.progress->Result(line);
  return row;
}

}  // namespace ctxstore::bench
