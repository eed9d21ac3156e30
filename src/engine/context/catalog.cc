// The CATALOG file (docs/on-disk-format.md):
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
#include "engine/context/catalog.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "common/clock.h"
#include "common/limits.h"
#include "common/namespace_json.h"

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

// json's get<> converts a fraction or an out-of-range number with undefined
// behaviour: the file's integers are checked first (Load makes this kCorrupt).
struct BadNumber : std::runtime_error { using std::runtime_error::runtime_error; };
template <typename T>
T Int(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > std::numeric_limits<T>::max()) {
    throw BadNumber(std::string(key) + " is not an integer from 0 to " +
                    std::to_string(std::numeric_limits<T>::max()));
  }
  return static_cast<T>(v.get<uint64_t>());
}

Status ValidateNamespaceNameImpl(std::string_view name) {
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

Status ValidateConfigImpl(const NamespaceConfig& c) {
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

Status ValidateTokenImpl(const AccessToken& t) {
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

nlohmann::json PinsJson(const PinRules& key_pins, const PinRules& group_pins) {
  nlohmann::json pins = nlohmann::json::array();
  for (const PinRules* rules : {&key_pins, &group_pins}) {
    for (const auto& [ikey, rule] : *rules) {
      pins.push_back({{"namespace_id", IndexKeyNamespace(ikey)},
                      {"group", rules == &group_pins},
                      {"name_hex", ToHex(IndexKeyUserKey(ikey))},
                      {"expires_ms", rule.expires_ms},
                      {"dram", rule.dram}});
    }
  }
  return pins;
}

nlohmann::json TokensJson(const AccessTokens& tokens) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, t] : tokens) {
    out.push_back({{"id", t.id},
                   {"sha256", t.secret_hash},
                   {"role", std::string(TokenRoleName(t.role))},
                   {"namespace_id", t.namespace_id},
                   {"label", t.label},
                   {"created_ms", t.created_ms}});
  }
  return out;
}

Result<AccessToken> ParseToken(const std::string& path, const nlohmann::json& t) {
  AccessToken token;
  token.id = t.at("id").get<std::string>();
  token.secret_hash = t.at("sha256").get<std::string>();
  auto role = ParseTokenRole(t.at("role").get<std::string>());
  if (!role) return Status::Corrupt(path + ": unknown token role " + t.at("role").dump());
  token.role = *role;
  token.namespace_id = Int<uint32_t>(t, "namespace_id");
  token.label = t.at("label").get<std::string>();
  token.created_ms = Int<uint64_t>(t, "created_ms");
  if (Status st = ValidateTokenImpl(token); !st.ok()) {
    return Status::Corrupt(path + ": token " + token.id + ": " + st.message());
  }
  return token;
}

}  // namespace

uint64_t Namespace::ExpiryOf(uint64_t ttl_ms, uint64_t now_ms) const {
  if (ttl_ms == 0) ttl_ms = config.default_ttl_ms;
  if (config.max_ttl_ms != 0 && (ttl_ms == 0 || ttl_ms > config.max_ttl_ms)) {
    ttl_ms = config.max_ttl_ms;
  }
  return ttl_ms == 0 ? 0 : SaturatingAdd(now_ms, ttl_ms);
}

Catalog::Catalog(Device* device, std::string data_dir, std::string eviction_policy,
                 std::shared_ptr<const Keyring> keyring)
    : device_(device),
      path_(std::move(data_dir) + "/" + kCatalogFileName),
      eviction_policy_(std::move(eviction_policy)),
      keyring_(std::move(keyring)) {}

Status Catalog::Load(uint64_t now_ms) {
  if (NewEvictionPolicy(eviction_policy_) == nullptr) {
    return Status::Invalid("unknown eviction policy '" + eviction_policy_ +
                           "' (one of: " + std::string(kPolicyNames) + ")");
  }
  if (!device_->FileExists(path_)) {
    Add(kDefaultNamespaceId, std::string(kDefaultNamespaceName), {});
    return Status::Ok();
  }
  auto data = device_->ReadFile(path_);
  if (!data.ok()) return data.status();
  try {
    CTX_RETURN_IF_ERROR(Parse(path_, *data, now_ms));
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(path_ + ": " + e.what());
  } catch (const BadNumber& e) {
    return Status::Corrupt(path_ + ": " + e.what());
  }
  if (Find(kDefaultNamespaceId) == nullptr) {
    return Status::Corrupt(path_ + ": the default namespace is missing");
  }
  return Status::Ok();
}

