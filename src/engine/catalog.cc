// The catalog: namespaces and pins, the engine's small durable state beside
// the flash log. File CATALOG in the data folder, JSON, replaced atomically
// on every change (docs/on-disk-format.md):
//
//   {"version": 1, "next_namespace_id": N,
//    "namespaces": [{"id", "name", and each setting of
//                    VisitNamespaceFields (include/ctxstore/namespace.h)}],
//    "pins": [{"namespace_id", "group": bool, "name_hex", "expires_ms", "dram"}],
//    "tokens": [{"id", "sha256", "role", "namespace_id", "label", "created_ms"}]}
//
// Records name their namespace by id, and ids are never reused: records of
// a deleted namespace are simply skipped by recovery. "tokens" is absent
// from catalogs written before access tokens existed.
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/clock.h"
#include "common/namespace_json.h"
#include "common/units.h"
#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

constexpr const char* kCatalogFileName = "CATALOG";
constexpr int kCatalogVersion = 1;

std::string ToHex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

Status ValidateNamespaceName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNamespaceNameBytes) {
    return Status::Invalid("namespace names are 1 to 64 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return Status::Invalid("namespace names use only A-Z a-z 0-9 . _ -");
  }
  return Status::Ok();
}

Status ValidateConfig(const NamespaceConfig& c) {
  if (c.priority >= kPriorityLevels) return Status::Invalid("priority must be 0 to 7");
  if (c.max_ttl_ms != 0 && c.default_ttl_ms > c.max_ttl_ms) {
    return Status::Invalid("the default TTL exceeds the maximum TTL");
  }
  return Status::Ok();
}

bool IsLowerHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status ValidateToken(const AccessToken& t) {
  if (!IsLowerHex(t.id, kTokenIdBytes)) return Status::Invalid("a token id is 16 hex digits");
  if (!IsLowerHex(t.secret_hash, kTokenHashBytes)) {
    return Status::Invalid("a token hash is 64 hex digits");
  }
  if (t.label.size() > kMaxTokenLabelBytes) return Status::Invalid("token labels are <= 128 bytes");
  if (!ParseTokenRole(TokenRoleName(t.role))) return Status::Invalid("unknown token role");
  // Only admin tokens span namespaces, and admin tokens span them all.
  if ((t.role == TokenRole::kAdmin) != (t.namespace_id == kAllNamespaces)) {
    return Status::Invalid("admin tokens, and only they, are valid in every namespace");
  }
  return Status::Ok();
}

}  // namespace

Engine::Namespace* Engine::AddNamespaceLocked(uint32_t id, std::string name,
                                              const NamespaceConfig& config) {
  Namespace& ns = namespaces_[id];
  ns.id = id;
  ns.name = std::move(name);
  ns.config = config;
  ns.policy = NewEvictionPolicy(options_.eviction_policy);
  return &ns;
}

Engine::CatalogSnapshot Engine::SnapshotCatalogLocked() const {
  CatalogSnapshot c;
  c.next_namespace_id = next_namespace_id_;
  for (const auto& [id, ns] : namespaces_) c.namespaces[id] = {ns.name, ns.config};
  c.key_pins = key_pins_;
  c.group_pins = group_pins_;
  c.tokens = tokens_;
  return c;
}

