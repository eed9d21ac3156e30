// `ctxstore serve`: runs the store until SIGINT or SIGTERM, then flushes,
// checkpoints and exits 0.
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/heap.h"
#include "common/units.h"
#include "engine/security/encryption.h"
#include "engine/engine.h"
#include "server/audit_log.h"
#include "server/auth.h"
#include "server/server.h"

namespace ctxstore::cli {
namespace {

struct ServeFlags {
  std::string data_dir = "data";
  std::string listen = "127.0.0.1:7070";
  std::string memory = "1GiB";
  std::string disk = "4GiB";
  std::string max_value = "256MiB";
  std::string segment_size;  // empty: automatic
  std::string sync_interval = "1s";
  std::string checkpoint_interval = "60s";
  std::string idle_timeout = "300s";
  std::string frame_timeout = "60s";
  std::string hello_timeout = "10s";
  unsigned workers = 0;
  unsigned flash_read_threads = 8;
  uint32_t max_connections = 4096;
  std::string max_inflight;  // empty: half of --memory
  uint32_t max_batch_keys = 1024;
  std::string max_batch_bytes = "1GiB";
  std::string eviction_policy = "lru";
  std::string max_lease = "60s";
  uint32_t max_leases_per_connection = 256;
  uint64_t max_pins = 100'000;
  std::string log_level = "info";
  std::string config_file;
  bool no_auth = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string audit_log_size = "64MiB";
  uint32_t audit_log_files = 4;
  std::vector<std::string> encryption_keys;  // NAME=FILE each
};

// Fills every option not given on the command line from a TOML file whose
// keys are the long option names (memory = "8GiB", workers = 4).
Status ApplyConfigFile(const CLI::App& cmd, ServeFlags* f) {
  toml::table table;
  try {
    table = toml::parse_file(f->config_file);
  } catch (const toml::parse_error& e) {
    return Status::Invalid(f->config_file + ": " + std::string(e.description()));
  }
  using Setter = std::function<bool(const toml::node&)>;
  auto str = [](std::string* out) -> Setter {
    return [out](const toml::node& n) {
      if (auto v = n.value<std::string>())
        *out = *v;
      else if (auto i = n.value<int64_t>())
        *out = std::to_string(*i);
      else
        return false;
      return true;
    };
  };
  auto num = [](auto* out) -> Setter {
    return [out](const toml::node& n) {
      auto v = n.value<int64_t>();
      if (!v || *v < 0) return false;
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(*v);
      return true;
    };
  };
  auto strs = [](std::vector<std::string>* out) -> Setter {
    return [out](const toml::node& n) {
      const toml::array* a = n.as_array();
      if (a == nullptr) return false;
      std::vector<std::string> v;
      for (const toml::node& item : *a) {
        auto s = item.value<std::string>();
        if (!s) return false;
        v.push_back(*s);
      }
      *out = std::move(v);
      return true;
    };
  };
  auto flag = [](bool* out) -> Setter {
    return [out](const toml::node& n) {
      auto v = n.value<bool>();
      if (!v) return false;
      *out = *v;
      return true;
    };
  };
  const std::map<std::string, Setter> setters = {
      {"data-dir", str(&f->data_dir)},
      {"listen", str(&f->listen)},
      {"memory", str(&f->memory)},
      {"disk", str(&f->disk)},
      {"max-value", str(&f->max_value)},
      {"segment-size", str(&f->segment_size)},
      {"sync-interval", str(&f->sync_interval)},
      {"checkpoint-interval", str(&f->checkpoint_interval)},
      {"idle-timeout", str(&f->idle_timeout)},
      {"frame-timeout", str(&f->frame_timeout)},
      {"hello-timeout", str(&f->hello_timeout)},
      {"workers", num(&f->workers)},
      {"flash-read-threads", num(&f->flash_read_threads)},
      {"max-connections", num(&f->max_connections)},
      {"max-inflight", str(&f->max_inflight)},
      {"max-batch-keys", num(&f->max_batch_keys)},
      {"max-batch-bytes", str(&f->max_batch_bytes)},
      {"eviction-policy", str(&f->eviction_policy)},
      {"max-lease", str(&f->max_lease)},
      {"max-leases-per-connection", num(&f->max_leases_per_connection)},
      {"max-pins", num(&f->max_pins)},
      {"log-level", str(&f->log_level)},
      {"no-auth", flag(&f->no_auth)},
      {"tls-cert", str(&f->tls_cert)},
      {"tls-key", str(&f->tls_key)},
      {"tls-client-ca", str(&f->tls_client_ca)},
      {"audit-log-size", str(&f->audit_log_size)},
      {"audit-log-files", num(&f->audit_log_files)},
      {"encryption-key", strs(&f->encryption_keys)},
  };
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    auto it = setters.find(name);
    if (it == setters.end())
      return Status::Invalid(f->config_file + ": unknown option '" + name + "'");
    if (cmd.count("--" + name) > 0) continue;  // the command line wins
    if (!it->second(node))
      return Status::Invalid(f->config_file + ": bad value for '" + name + "'");
  }
  return Status::Ok();
}

Status SplitHostPort(const std::string& s, std::string* host, uint16_t* port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Status::Invalid("expected HOST:PORT, got '" + s + "'");
  *host = s.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  try {
    size_t used = 0;
    unsigned long p = std::stoul(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || p > 65535) throw std::out_of_range("port");
    *port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return Status::Invalid("bad port in '" + s + "'");
  }
  return Status::Ok();
}

// Loads each --encryption-key NAME=FILE into one keyring (null when none
// is given); the first bad entry is reported.
Status LoadKeyring(const std::vector<std::string>& entries,
                   std::shared_ptr<const engine::Keyring>* out) {
  if (entries.empty()) return Status::Ok();
  auto keyring = std::make_shared<engine::Keyring>();
  for (const std::string& entry : entries) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      return Status::Invalid("--encryption-key: expected NAME=FILE, got '" + entry + "'");
    }
    auto key = engine::LoadKeyFile(entry.substr(0, eq), entry.substr(eq + 1));
    Status st = key.ok() ? keyring->Add(*key) : key.status();
    if (!st.ok()) return Status::Invalid("--encryption-key " + entry + ": " + st.message());
  }
  *out = std::move(keyring);
  return Status::Ok();
}

