#include "cli/serve_flags.h"

#include <toml++/toml.h>

#include <charconv>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "common/units.h"
#include "engine/context/policy.h"
#include "engine/security/encryption.h"
#include "server/loopback.h"

namespace ctxstore::cli {
namespace {

// ---- the config file: one setter per key, each false on a value of the wrong type

using Setter = std::function<bool(const toml::node&)>;

Setter TextSetter(std::string* out) {
  return [out](const toml::node& n) {
    if (auto v = n.value<std::string>()) {
      *out = *v;
    } else if (auto i = n.value<int64_t>()) {
      *out = std::to_string(*i);  // memory = 1073741824
    } else {
      return false;
    }
    return true;
  };
}

template <typename Number>
Setter NumberSetter(Number* out) {
  return [out](const toml::node& n) {
    auto v = n.value<int64_t>();
    if (!v || *v < 0) return false;
    *out = static_cast<Number>(*v);
    return true;
  };
}

Setter TextListSetter(std::vector<std::string>* out) {
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
}

Setter FlagSetter(bool* out) {
  return [out](const toml::node& n) {
    auto v = n.value<bool>();
    if (!v) return false;
    *out = *v;
    return true;
  };
}

// Every key a config file may hold: the long option names.
std::map<std::string, Setter> ConfigSetters(ServeFlags* f) {
  return {
      {"data-dir", TextSetter(&f->data_dir)},
      {"listen", TextSetter(&f->listen)},
      {"unix", TextSetter(&f->unix_path)},
      {"unix-mode", TextSetter(&f->unix_mode)},
      {"redis-listen", TextSetter(&f->redis_listen)},
      {"lm-listen", TextSetter(&f->lm_listen)},
      {"lm-namespace", TextSetter(&f->lm_namespace)},
      {"lm-allow-remote", FlagSetter(&f->lm_allow_remote)},
      {"shm-max", TextSetter(&f->shm_max)},
      {"memory", TextSetter(&f->memory)},
      {"disk", TextSetter(&f->disk)},
      {"max-value", TextSetter(&f->max_value)},
      {"segment-size", TextSetter(&f->segment_size)},
      {"sync-interval", TextSetter(&f->sync_interval)},
      {"checkpoint-interval", TextSetter(&f->checkpoint_interval)},
      {"idle-timeout", TextSetter(&f->idle_timeout)},
      {"frame-timeout", TextSetter(&f->frame_timeout)},
      {"hello-timeout", TextSetter(&f->hello_timeout)},
      {"workers", NumberSetter(&f->workers)},
      {"flash-read-threads", NumberSetter(&f->flash_read_threads)},
      {"max-connections", NumberSetter(&f->max_connections)},
      {"max-inflight", TextSetter(&f->max_inflight)},
      {"max-batch-keys", NumberSetter(&f->max_batch_keys)},
      {"max-batch-bytes", TextSetter(&f->max_batch_bytes)},
      {"eviction-policy", TextSetter(&f->eviction_policy)},
      {"max-lease", TextSetter(&f->max_lease)},
      {"max-leases-per-connection", NumberSetter(&f->max_leases_per_connection)},
      {"max-pins", NumberSetter(&f->max_pins)},
      {"log-level", TextSetter(&f->log_level)},
      {"no-auth", FlagSetter(&f->no_auth)},
      {"tls-cert", TextSetter(&f->tls_cert)},
      {"tls-key", TextSetter(&f->tls_key)},
      {"tls-client-ca", TextSetter(&f->tls_client_ca)},
      {"audit-log-size", TextSetter(&f->audit_log_size)},
      {"audit-log-files", NumberSetter(&f->audit_log_files)},
      {"encryption-key", TextListSetter(&f->encryption_keys)},
  };
}

// ---- parsing: each helper names the flag in its error

// A file mode in octal, as chmod takes it ("0660", "600").
Status ParseModeFlag(const std::string& text, const char* flag, uint32_t* out) {
  uint32_t mode = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || mode > 0777) {
    return Status::Invalid(std::string(flag) + ": '" + text + "' is not an octal mode 0..0777");
  }
  *out = mode;
  return Status::Ok();
}

std::string FormatMode(uint32_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "0%03o", mode);
  return text;
}

Status ParseSizeFlag(const std::string& text, const char* flag, uint64_t* out) {
  auto v = ParseSize(text);
  if (!v.ok()) return Status::Invalid(std::string(flag) + ": " + v.status().message());
  *out = *v;
  return Status::Ok();
}