Status Engine::WriteCatalog(const CatalogSnapshot& c, std::unique_lock<std::mutex>& lock) {
  nlohmann::json j;
  j["version"] = kCatalogVersion;
  j["next_namespace_id"] = c.next_namespace_id;
  j["namespaces"] = nlohmann::json::array();
  for (const auto& [id, ns] : c.namespaces) {
    const auto& [name, config] = ns;
    nlohmann::json n = {{"id", id}, {"name", name}};
    AddNamespaceConfigJson(config, &n);
    j["namespaces"].push_back(std::move(n));
  }
  j["pins"] = nlohmann::json::array();
  auto add_pins = [&j](const PinRules& rules, bool group) {
    for (const auto& [ikey, rule] : rules) {
      j["pins"].push_back({{"namespace_id", IndexKeyNamespace(ikey)},
                           {"group", group},
                           {"name_hex", ToHex(IndexKeyUserKey(ikey))},
                           {"expires_ms", rule.expires_ms},
                           {"dram", rule.dram}});
    }
  };
  add_pins(c.key_pins, false);
  add_pins(c.group_pins, true);
  j["tokens"] = nlohmann::json::array();
  for (const auto& [id, t] : c.tokens) {
    j["tokens"].push_back({{"id", t.id},
                           {"sha256", t.secret_hash},
                           {"role", std::string(TokenRoleName(t.role))},
                           {"namespace_id", t.namespace_id},
                           {"label", t.label},
                           {"created_ms", t.created_ms}});
  }
  std::string json = j.dump(1);
  lock.unlock();
  Status st = device_->WriteFileAtomic(options_.data_dir + "/" + kCatalogFileName, json);
  lock.lock();
  if (!st.ok()) spdlog::error("writing the catalog: {}", st.ToString());
  return st;
}