Status Catalog::Parse(const std::string& path, const std::string& data, uint64_t now_ms) {
  auto j = nlohmann::json::parse(data);
  if (Int<uint32_t>(j, "version") != kCatalogVersion) {
    return Status::Unsupported(path + ": catalog version " + j.at("version").dump());
  }
  next_namespace_id_ = Int<uint32_t>(j, "next_namespace_id");
  for (const auto& n : j.at("namespaces")) {
    // Settings added since a catalog was written are absent from it and
    // take their defaults. A key that is not loaded now is not an error
    // here: the namespace's PUTs and sealed reads fail until it is.
    NamespaceSpec spec;
    Status parsed = ParseNamespaceSpec(n, OtherMembers::kIgnore, {"id", "name"}, &spec);
    if (!parsed.ok()) return Status::Corrupt(path + ": " + parsed.message());
    NamespaceConfig c;
    ApplyNamespaceSpec(spec, &c);
    if (Status st = ValidateConfigImpl(c); !st.ok()) return Status::Corrupt(path + ": " + st.message());
    const uint32_t id = Int<uint32_t>(n, "id");
    std::string name = n.at("name").get<std::string>();
    CTX_RETURN_IF_ERROR(CheckLoadedNamespace(path, id, name));
    Add(id, std::move(name), c);
  }
  for (const auto& p : j.at("pins")) {
    std::string name;
    if (!FromHex(p.at("name_hex").get<std::string>(), &name)) {
      return Status::Corrupt(path + ": bad pin name");
    }
    PinRule rule{Int<uint64_t>(p, "expires_ms"), p.at("dram").get<bool>()};
    if (rule.Lapsed(now_ms)) continue;  // lapsed while down
    std::string ikey = IndexKey(Int<uint32_t>(p, "namespace_id"), name).str();
    Pins(p.at("group").get<bool>())[ikey] = rule;
  }
  for (const auto& t : j.value("tokens", nlohmann::json::array())) {
    auto token = ParseToken(path, t);
    if (!token.ok()) return token.status();
    tokens_[token->id] = std::move(*token);
  }
  return Status::Ok();
}

// Two namespaces sharing an id would share their objects; one at
// next_namespace_id would be given out again (catalog.h).
Status Catalog::CheckLoadedNamespace(const std::string& path, uint32_t id,
                                     std::string_view name) const {
  const std::string what = path + ": namespace " + std::to_string(id) + " '" +
                           std::string(name.substr(0, kMaxNamespaceNameBytes)) + "': ";
  Status valid = ValidateNamespaceNameImpl(name);
  if (!valid.ok()) return Status::Corrupt(what + valid.message());
  if (id >= next_namespace_id_) {
    return Status::Corrupt(what + "id not below next_namespace_id " +
                           std::to_string(next_namespace_id_));
  }
  if (Find(id) != nullptr) return Status::Corrupt(what + "the id appears twice");
  if (Find(name) != nullptr) return Status::Corrupt(what + "the name appears twice");
  if ((id == kDefaultNamespaceId) != (name == kDefaultNamespaceName)) {
    return Status::Corrupt(what + "only namespace 0 is named 'default'");
  }
  return Status::Ok();
}

Catalog::Contents Catalog::Snapshot() const {
  Contents c;
  c.next_namespace_id = next_namespace_id_;
  for (const auto& [id, ns] : namespaces_) c.namespaces[id] = {ns.name, ns.config};
  c.key_pins = key_pins_;
  c.group_pins = group_pins_;
  c.tokens = tokens_;
  return c;
}

Status Catalog::Write(const Contents& c, Mutex* mu) {
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
  j["pins"] = PinsJson(c.key_pins, c.group_pins);
  j["tokens"] = TokensJson(c.tokens);
  const std::string json = j.dump(1);
  mu->Unlock();
  Status st = device_->WriteFileAtomic(path_, json);
  mu->Lock();
  if (!st.ok()) spdlog::error("writing the catalog: {}", st.ToString());
  return st;
}

Namespace* Catalog::Add(uint32_t id, std::string name, const NamespaceConfig& config) {
  Namespace& ns = namespaces_[id];
  ns.id = id;
  ns.name = std::move(name);
  ns.config = config;
  ns.policy = NewEvictionPolicy(eviction_policy_);
  return &ns;
}

