// The catalog: namespaces (their settings, counters and eviction policy),
// pin rules and access tokens, the engine's small durable state beside the
// flash log. It lives in file CATALOG in the data folder (JSON, replaced
// atomically on every change; docs/on-disk-format.md).
//
// A change is written first, as a modified copy, and applied in memory only
// once the file is durable: nothing is served (a namespace, a pin, a token)
// that a crash could take back, and a failed write changes nothing. The
// changes take the engine's mutex and release it during the write; the
// engine serializes them (one change at a time).
//
// Not thread-safe: the engine's mutex guards it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "ctxstore/namespace.h"
#include "ctxstore/status.h"
#include "engine/context/policy.h"
#include "engine/flash/device.h"
#include "engine/index/entry.h"
#include "engine/security/access_token.h"
#include "engine/security/encryption.h"
#include "engine/types.h"

namespace ctxstore::engine {

// A namespace as the engine keeps it: its settings and what it holds now.
struct Namespace {
  uint32_t id = 0;
  std::string name;
  NamespaceConfig config;
  uint64_t objects = 0;
  uint64_t bytes = 0;      // counted against config.quota_bytes
  uint64_t evictions = 0;  // objects evicted to keep within the quota
  std::unique_ptr<EvictionPolicy> policy;

  NamespaceInfo Info() const { return {id, name, config, objects, bytes, evictions}; }
  // The expiry of an object put with ttl_ms at now_ms (0 = never): the
  // namespace's default TTL when it has none, capped by its maximum.
  uint64_t ExpiryOf(uint64_t ttl_ms, uint64_t now_ms) const;
  // The expiry of an object put at now_ms that keeps expires_ms (0 = never)
  // from the version it replaces (KEEPTTL), capped by the maximum as
  // ExpiryOf caps a TTL. The default TTL does not apply: a kept "never" is
  // an expiry the writer asked for, not a missing one.
  uint64_t KeptExpiry(uint64_t expires_ms, uint64_t now_ms) const {
    if (config.max_ttl_ms == 0) return expires_ms;
    const uint64_t cap = SaturatingAdd(now_ms, config.max_ttl_ms);
    return expires_ms == 0 || expires_ms > cap ? cap : expires_ms;
  }
};

// A pin: a key or a group (its objects, present and future) kept from
// eviction, and from DRAM eviction too when dram.
struct PinRule {
  uint64_t expires_ms = 0;  // 0 = never
  bool dram = false;
  bool Lapsed(uint64_t now_ms) const { return expires_ms != 0 && expires_ms <= now_ms; }
};
// By index key: IndexKey(ns, key) for key pins, IndexKey(ns, group) for groups.
using PinRules = std::unordered_map<std::string, PinRule, KeyHash, std::equal_to<>>;

// What the pin rules covering an object say about it.
struct PinState {
  bool pinned = false;
  bool dram = false;
  uint64_t expires_ms = 0;  // 0 = until unpinned
};

class Catalog {
 public:
  // Every namespace gets a policy named eviction_policy (policy.h); keyring
  // holds the keys that namespaces may name for encryption (may be null).
  Catalog(Device* device, std::string data_dir, std::string eviction_policy,
          std::shared_ptr<const Keyring> keyring);

  // Reads the CATALOG file; without one, the store has only the default
  // namespace. Pins that lapsed while the store was down are dropped.
  Status Load(uint64_t now_ms);

  // Namespaces.
  static Status ValidateName(std::string_view name);
  // kNotFound naming the namespace.
  static Status NoSuchNamespace(std::string_view name) {
    return Status::NotFound("namespace '" + std::string(name) + "' does not exist");
  }
  static Status ValidateConfig(const NamespaceConfig& config);
  // kInvalid unless config names no key or one the keyring holds.
  Status CheckKeyName(const NamespaceConfig& config) const;
  Namespace* Find(uint32_t id);
  const Namespace* Find(uint32_t id) const;
  Namespace* Find(std::string_view name);
  const Namespace* Find(std::string_view name) const;
  std::vector<NamespaceInfo> List() const;
  size_t namespace_count() const { return namespaces_.size(); }
  // The key a namespace's new records are sealed with: null when it names
  // none, kKeyUnavailable when it names one the keyring lacks (never fall
  // back to writing in the clear).
  Result<std::shared_ptr<const EncryptionKey>> SealKey(const Namespace& ns) const;