Status Engine::LoadCatalog() {
  std::string path = options_.data_dir + "/" + kCatalogFileName;
  std::unique_lock lock(mu_);
  if (NewEvictionPolicy(options_.eviction_policy) == nullptr) {
    return Status::Invalid("unknown eviction policy '" + options_.eviction_policy +
                           "' (one of: " + std::string(kPolicyNames) + ")");
  }
  if (!device_->FileExists(path)) {
    AddNamespaceLocked(kDefaultNamespaceId, std::string(kDefaultNamespaceName), {});
    return Status::Ok();
  }
  auto data = device_->ReadFile(path);
  if (!data.ok()) return data.status();
  try {
    auto j = nlohmann::json::parse(*data);
    if (j.at("version").get<int>() != kCatalogVersion) {
      return Status::Unsupported(path + ": catalog version " + j.at("version").dump());
    }
    next_namespace_id_ = j.at("next_namespace_id").get<uint32_t>();
    for (const auto& n : j.at("namespaces")) {
      // Settings added since a catalog was written are absent from it and
      // take their defaults. A key that is not loaded now is not an error
      // here: the namespace's PUTs and sealed reads fail until it is.
      NamespaceSpec spec;
      Status parsed = ParseNamespaceSpec(n, OtherMembers::kIgnore, {"id", "name"}, &spec);
      if (!parsed.ok()) return Status::Corrupt(path + ": " + parsed.message());
      NamespaceConfig c;
      ApplyNamespaceSpec(spec, &c);
      CTX_RETURN_IF_ERROR(ValidateConfig(c));
      AddNamespaceLocked(n.at("id").get<uint32_t>(), n.at("name").get<std::string>(), c);
    }
    const uint64_t now = NowMs();
    for (const auto& p : j.at("pins")) {
      std::string name;
      if (!FromHex(p.at("name_hex").get<std::string>(), &name)) {
        return Status::Corrupt(path + ": bad pin name");
      }
      PinRule rule{p.at("expires_ms").get<uint64_t>(), p.at("dram").get<bool>()};
      if (rule.expires_ms != 0 && rule.expires_ms <= now) continue;  // lapsed while down
      std::string ikey = IndexKey(p.at("namespace_id").get<uint32_t>(), name).str();
      (p.at("group").get<bool>() ? group_pins_ : key_pins_)[ikey] = rule;
    }
    for (const auto& t : j.value("tokens", nlohmann::json::array())) {
      AccessToken token;
      token.id = t.at("id").get<std::string>();
      token.secret_hash = t.at("sha256").get<std::string>();
      auto role = ParseTokenRole(t.at("role").get<std::string>());
      if (!role) return Status::Corrupt(path + ": unknown token role " + t.at("role").dump());
      token.role = *role;
      token.namespace_id = t.at("namespace_id").get<uint32_t>();
      token.label = t.at("label").get<std::string>();
      token.created_ms = t.at("created_ms").get<uint64_t>();
      if (Status st = ValidateToken(token); !st.ok()) {
        return Status::Corrupt(path + ": token " + token.id + ": " + st.message());
      }
      tokens_[token.id] = std::move(token);
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(path + ": " + e.what());
  }
  if (FindNamespaceLocked(kDefaultNamespaceId) == nullptr) {
    return Status::Corrupt(path + ": the default namespace is missing");
  }
  return Status::Ok();
}

Status Engine::CheckEncryptionKeyName(const NamespaceConfig& config) const {
  if (config.encryption_key.empty()) return Status::Ok();
  if (options_.keyring == nullptr ||
      options_.keyring->FindByName(config.encryption_key) == nullptr) {
    return Status::Invalid("no encryption key named '" + config.encryption_key +
                           "' is loaded (serve --encryption-key NAME=FILE)");
  }
  return Status::Ok();
}

Result<uint32_t> Engine::CreateNamespace(std::string_view name, const NamespaceConfig& config) {
  CTX_RETURN_IF_ERROR(ValidateNamespaceName(name));
  CTX_RETURN_IF_ERROR(ValidateConfig(config));
  CTX_RETURN_IF_ERROR(CheckEncryptionKeyName(config));
  std::lock_guard catalog_lock(catalog_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  if (FindNamespaceLocked(name) != nullptr) {
    return Status::Exists("namespace '" + std::string(name) + "' exists");
  }
  const uint32_t id = next_namespace_id_;
  CatalogSnapshot c = SnapshotCatalogLocked();
  c.next_namespace_id = id + 1;
  c.namespaces[id] = {std::string(name), config};
  CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
  next_namespace_id_ = id + 1;
  AddNamespaceLocked(id, std::string(name), config);
  spdlog::info("namespace '{}' created (id {})", name, id);
  return id;
}

Status Engine::SetNamespace(std::string_view name, const NamespaceConfig& config) {
  CTX_RETURN_IF_ERROR(ValidateConfig(config));
  std::lock_guard catalog_lock(catalog_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Namespace* ns = FindNamespaceLocked(name);
  if (ns == nullptr)
    return Status::NotFound("namespace '" + std::string(name) + "' does not exist");
  // Only a new key name must be loaded: a namespace whose key is missing
  // can still have its quota or TTLs changed.
  if (config.encryption_key != ns->config.encryption_key) {
    CTX_RETURN_IF_ERROR(CheckEncryptionKeyName(config));
  }
  const uint32_t id = ns->id;
  CatalogSnapshot c = SnapshotCatalogLocked();
  c.namespaces[id].second = config;
  CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
  ns = FindNamespaceLocked(id);  // still there: catalog_mu_ is held
  ns->config = config;
  // A smaller quota applies at once.
  Status room = MakeRoomLocked(*ns, 0, nullptr);
  if (!room.ok()) spdlog::warn("namespace '{}' stays over its new quota: {}", name, room.message());
  return Status::Ok();
}

Status Engine::DeleteNamespace(std::string_view name) {
  if (name == kDefaultNamespaceName)
    return Status::Invalid("the default namespace cannot be deleted");
  std::lock_guard catalog_lock(catalog_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Namespace* ns = FindNamespaceLocked(name);
  if (ns == nullptr)
    return Status::NotFound("namespace '" + std::string(name) + "' does not exist");
  const uint32_t id = ns->id;
  CatalogSnapshot c = SnapshotCatalogLocked();
  c.namespaces.erase(id);
  std::erase_if(c.key_pins, [id](const auto& kv) { return IndexKeyNamespace(kv.first) == id; });
  std::erase_if(c.group_pins, [id](const auto& kv) { return IndexKeyNamespace(kv.first) == id; });
  std::erase_if(c.tokens, [id](const auto& kv) { return kv.second.namespace_id == id; });
  CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
  // Its tokens are revoked with it: connections holding one see the new
  // epoch on their next request.
  std::erase_if(tokens_, [id](const auto& kv) { return kv.second.namespace_id == id; });
  access_epoch_.fetch_add(1, std::memory_order_acq_rel);
  // Its records stay on flash until reclaimed; recovery skips them because
  // the catalog no longer names their namespace.
  for (auto it = index_.begin(); it != index_.end();) {
    auto next = std::next(it);
    if (it->second.namespace_id == id) EraseLocked(it);
    it = next;
  }
  std::erase_if(key_pins_, [id](const auto& kv) { return IndexKeyNamespace(kv.first) == id; });
  std::erase_if(group_pins_, [id](const auto& kv) { return IndexKeyNamespace(kv.first) == id; });
  namespaces_.erase(id);
  spdlog::info("namespace '{}' deleted", name);
  return Status::Ok();
}

Result<NamespaceInfo> Engine::GetNamespace(std::string_view name) const {
  std::unique_lock lock(mu_);
  for (const auto& [id, ns] : namespaces_) {
    if (ns.name == name)
      return NamespaceInfo{id, ns.name, ns.config, ns.objects, ns.bytes, ns.evictions};
  }
  return Status::NotFound("namespace '" + std::string(name) + "' does not exist");
}

Result<uint32_t> Engine::ResolveNamespace(std::string_view name) const {
  if (name.empty()) name = kDefaultNamespaceName;
  std::unique_lock lock(mu_);
  for (const auto& [id, ns] : namespaces_) {
    if (ns.name == name) return id;
  }
  return Status::NotFound("namespace '" + std::string(name) + "' does not exist");
}

std::vector<NamespaceInfo> Engine::ListNamespaces() const {
  std::unique_lock lock(mu_);
  std::vector<NamespaceInfo> out;
  for (const auto& [id, ns] : namespaces_) {
    out.push_back({id, ns.name, ns.config, ns.objects, ns.bytes, ns.evictions});
  }
  return out;
}

Status Engine::AddToken(const AccessToken& token) {
  CTX_RETURN_IF_ERROR(ValidateToken(token));
  std::lock_guard catalog_lock(catalog_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  if (tokens_.contains(token.id)) return Status::Exists("token " + token.id + " exists");
  if (tokens_.size() >= kMaxTokens) {
    return Status::NoSpace("too many tokens (" + std::to_string(kMaxTokens) + ")");
  }
  if (token.namespace_id != kAllNamespaces && FindNamespaceLocked(token.namespace_id) == nullptr) {
    return Status::NotFound("namespace does not exist");
  }
  CatalogSnapshot c = SnapshotCatalogLocked();
  c.tokens[token.id] = token;
  CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
  // The namespace cannot have gone meanwhile: deleting one takes catalog_mu_.
  tokens_[token.id] = token;
  return Status::Ok();
}

Status Engine::RevokeToken(std::string_view id) {
  std::lock_guard catalog_lock(catalog_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return Status::NotFound("no token " + std::string(id));
  CatalogSnapshot c = SnapshotCatalogLocked();
  c.tokens.erase(std::string(id));
  CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
  tokens_.erase(std::string(id));
  access_epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

std::optional<AccessToken> Engine::FindToken(std::string_view id) const {
  std::unique_lock lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

std::vector<AccessToken> Engine::ListTokens() const {
  std::unique_lock lock(mu_);
  std::vector<AccessToken> out;
  out.reserve(tokens_.size());
  for (const auto& [id, t] : tokens_) out.push_back(t);
  return out;
}

uint64_t Engine::PinRulesOfLocked(uint32_t ns) const {
  // A scan: pins are few (max_pins), and each one costs a catalog write anyway.
  const uint64_t now = NowMs();
  uint64_t n = 0;
  for (const PinRules* rules : {&key_pins_, &group_pins_}) {
    for (const auto& [ikey, rule] : *rules) {
      const bool lapsed = rule.expires_ms != 0 && rule.expires_ms <= now;
      n += !lapsed && IndexKeyNamespace(ikey) == ns;
    }
  }
  return n;
}

Result<uint64_t> Engine::Pin(uint32_t ns, std::string_view name, const PinOptions& opts) {
  if (name.empty() || name.size() > 512) return Status::Invalid("pin names are 1 to 512 bytes");
  std::string ikey = IndexKey(ns, name).str();
  std::vector<std::string> members;
  {
    std::lock_guard catalog_lock(catalog_mu_);
    std::unique_lock lock(mu_);
    if (closed_) return Status::Unavailable("engine closed");
    const Namespace* n = FindNamespaceLocked(ns);
    if (n == nullptr) return Status::NotFound("namespace does not exist");
    const PinRules& rules = opts.group ? group_pins_ : key_pins_;
    // A lapsed rule not yet swept away is a new pin when renewed: it was not counted.
    auto existing = rules.find(ikey);
    const bool renewed = existing != rules.end() && (existing->second.expires_ms == 0 ||
                                                     existing->second.expires_ms > NowMs());
    if (!renewed) {
      if (existing == rules.end() && key_pins_.size() + group_pins_.size() >= options_.max_pins) {
        return Status::NoSpace("too many pins (" + std::to_string(options_.max_pins) + ")");
      }
      if (n->config.max_pins != 0 && PinRulesOfLocked(ns) >= n->config.max_pins) {
        return Status::NoSpace("too many pins in namespace '" + n->name + "' (its max_pins is " +
                               std::to_string(n->config.max_pins) + ")");
      }
    }
    if (opts.group) {
      if (auto g = groups_.find(ikey); g != groups_.end()) {
        for (Entry* e : g->second) {
          if (!ExpiredLocked(*e)) members.emplace_back(e->user_key());
        }
      }
    } else {
      auto it = index_.find(ikey);
      if (it == index_.end() || ExpiredLocked(it->second)) return Status::NotFound();
      members.push_back(std::string(name));
    }
    PinRule rule{opts.ttl_ms == 0 ? 0 : SaturatingAdd(NowMs(), opts.ttl_ms), opts.dram};
    CatalogSnapshot c = SnapshotCatalogLocked();
    (opts.group ? c.group_pins : c.key_pins)[ikey] = rule;
    CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
    (opts.group ? group_pins_ : key_pins_)[ikey] = rule;
  }
  if (opts.dram) {
    // Load what is only on flash into DRAM; the pin keeps it there.
    for (const std::string& key : members) {
      auto ref = Get(ns, key);
      if (!ref.ok() && ref.status().code() != StatusCode::kNotFound) return ref.status();
      std::unique_lock lock(mu_);
      auto it = index_.find(IndexKey(ns, key).view());
      if (it != index_.end() && !it->second.dram()) {
        return Status::NoSpace(
            "no space: pinned: DRAM is full of pinned, leased or unwritten "
            "data; '" +
            key + "' is pinned on flash only");
      }
    }
  }
  return static_cast<uint64_t>(members.size());
}

Status Engine::Unpin(uint32_t ns, std::string_view name, bool group) {
  if (name.empty() || name.size() > 512) return Status::Invalid("pin names are 1 to 512 bytes");
  std::string ikey = IndexKey(ns, name).str();
  std::lock_guard catalog_lock(catalog_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  const PinRules& rules = group ? group_pins_ : key_pins_;
  auto it = rules.find(ikey);
  if (it == rules.end()) return Status::NotFound("no such pin");
  // A pin that lapsed (not yet swept by maintenance) is gone already.
  const bool lapsed = it->second.expires_ms != 0 && it->second.expires_ms <= NowMs();
  CatalogSnapshot c = SnapshotCatalogLocked();
  (group ? c.group_pins : c.key_pins).erase(ikey);
  CTX_RETURN_IF_ERROR(WriteCatalog(c, lock));
  (group ? group_pins_ : key_pins_).erase(ikey);
  return lapsed ? Status::NotFound("no such pin (it lapsed)") : Status::Ok();
}

}  // namespace ctxstore::engine
