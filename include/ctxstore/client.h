// C++ client for ctxstore's native protocol (docs/protocol.md).
//
// A Client is safe to use from many threads: each call borrows a connection
// from an internal pool (opening one when none is idle) and returns it after
// the reply, so concurrent calls run on separate connections. Errors are
// values: every call returns a Status or a Result.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  std::string client_name = "ctxstore-cpp";
  uint32_t connect_timeout_ms = 5000;
  uint32_t io_timeout_ms = 60000;      // per send/receive; the call fails with kUnavailable
  uint32_t max_idle_connections = 16;  // kept open in the pool for reuse
  bool verify_checksums = true;        // check each GET's XXH3 before returning bytes
};

struct PutOptions {
  bool sync = false;       // return only once the value is on flash and fdatasync'ed
  bool overwrite = false;  // replace an existing value instead of answering kExists
};

struct PutItem {
  std::string_view key;
  std::span<const uint8_t> value;
};

struct GetItem {
  StatusCode code = StatusCode::kOk;  // kOk, kNotFound, kCorrupt, kIoError
  std::string value;                  // set when code is kOk
};

struct ServerInfo {
  uint16_t protocol_version = 0;
  uint64_t max_value_bytes = 0;
  uint32_t max_batch_keys = 0;
  uint64_t max_batch_bytes = 0;
  std::string server_version;
};

class Client {
 public:
  // Connects (HELLO included) so that a bad address fails here, not later.
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ServerInfo& server_info() const;

  // kExists when present and !overwrite.
  Status Put(std::string_view key, std::span<const uint8_t> value, const PutOptions& opts = {});
  Status Put(std::string_view key, std::string_view value, const PutOptions& opts = {});

  // The whole value, or kNotFound.
  Result<std::string> Get(std::string_view key);
  // Receives the value straight into buffer and returns its length. A value
  // larger than the buffer yields kTooLarge (message names the size needed).
  Result<size_t> GetInto(std::string_view key, std::span<uint8_t> buffer);

  // The value's length, or kNotFound.
  Result<uint64_t> Exists(std::string_view key);
  Status Delete(std::string_view key, bool sync = false);

  // Per-item statuses in request order.
  Result<std::vector<StatusCode>> BatchPut(std::span<const PutItem> items,
                                           const PutOptions& opts = {});
  Result<std::vector<GetItem>> BatchGet(std::span<const std::string> keys);
  Result<std::vector<bool>> BatchExists(std::span<const std::string> keys);
  // Number of leading keys present (longest stored prefix).
  Result<uint32_t> MatchPrefix(std::span<const std::string> keys);

  // Returns once everything acknowledged before it is on flash and synced.
  Status Flush();
  // Server statistics as a JSON object (see docs/protocol.md).
  Result<std::string> StatsJson();

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxstore
