// The options of `ctxstore serve` as typed (command line or TOML config
// file), and their translation into the options structs of the engine, the
// server and the audit log. Every default comes from those structs
// (DefaultServeFlags), so that each is defined once.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ctxstore/status.h"
#include "engine/engine.h"
#include "server/server.h"
#include "service/audit_log.h"

namespace ctxstore::cli {

// Sizes and durations stay text until BuildServeOptions parses them, so that
// a bad value is reported with its flag.
struct ServeFlags {
  std::string data_dir;
  std::string listen;  // HOST:PORT
  std::string unix_path;  // empty: no Unix-domain socket
  std::string unix_mode;  // octal, "0660"
  std::string redis_listen;  // HOST:PORT; empty: no Redis front end
  std::string lm_listen;     // HOST:PORT; empty: no lm://
  std::string lm_namespace;
  bool lm_allow_remote = false;
  std::string shm_max;
  std::string memory;
  std::string disk;
  std::string max_value;
  std::string segment_size;  // empty: automatic
  std::string sync_interval;
  std::string checkpoint_interval;
  std::string idle_timeout;
  std::string frame_timeout;
  std::string hello_timeout;
  unsigned workers = 0;
  unsigned flash_read_threads = 0;
  uint32_t max_connections = 0;
  std::string max_inflight;  // empty: half of --memory
  uint32_t max_batch_keys = 0;
  std::string max_batch_bytes;
  std::string eviction_policy;
  std::string max_lease;
  uint32_t max_leases_per_connection = 0;
  uint64_t max_pins = 0;
  std::string log_level = "info";  // spdlog's; no options struct holds it
  std::string config_file;
  bool no_auth = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string audit_log_size;
  uint32_t audit_log_files = 0;
  std::vector<std::string> encryption_keys;  // NAME=FILE each
};

// The flags as they are when none is given: the defaults of EngineOptions,
// ServerOptions (and its protocol::Limits) and AuditLogOptions, written as
// a user would type them ("1GiB", "60s").
ServeFlags DefaultServeFlags();

// Fills every option not given on the command line (cmd) from the TOML file
// flags->config_file, whose keys are the long option names (memory =
// "8GiB", workers = 4).
Status ApplyConfigFile(const CLI::App& cmd, ServeFlags* flags);

// What `serve` runs with.
struct ServeOptions {
  engine::EngineOptions engine;
  server::ServerOptions server;
  service::AuditLogOptions audit_log;
};

// Parses and checks every flag; the first bad one is reported by name.
Status BuildServeOptions(const ServeFlags& flags, ServeOptions* out);

}  // namespace ctxstore::cli