Status ParseDurationFlag(const std::string& text, const char* flag, uint64_t* out) {
  auto v = ParseDurationMs(text);
  if (!v.ok()) return Status::Invalid(std::string(flag) + ": " + v.status().message());
  *out = *v;
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

Status BuildEngineOptions(const ServeFlags& f, engine::EngineOptions* eo) {
  eo->data_dir = f.data_dir;
  CTX_RETURN_IF_ERROR(ParseSizeFlag(f.memory, "--memory", &eo->memory_bytes));
  CTX_RETURN_IF_ERROR(ParseSizeFlag(f.disk, "--disk", &eo->disk_bytes));
  CTX_RETURN_IF_ERROR(ParseSizeFlag(f.max_value, "--max-value", &eo->max_value_bytes));
  if (!f.segment_size.empty())
    CTX_RETURN_IF_ERROR(ParseSizeFlag(f.segment_size, "--segment-size", &eo->segment_bytes));
  CTX_RETURN_IF_ERROR(ParseDurationFlag(f.sync_interval, "--sync-interval", &eo->sync_interval_ms));
  CTX_RETURN_IF_ERROR(ParseDurationFlag(f.checkpoint_interval, "--checkpoint-interval",
                                        &eo->checkpoint_interval_ms));
  CTX_RETURN_IF_ERROR(ParseDurationFlag(f.max_lease, "--max-lease", &eo->max_lease_ms));
  if (engine::NewEvictionPolicy(f.eviction_policy) == nullptr) {
    return Status::Invalid("--eviction-policy: unknown policy '" + f.eviction_policy +
                           "' (one of: " + std::string(engine::kPolicyNames) + ")");
  }
  eo->eviction_policy = f.eviction_policy;
  eo->max_pins = f.max_pins;
  return LoadKeyring(f.encryption_keys, &eo->keyring);
}

Status CheckTlsFlags(const ServeFlags& f) {
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    return Status::Invalid("--tls-cert and --tls-key go together");
  }
  if (!f.tls_client_ca.empty() && f.tls_cert.empty()) {
    return Status::Invalid("--tls-client-ca needs --tls-cert and --tls-key");
  }
  return Status::Ok();
}

Status BuildServerOptions(const ServeFlags& f, server::ServerOptions* so) {
  CTX_RETURN_IF_ERROR(SplitHostPort(f.listen, &so->host, &so->port));
  so->unix_path = f.unix_path;
  so->redis_enabled = !f.redis_listen.empty();
  if (so->redis_enabled) {
    CTX_RETURN_IF_ERROR(SplitHostPort(f.redis_listen, &so->redis_host, &so->redis_port));
  }
  so->lm_enabled = !f.lm_listen.empty();
  if (so->lm_enabled) CTX_RETURN_IF_ERROR(SplitHostPort(f.lm_listen, &so->lm_host, &so->lm_port));
  so->lm_namespace = f.lm_namespace;
  so->lm_allow_remote = f.lm_allow_remote;
  if (so->lm_enabled && !so->lm_allow_remote && !server::IsLoopbackHost(so->lm_host)) {
    return Status::Invalid("--lm-listen: lm:// has no authentication; a non-loopback address (" +
                           so->lm_host + ") needs --lm-allow-remote");
  }
  CTX_RETURN_IF_ERROR(ParseModeFlag(f.unix_mode, "--unix-mode", &so->unix_mode));
  CTX_RETURN_IF_ERROR(ParseSizeFlag(f.shm_max, "--shm-max", &so->shm_max_bytes));
  CTX_RETURN_IF_ERROR(ParseDurationFlag(f.idle_timeout, "--idle-timeout", &so->idle_timeout_ms));
  CTX_RETURN_IF_ERROR(ParseDurationFlag(f.frame_timeout, "--frame-timeout", &so->frame_timeout_ms));
  CTX_RETURN_IF_ERROR(ParseDurationFlag(f.hello_timeout, "--hello-timeout", &so->hello_timeout_ms));
  if (so->hello_timeout_ms == 0) return Status::Invalid("--hello-timeout: must be more than 0");
  CTX_RETURN_IF_ERROR(
      ParseSizeFlag(f.max_batch_bytes, "--max-batch-bytes", &so->limits.max_batch_bytes));
  so->limits.max_batch_keys = f.max_batch_keys;
  so->limits.max_leases_per_connection = f.max_leases_per_connection;
  so->workers = f.workers;
  so->flash_read_threads = f.flash_read_threads;
  so->max_connections = f.max_connections;
  if (!f.max_inflight.empty()) {
    CTX_RETURN_IF_ERROR(ParseSizeFlag(f.max_inflight, "--max-inflight", &so->max_inflight_bytes));
    if (so->max_inflight_bytes == 0) return Status::Invalid("--max-inflight: must be more than 0");
  }
  CTX_RETURN_IF_ERROR(CheckTlsFlags(f));
  so->tls_cert_file = f.tls_cert;
  so->tls_key_file = f.tls_key;
  so->tls_client_ca_file = f.tls_client_ca;
  so->auth = !f.no_auth;
  for (const std::string* host : {&so->host, &so->redis_host}) {
    if (!so->auth && !server::IsLoopbackHost(*host) && (host == &so->host || so->redis_enabled)) {
      return Status::Invalid(
          "--no-auth is allowed only on loopback addresses (127.0.0.1, ::1), not " + *host);
    }
  }
  return Status::Ok();
}