Status Catalog::ValidateName(std::string_view name) {
  return ValidateNamespaceNameImpl(name);
}
Status Catalog::ValidateConfig(const NamespaceConfig& config) {
  return ValidateConfigImpl(config);
}
Status Catalog::ValidateToken(const AccessToken& token) {
  return ValidateTokenImpl(token);
}

Status Catalog::CheckKeyName(const NamespaceConfig& config) const {
  if (config.encryption_key.empty()) return Status::Ok();
  if (keyring_ == nullptr || keyring_->FindByName(config.encryption_key) == nullptr) {
    return Status::Invalid("no encryption key named '" + config.encryption_key +
                           "' is loaded (serve --encryption-key NAME=FILE)");
  }
  return Status::Ok();
}

Namespace* Catalog::Find(uint32_t id) {
  auto it = namespaces_.find(id);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const Namespace* Catalog::Find(uint32_t id) const {
  auto it = namespaces_.find(id);
  return it == namespaces_.end() ? nullptr : &it->second;
}

Namespace* Catalog::Find(std::string_view name) {
  for (auto& [id, ns] : namespaces_) {
    if (ns.name == name) return &ns;
  }
  return nullptr;
}

const Namespace* Catalog::Find(std::string_view name) const {
  return const_cast<Catalog*>(this)->Find(name);
}

std::vector<NamespaceInfo> Catalog::List() const {
  std::vector<NamespaceInfo> out;
  for (const auto& [id, ns] : namespaces_) out.push_back(ns.Info());
  return out;
}

Result<std::shared_ptr<const EncryptionKey>> Catalog::SealKey(const Namespace& ns) const {
  if (ns.config.encryption_key.empty()) return std::shared_ptr<const EncryptionKey>();
  auto key = keyring_ ? keyring_->FindByName(ns.config.encryption_key) : nullptr;
  if (key == nullptr) {
    return Status::KeyUnavailable("namespace '" + ns.name + "' is encrypted with key '" +
                                  ns.config.encryption_key + "', which is not loaded");
  }
  return key;
}

Result<uint32_t> Catalog::CreateNamespace(std::string_view name, const NamespaceConfig& config,
                                          Mutex* mu) {
  if (Find(name) != nullptr) return Status::Exists("namespace '" + std::string(name) + "' exists");
  // kAllNamespaces names every namespace (admin tokens): never one's id.
  if (next_namespace_id_ >= kAllNamespaces) return Status::NoSpace("namespace ids are used up");
  const uint32_t id = next_namespace_id_;
  Contents c = Snapshot();
  c.next_namespace_id = id + 1;
  c.namespaces[id] = {std::string(name), config};
  CTX_RETURN_IF_ERROR(Write(c, mu));
  next_namespace_id_ = id + 1;
  Add(id, std::string(name), config);
  return id;
}

Status Catalog::SetNamespace(uint32_t id, const NamespaceConfig& config, Mutex* mu) {
  Contents c = Snapshot();
  c.namespaces[id].second = config;
  CTX_RETURN_IF_ERROR(Write(c, mu));
  Find(id)->config = config;  // still there: the engine serializes changes
  return Status::Ok();
}

Status Catalog::DeleteNamespace(uint32_t id, Mutex* mu) {
  auto of_namespace = [id](const auto& kv) { return IndexKeyNamespace(kv.first) == id; };
  auto token_of_namespace = [id](const auto& kv) { return kv.second.namespace_id == id; };
  Contents c = Snapshot();
  c.namespaces.erase(id);
  std::erase_if(c.key_pins, of_namespace);
  std::erase_if(c.group_pins, of_namespace);
  std::erase_if(c.tokens, token_of_namespace);
  CTX_RETURN_IF_ERROR(Write(c, mu));
  std::erase_if(tokens_, token_of_namespace);
  std::erase_if(key_pins_, of_namespace);
  std::erase_if(group_pins_, of_namespace);
  return Status::Ok();
}

Status Catalog::AddToken(const AccessToken& token, Mutex* mu) {
  if (tokens_.contains(token.id)) return Status::Exists("token " + token.id + " exists");
  if (tokens_.size() >= kMaxTokens) {
    return Status::NoSpace("too many tokens (" + std::to_string(kMaxTokens) + ")");
  }
  if (token.namespace_id != kAllNamespaces && Find(token.namespace_id) == nullptr) {
    return Status::NotFound("namespace does not exist");
  }
  Contents c = Snapshot();
  c.tokens[token.id] = token;
  CTX_RETURN_IF_ERROR(Write(c, mu));
  // The namespace cannot have gone meanwhile: the engine serializes changes.
  tokens_[token.id] = token;
  return Status::Ok();
}

Status Catalog::RevokeToken(std::string_view id, Mutex* mu) {
  if (!tokens_.contains(id)) return Status::NotFound("no token " + std::string(id));
  Contents c = Snapshot();
  c.tokens.erase(std::string(id));
  CTX_RETURN_IF_ERROR(Write(c, mu));
  tokens_.erase(std::string(id));
  return Status::Ok();
}

const AccessToken* Catalog::FindToken(std::string_view id) const {
  auto it = tokens_.find(id);
  return it == tokens_.end() ? nullptr : &it->second;
}

std::vector<AccessToken> Catalog::Tokens() const {
  std::vector<AccessToken> out;
  out.reserve(tokens_.size());
  for (const auto& [id, t] : tokens_) out.push_back(t);
  return out;
}

Status Catalog::AddPin(const std::string& index_key, bool group, const PinRule& rule, Mutex* mu) {
  Contents c = Snapshot();
  (group ? c.group_pins : c.key_pins)[index_key] = rule;
  CTX_RETURN_IF_ERROR(Write(c, mu));
  Pins(group)[index_key] = rule;
  return Status::Ok();
}

Result<bool> Catalog::RemovePin(const std::string& index_key, bool group, uint64_t now_ms,
                                Mutex* mu) {
  auto it = Pins(group).find(index_key);
  if (it == Pins(group).end()) return Status::NotFound("no such pin");
  // A pin that lapsed (not yet swept by maintenance) is gone already.
  const bool lapsed = it->second.Lapsed(now_ms);
  Contents c = Snapshot();
  (group ? c.group_pins : c.key_pins).erase(index_key);
  CTX_RETURN_IF_ERROR(Write(c, mu));
  Pins(group).erase(index_key);
  return lapsed;
}

uint64_t Catalog::PinRulesOf(uint32_t ns, uint64_t now_ms) const {
  // A scan: pins are few (max_pins), and each one costs a catalog write anyway.
  uint64_t n = 0;
  for (const PinRules* rules : {&key_pins_, &group_pins_}) {
    for (const auto& [ikey, rule] : *rules)
      n += !rule.Lapsed(now_ms) && IndexKeyNamespace(ikey) == ns;
  }
  return n;
}

Status Catalog::CheckPinLimits(const Namespace& ns, std::string_view index_key, bool group,
                               uint64_t now_ms, uint64_t max_pins) const {
  // A lapsed rule not yet swept away is a new pin when renewed: it was not counted.
  auto existing = Pins(group).find(index_key);
  if (existing != Pins(group).end() && !existing->second.Lapsed(now_ms)) return Status::Ok();
  if (existing == Pins(group).end() && pin_rules() >= max_pins) {
    return Status::NoSpace("too many pins (" + std::to_string(max_pins) + ")");
  }
  if (ns.config.max_pins != 0 && PinRulesOf(ns.id, now_ms) >= ns.config.max_pins) {
    return Status::NoSpace("too many pins in namespace '" + ns.name + "' (its max_pins is " +
                           std::to_string(ns.config.max_pins) + ")");
  }
  return Status::Ok();
}

PinState Catalog::PinStateOf(const Entry& e, uint64_t now_ms) const {
  PinState state;
  bool forever = false;
  // An object may be pinned by its key and by its group: it stays pinned
  // until the last of them lapses.
  auto apply = [&](const PinRule& rule) {
    if (rule.Lapsed(now_ms)) return;
    state.pinned = true;
    state.dram |= rule.dram;
    if (rule.expires_ms == 0) forever = true;
    state.expires_ms = std::max(state.expires_ms, rule.expires_ms);
  };
  if (auto it = key_pins_.find(e.index_key().view()); it != key_pins_.end()) apply(it->second);
  if (e.meta && !e.meta->group.empty() && !group_pins_.empty()) {
    auto it = group_pins_.find(IndexKey(e.namespace_id, e.meta->group).view());
    if (it != group_pins_.end()) apply(it->second);
  }
  if (forever) state.expires_ms = 0;
  return state;
}

void Catalog::SweepLapsedPins(uint64_t now_ms) {
  auto lapsed = [now_ms](const auto& kv) { return kv.second.Lapsed(now_ms); };
  std::erase_if(key_pins_, lapsed);
  std::erase_if(group_pins_, lapsed);
}

}  // namespace ctxstore::engine
