// `ctxstore serve`: runs the store until SIGINT or SIGTERM, then flushes,
// checkpoints and exits 0. Its options and their defaults: serve_flags.h.
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/serve_flags.h"
#include "common/heap.h"
#include "common/units.h"
#include "engine/engine.h"
#include "engine/security/encryption.h"
#include "server/server.h"
#include "service/audit_log.h"
#include "service/auth.h"

namespace ctxstore::cli {
namespace {

// Reads the config file (if any) under the command line, sets up logging
// and builds the options; false after printing why not.
bool PrepareOptions(const CLI::App& cmd, ServeFlags flags, ServeOptions* options) {
  if (!flags.config_file.empty()) {
    if (Status st = ApplyConfigFile(cmd, &flags); !st.ok()) {
      std::fprintf(stderr, "ctxstore: %s\n", st.ToString().c_str());
      return false;
    }
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("ctxstore"));
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  if (Status st = BuildServeOptions(flags, options); !st.ok()) {
    std::fprintf(stderr, "ctxstore: %s\n", st.ToString().c_str());
    return false;
  }
  if (const auto& keyring = options->engine.keyring; keyring != nullptr) {
    for (const std::string& entry : flags.encryption_keys) {
      auto key = keyring->FindByName(entry.substr(0, entry.find('=')));
      spdlog::info("encryption key {} loaded (id {:016x})", key->name, key->id);
    }
  }
  return true;
}

// Signals go to one waiting thread, not to whichever thread they hit.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The catalog may name keys this start was not given: those namespaces'
// PUTs, and reads of what they sealed, fail until the key is back.
void WarnAboutMissingKeys(const engine::Engine& engine) {
  const auto& keyring = engine.options().keyring;
  for (const engine::NamespaceInfo& ns : engine.ListNamespaces()) {
    const std::string& name = ns.config.encryption_key;
    if (name.empty() || (keyring != nullptr && keyring->FindByName(name) != nullptr)) continue;
    spdlog::warn(
        "namespace '{}' is encrypted with key '{}', which is not loaded: its PUTs and reads of its "
        "sealed objects fail (KEY_UNAVAILABLE) until serve is given --encryption-key {}=FILE",
        ns.name, name, name);
  }
}

// With authentication on, the first start writes an admin token to the data
// folder (and audits it); false when that failed.
bool PrepareAuthentication(engine::Engine* engine, const ServeOptions& options,
                           service::AuditLog* audit) {
  if (!options.server.auth) {
    spdlog::warn("authentication is off (--no-auth): every client may do everything");
    return true;
  }
  const std::string& data_dir = options.engine.data_dir;
  auto created = service::EnsureAdminToken(engine, data_dir);
  if (!created.ok()) {
    spdlog::error("cannot create the admin token: {}", created.status().ToString());
    return false;
  }
  if (*created) {
    nlohmann::json fields = {{"file", data_dir + "/" + service::kAdminTokenFileName}};
    audit->Record("admin_token_created", std::move(fields));
  }
  return true;
}

void LogReady(const engine::Engine& engine, const server::ServerOptions& so,
              const server::Server& server) {
  const uint16_t port = server.port();
  const engine::EngineOptions& o = engine.options();
  spdlog::info("data {} | DRAM {} | flash {} | max value {}", o.data_dir,
               FormatSize(o.memory_bytes), FormatSize(o.disk_bytes), FormatSize(o.max_value_bytes));
  if (so.redis_enabled) {
    spdlog::info("redis: listening on {}:{}{}", so.redis_host, server.redis_port(),
                 so.tls_cert_file.empty() ? "" : " (TLS)");
  }
  if (so.lm_enabled) {
    spdlog::info("lm: listening on {}:{} (namespace {})", so.lm_host, server.lm_port(),
                 so.lm_namespace);
  }
  spdlog::info("ready: listening on {}:{}{}{}", so.host, port,
               so.tls_cert_file.empty()        ? ""
               : so.tls_client_ca_file.empty() ? " (TLS)"
                                               : " (TLS, client certificates required)",
               so.unix_path.empty() ? "" : " and unix://" + so.unix_path);
}

// Serves until SIGINT or SIGTERM, then closes the engine (flush, checkpoint).
int ServeUntilStopped(engine::Engine* engine, const server::ServerOptions& so, sigset_t signals) {
  server::Server server(engine, so);
  if (Status st = server.Start(); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return kExitError;
  }
  LogReady(*engine, so, server);
  std::thread waiter([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    server.Stop();
  });
  server.Run();
  waiter.join();
  if (Status st = engine->Close(); !st.ok()) {
    spdlog::error("shutdown: {}", st.ToString());
    return kExitError;
  }
  spdlog::info("stopped cleanly");
  return kExitOk;
}

int RunServe(const CLI::App& cmd, const ServeFlags& flags, engine::Device* device) {
  ServeOptions options;
  if (!PrepareOptions(cmd, flags, &options)) return kExitUsage;
  options.engine.device = device;
  TuneHeapForServer();
  const sigset_t signals = BlockStopSignals();
  auto engine = engine::Engine::Open(options.engine);
  if (!engine.ok()) {
    spdlog::error("cannot open the store in {}: {}", options.engine.data_dir,
                  engine.status().ToString());
    return kExitError;
  }
  WarnAboutMissingKeys(**engine);
  auto audit = service::AuditLog::Open(options.audit_log);
  if (!audit.ok()) {
    spdlog::error("cannot open the audit log: {}", audit.status().ToString());
    return kExitError;
  }
  options.server.audit_log = audit->get();
  if (!PrepareAuthentication(engine->get(), options, audit->get())) return kExitError;
  return ServeUntilStopped(engine->get(), options.server, signals);
}

// ---- the options, by concern; defaults are the flags' values (DefaultServeFlags)

void AddStorageOptions(CLI::App* cmd, ServeFlags* flags) {
  cmd->add_option("--data-dir", flags->data_dir, "Folder for segments, checkpoint and superblock")
      ->capture_default_str();
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--unix", flags->unix_path,
                  "Also serve on a Unix-domain socket at this path, for clients on this machine "
                  "(never TLS; a stale socket file is replaced)");
  cmd->add_option("--redis-listen", flags->redis_listen,
                  "Also speak the Redis protocol (RESP2/RESP3) on HOST:PORT, same tokens and TLS "
                  "(docs/compatibility.md); off unless given");
  cmd->add_option("--lm-listen", flags->lm_listen,
                  "Also speak LMCache's lm:// protocol on HOST:PORT (no authentication: loopback "
                  "only unless --lm-allow-remote; docs/compatibility.md); off unless given");
  cmd->add_option("--lm-namespace", flags->lm_namespace,
                  "The namespace every lm:// connection reads and writes")
      ->capture_default_str();
  cmd->add_flag("--lm-allow-remote", flags->lm_allow_remote,
                "Let --lm-listen bind a non-loopback address: anyone who can reach it may read "
                "and write its namespace");
  cmd->add_option("--unix-mode", flags->unix_mode,
                  "Mode of the --unix socket file, in octal: who may connect")
      ->capture_default_str();
  cmd->add_option("--shm-max", flags->shm_max,
                  "Clients' shared memory mapped at once, all --unix connections together")
      ->capture_default_str();
  cmd->add_option("--memory", flags->memory, "DRAM tier size, e.g. 512MiB, 4GiB")
      ->capture_default_str();
  cmd->add_option("--disk", flags->disk, "Flash tier size (all segment files together)")
      ->capture_default_str();
  cmd->add_option("--max-value", flags->max_value, "Largest value accepted")->capture_default_str();
  cmd->add_option("--segment-size", flags->segment_size,
                  "Segment file size (default: disk/16, 1 MiB..256 MiB; at most 1 GiB)");
  cmd->add_option("--sync-interval", flags->sync_interval,
                  "Longest time written data stays unsynced")
      ->capture_default_str();
  cmd->add_option("--checkpoint-interval", flags->checkpoint_interval,
                  "Time between index checkpoints")
      ->capture_default_str();
}

void AddConnectionOptions(CLI::App* cmd, ServeFlags* flags) {
  cmd->add_option("--idle-timeout", flags->idle_timeout, "Close connections idle this long")
      ->capture_default_str();
  cmd->add_option("--frame-timeout", flags->frame_timeout,
                  "Close connections that take longer to send one frame")
      ->capture_default_str();
  cmd->add_option("--hello-timeout", flags->hello_timeout,
                  "Close connections that have not authenticated (HELLO) within this")
      ->capture_default_str();
  cmd->add_option("--workers", flags->workers, "Network worker threads (0: one per core)")
      ->capture_default_str();
  cmd->add_option("--flash-read-threads", flags->flash_read_threads,
                  "Threads on which GETs of flash-only objects wait for the device (0: on the "
                  "network threads)")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->max_connections, "Connections served at once")
      ->capture_default_str();
  cmd->add_option("--max-inflight", flags->max_inflight,
                  "Value bytes PUTs still being received may hold at once, all connections "
                  "together; past it PUTs answer BUSY (default: half of --memory)");
  cmd->add_option("--max-batch-keys", flags->max_batch_keys, "Keys per batch request")
      ->capture_default_str();
  cmd->add_option("--max-batch-bytes", flags->max_batch_bytes,
                  "Bytes per BATCH_PUT request or BATCH_GET reply")
      ->capture_default_str();
}