Status BuildAuditLogOptions(const ServeFlags& f, service::AuditLogOptions* ao) {
  ao->dir = f.data_dir;
  CTX_RETURN_IF_ERROR(ParseSizeFlag(f.audit_log_size, "--audit-log-size", &ao->max_file_bytes));
  if (ao->max_file_bytes == 0) return Status::Invalid("--audit-log-size: must be more than 0");
  ao->keep_files = f.audit_log_files;
  return Status::Ok();
}

}  // namespace

ServeFlags DefaultServeFlags() {
  const engine::EngineOptions eo;
  const server::ServerOptions so;
  const service::AuditLogOptions ao;
  ServeFlags f;
  f.data_dir = eo.data_dir;
  f.listen = so.host + ":" + std::to_string(so.port);
  f.unix_mode = FormatMode(so.unix_mode);
  f.lm_namespace = so.lm_namespace;
  f.shm_max = FormatSizeExact(so.shm_max_bytes);
  f.memory = FormatSizeExact(eo.memory_bytes);
  f.disk = FormatSizeExact(eo.disk_bytes);
  f.max_value = FormatSizeExact(eo.max_value_bytes);
  f.sync_interval = FormatDurationMs(eo.sync_interval_ms);
  f.checkpoint_interval = FormatDurationMs(eo.checkpoint_interval_ms);
  f.idle_timeout = FormatDurationMs(so.idle_timeout_ms);
  f.frame_timeout = FormatDurationMs(so.frame_timeout_ms);
  f.hello_timeout = FormatDurationMs(so.hello_timeout_ms);
  f.workers = so.workers;
  f.flash_read_threads = so.flash_read_threads;
  f.max_connections = so.max_connections;
  f.max_batch_keys = so.limits.max_batch_keys;
  f.max_batch_bytes = FormatSizeExact(so.limits.max_batch_bytes);
  f.eviction_policy = eo.eviction_policy;
  f.max_lease = FormatDurationMs(eo.max_lease_ms);
  f.max_leases_per_connection = so.limits.max_leases_per_connection;
  f.max_pins = eo.max_pins;
  f.no_auth = !so.auth;
  f.audit_log_size = FormatSizeExact(ao.max_file_bytes);
  f.audit_log_files = ao.keep_files;
  return f;
}

Status ApplyConfigFile(const CLI::App& cmd, ServeFlags* flags) {
  toml::table table;
  try {
    table = toml::parse_file(flags->config_file);
  } catch (const toml::parse_error& e) {
    return Status::Invalid(flags->config_file + ": " + std::string(e.description()));
  }
  const std::map<std::string, Setter> setters = ConfigSetters(flags);
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    auto it = setters.find(name);
    if (it == setters.end())
      return Status::Invalid(flags->config_file + ": unknown option '" + name + "'");
    if (cmd.count("--" + name) > 0) continue;  // the command line wins
    if (!it->second(node))
      return Status::Invalid(flags->config_file + ": bad value for '" + name + "'");
  }
  return Status::Ok();
}

Status BuildServeOptions(const ServeFlags& flags, ServeOptions* out) {
  CTX_RETURN_IF_ERROR(BuildEngineOptions(flags, &out->engine));
  CTX_RETURN_IF_ERROR(BuildServerOptions(flags, &out->server));
  return BuildAuditLogOptions(flags, &out->audit_log);
}

}  // namespace ctxstore::cli