  // Changes. mu is the engine's mutex: held on entry and on return,
  // released while the file is written.
  Result<uint32_t> CreateNamespace(std::string_view name, const NamespaceConfig& config, Mutex* mu)
      REQUIRES(mu);
  Status SetNamespace(uint32_t id, const NamespaceConfig& config, Mutex* mu) REQUIRES(mu);
  // Removes it from the file with its pins and tokens, and those from
  // memory; the namespace itself stays in memory until Drop (the engine
  // first erases its objects, which are linked to it).
  Status DeleteNamespace(uint32_t id, Mutex* mu) REQUIRES(mu);
  void Drop(uint32_t id) { namespaces_.erase(id); }
  // kExists for a taken id, kNoSpace past kMaxTokens, kNotFound when its
  // namespace does not exist.
  Status AddToken(const AccessToken& token, Mutex* mu) REQUIRES(mu);
  Status RevokeToken(std::string_view id, Mutex* mu) REQUIRES(mu);  // kNotFound when unknown
  Status AddPin(const std::string& index_key, bool group, const PinRule& rule, Mutex* mu)
      REQUIRES(mu);
  // kNotFound when there is no such rule; else whether it had lapsed.
  Result<bool> RemovePin(const std::string& index_key, bool group, uint64_t now_ms, Mutex* mu)
      REQUIRES(mu);

  // Tokens.
  static Status ValidateToken(const AccessToken& token);
  const AccessToken* FindToken(std::string_view id) const;
  std::vector<AccessToken> Tokens() const;

  // Pins.
  // kNoSpace when a new pin rule of ns would pass the store's max_pins or
  // the namespace's; a rule that has not lapsed is renewed, not added.
  Status CheckPinLimits(const Namespace& ns, std::string_view index_key, bool group,
                        uint64_t now_ms, uint64_t max_pins) const;
  PinState PinStateOf(const Entry& e, uint64_t now_ms) const;
  // Lapsed pins leave memory; the file keeps them until its next write,
  // and they are ignored when it is read.
  void SweepLapsedPins(uint64_t now_ms);
  size_t pin_rules() const { return key_pins_.size() + group_pins_.size(); }

 private:
  // The durable part: what the file holds.
  struct Contents {
    uint32_t next_namespace_id = 0;
    std::map<uint32_t, std::pair<std::string, NamespaceConfig>> namespaces;
    PinRules key_pins;
    PinRules group_pins;
    AccessTokens tokens;
  };
  Contents Snapshot() const;
  Status Write(const Contents& contents, Mutex* mu) REQUIRES(mu);
  Status Parse(const std::string& path, const std::string& data, uint64_t now_ms);
  // kCorrupt for a namespace from the file that repeats an id or a name,
  // has an id at or past next_namespace_id, or an invalid name.
  Status CheckLoadedNamespace(const std::string& path, uint32_t id, std::string_view name) const;
  Namespace* Add(uint32_t id, std::string name, const NamespaceConfig& config);
  // The namespace's pin rules that have not lapsed.
  uint64_t PinRulesOf(uint32_t ns, uint64_t now_ms) const;
  PinRules& Pins(bool group) { return group ? group_pins_ : key_pins_; }
  const PinRules& Pins(bool group) const { return group ? group_pins_ : key_pins_; }

  Device* const device_;
  const std::string path_;
  const std::string eviction_policy_;
  const std::shared_ptr<const Keyring> keyring_;
  std::map<uint32_t, Namespace> namespaces_;
  uint32_t next_namespace_id_ = 1;
  PinRules key_pins_;
  PinRules group_pins_;
  AccessTokens tokens_;
};

}  // namespace ctxstore::engine