void AddContextOptions(CLI::App* cmd, ServeFlags* flags) {
  cmd->add_option(
         "--eviction-policy", flags->eviction_policy,
         "Order of eviction within a namespace quota: " + std::string(engine::kPolicyNames))
      ->capture_default_str();
  cmd->add_option("--max-lease", flags->max_lease, "Longest MATCH_PREFIX lease")
      ->capture_default_str();
  cmd->add_option("--max-leases-per-connection", flags->max_leases_per_connection,
                  "Outstanding leases one connection may hold")
      ->capture_default_str();
  cmd->add_option("--max-pins", flags->max_pins, "Pin rules (keys and groups) in all")
      ->capture_default_str();
  cmd->add_option("--log-level", flags->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
}

void AddSecurityOptions(CLI::App* cmd, ServeFlags* flags) {
  cmd->add_option("--tls-cert", flags->tls_cert,
                  "PEM certificate chain: serve TLS only (plaintext clients are refused)");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--tls-client-ca", flags->tls_client_ca,
                  "PEM CA: require client certificates signed by it (mutual TLS)");
  cmd->add_flag("--no-auth", flags->no_auth,
                "Accept every client without a token (loopback listeners only)");
  cmd->add_option("--audit-log-size", flags->audit_log_size,
                  "Rotate DATA_DIR/audit.log past this size")
      ->capture_default_str();
  cmd->add_option("--audit-log-files", flags->audit_log_files,
                  "Rotated audit logs kept (audit.log.1 ... audit.log.N)")
      ->capture_default_str();
  cmd->add_option("--encryption-key", flags->encryption_keys,
                  "NAME=FILE: load a key (made by `ctxstore keygen FILE`) that namespaces may "
                  "name to encrypt their values on flash; repeat for several")
      ->allow_extra_args(false);
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* exit_code, engine::Device* device) {
  auto flags = std::make_shared<ServeFlags>(DefaultServeFlags());
  CLI::App* cmd =
      app.add_subcommand("serve", "Run the store (DRAM + flash) and serve the native protocol");
  cmd->add_option("--config", flags->config_file,
                  "TOML file of options (keys are the long option names); the command line wins");
  AddStorageOptions(cmd, flags.get());
  AddConnectionOptions(cmd, flags.get());
  AddContextOptions(cmd, flags.get());
  AddSecurityOptions(cmd, flags.get());
  cmd->callback([cmd, flags, exit_code, device] { *exit_code = RunServe(*cmd, *flags, device); });
}

}  // namespace ctxstore::cli