// Parses every size and duration flag; the first bad one is reported.
Status BuildOptions(const ServeFlags& f, engine::EngineOptions* eo, server::ServerOptions* so,
                    server::AuditLogOptions* ao) {
  eo->data_dir = f.data_dir;
  auto size = [](const std::string& text, const char* flag, uint64_t* out) -> Status {
    auto v = ParseSize(text);
    if (!v.ok()) return Status::Invalid(std::string(flag) + ": " + v.status().message());
    *out = *v;
    return Status::Ok();
  };
  auto duration = [](const std::string& text, const char* flag, uint64_t* out) -> Status {
    auto v = ParseDurationMs(text);
    if (!v.ok()) return Status::Invalid(std::string(flag) + ": " + v.status().message());
    *out = *v;
    return Status::Ok();
  };
  CTX_RETURN_IF_ERROR(size(f.memory, "--memory", &eo->memory_bytes));
  CTX_RETURN_IF_ERROR(size(f.disk, "--disk", &eo->disk_bytes));
  CTX_RETURN_IF_ERROR(size(f.max_value, "--max-value", &eo->max_value_bytes));
  if (!f.segment_size.empty())
    CTX_RETURN_IF_ERROR(size(f.segment_size, "--segment-size", &eo->segment_bytes));
  CTX_RETURN_IF_ERROR(duration(f.sync_interval, "--sync-interval", &eo->sync_interval_ms));
  CTX_RETURN_IF_ERROR(
      duration(f.checkpoint_interval, "--checkpoint-interval", &eo->checkpoint_interval_ms));
  CTX_RETURN_IF_ERROR(SplitHostPort(f.listen, &so->host, &so->port));
  CTX_RETURN_IF_ERROR(duration(f.idle_timeout, "--idle-timeout", &so->idle_timeout_ms));
  CTX_RETURN_IF_ERROR(duration(f.frame_timeout, "--frame-timeout", &so->frame_timeout_ms));
  CTX_RETURN_IF_ERROR(duration(f.hello_timeout, "--hello-timeout", &so->hello_timeout_ms));
  if (so->hello_timeout_ms == 0) return Status::Invalid("--hello-timeout: must be more than 0");
  CTX_RETURN_IF_ERROR(size(f.max_batch_bytes, "--max-batch-bytes", &so->limits.max_batch_bytes));
  CTX_RETURN_IF_ERROR(duration(f.max_lease, "--max-lease", &eo->max_lease_ms));
  if (engine::NewEvictionPolicy(f.eviction_policy) == nullptr) {
    return Status::Invalid("--eviction-policy: unknown policy '" + f.eviction_policy +
                           "' (one of: " + std::string(engine::kPolicyNames) + ")");
  }
  eo->eviction_policy = f.eviction_policy;
  eo->max_pins = f.max_pins;
  CTX_RETURN_IF_ERROR(LoadKeyring(f.encryption_keys, &eo->keyring));
  so->limits.max_leases_per_connection = f.max_leases_per_connection;
  so->workers = f.workers;
  so->flash_read_threads = f.flash_read_threads;
  so->max_connections = f.max_connections;
  if (!f.max_inflight.empty()) {
    CTX_RETURN_IF_ERROR(size(f.max_inflight, "--max-inflight", &so->max_inflight_bytes));
    if (so->max_inflight_bytes == 0) return Status::Invalid("--max-inflight: must be more than 0");
  }
  so->limits.max_batch_keys = f.max_batch_keys;
  so->auth = !f.no_auth;
  so->tls_cert_file = f.tls_cert;
  so->tls_key_file = f.tls_key;
  so->tls_client_ca_file = f.tls_client_ca;
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    return Status::Invalid("--tls-cert and --tls-key go together");
  }
  if (!f.tls_client_ca.empty() && f.tls_cert.empty()) {
    return Status::Invalid("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (!so->auth && !server::IsLoopbackHost(so->host)) {
    return Status::Invalid(
        "--no-auth is allowed only on a loopback address (127.0.0.1, ::1), not " + so->host);
  }
  ao->dir = f.data_dir;
  CTX_RETURN_IF_ERROR(size(f.audit_log_size, "--audit-log-size", &ao->max_file_bytes));
  if (ao->max_file_bytes == 0) return Status::Invalid("--audit-log-size: must be more than 0");
  ao->keep_files = f.audit_log_files;
  return Status::Ok();
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

int RunServe(const CLI::App& cmd, ServeFlags flags) {
  if (!flags.config_file.empty()) {
    if (Status st = ApplyConfigFile(cmd, &flags); !st.ok()) {
      std::fprintf(stderr, "ctxstore: %s\n", st.ToString().c_str());
      return kExitUsage;
    }
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("ctxstore"));
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  TuneHeapForServer();
  engine::EngineOptions eo;
  server::ServerOptions so;
  server::AuditLogOptions ao;
  if (Status st = BuildOptions(flags, &eo, &so, &ao); !st.ok()) {
    std::fprintf(stderr, "ctxstore: %s\n", st.ToString().c_str());
    return kExitUsage;
  }
  // Signals go to one waiting thread, not to whichever thread they hit.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  for (const std::string& entry : flags.encryption_keys) {
    auto key = eo.keyring->FindByName(entry.substr(0, entry.find('=')));
    spdlog::info("encryption key {} loaded (id {:016x})", key->name, key->id);
  }

  auto engine = engine::Engine::Open(eo);
  if (!engine.ok()) {
    spdlog::error("cannot open the store in {}: {}", eo.data_dir, engine.status().ToString());
    return kExitError;
  }
  WarnAboutMissingKeys(**engine);
  auto audit = server::AuditLog::Open(ao);
  if (!audit.ok()) {
    spdlog::error("cannot open the audit log: {}", audit.status().ToString());
    return kExitError;
  }
  so.audit_log = audit->get();
  if (so.auth) {
    auto created = server::EnsureAdminToken(engine->get(), eo.data_dir);
    if (!created.ok()) {
      spdlog::error("cannot create the admin token: {}", created.status().ToString());
      return kExitError;
    }
    if (*created) {
      nlohmann::json fields = {{"file", eo.data_dir + "/" + server::kAdminTokenFileName}};
      (*audit)->Record("admin_token_created", std::move(fields));
    }
  } else {
    spdlog::warn("authentication is off (--no-auth): every client may do everything");
  }
  server::Server server(engine->get(), so);
  if (Status st = server.Start(); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return kExitError;
  }
  const engine::EngineOptions& o = (*engine)->options();
  spdlog::info("data {} | DRAM {} | flash {} | max value {}", o.data_dir,
               FormatSize(o.memory_bytes), FormatSize(o.disk_bytes), FormatSize(o.max_value_bytes));
  spdlog::info("ready: listening on {}:{}{}", so.host, server.port(),
               so.tls_cert_file.empty()        ? ""
               : so.tls_client_ca_file.empty() ? " (TLS)"
                                               : " (TLS, client certificates required)");

  std::thread waiter([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    server.Stop();
  });
  server.Run();
  waiter.join();
  Status st = (*engine)->Close();
  if (!st.ok()) {
    spdlog::error("shutdown: {}", st.ToString());
    return kExitError;
  }
  spdlog::info("stopped cleanly");
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd =
      app.add_subcommand("serve", "Run the store (DRAM + flash) and serve the native protocol");
  cmd->add_option("--config", flags->config_file,
                  "TOML file of options (keys are the long option names); the command line wins");
  cmd->add_option("--data-dir", flags->data_dir, "Folder for segments, checkpoint and superblock")
      ->capture_default_str();
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0: any free port)")
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
  cmd->add_option(
         "--eviction-policy", flags->eviction_policy,
         "Order of eviction within a namespace quota: lru, s3fifo, lru-ghost, lru-doorkeeper")
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
  cmd->callback([cmd, flags, exit_code] { *exit_code = RunServe(*cmd, *flags); });
}

}  // namespace ctxstore::cli
