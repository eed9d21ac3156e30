// Namespaces (tenants): their settings, defined once.
//
// NamespaceConfig is a namespace's complete settings; NamespaceSpec is a
// request to set some of them (NS_CREATE leaves the rest at their defaults,
// NS_SET unchanged). VisitNamespaceFields lists every field once, with its
// name on the wire and in the catalog file, how a command line writes it,
// and its help text; the JSON codec (common/namespace_json.h), the engine's
// catalog, the client and the CLI's `ns` commands are all loops over it.
// Adding a setting means a member in each struct, a line in
// VisitNamespaceFields, what the engine does with it, and its docs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctxstore {

// DRAM priority levels: 0 leaves DRAM first.
inline constexpr uint8_t kPriorityLevels = 8;
inline constexpr uint8_t kDefaultPriority = 4;

struct NamespaceConfig {
  // Logical bytes (sum of value lengths) of the namespace's live objects,
  // wherever they are (DRAM, flash or both count once). 0 = unlimited.
  uint64_t quota_bytes = 0;
  uint64_t default_ttl_ms = 0;          // for PUTs without a TTL; 0 = none
  uint64_t max_ttl_ms = 0;              // cap on every TTL; 0 = no cap
  uint8_t priority = kDefaultPriority;  // 0..7: lower leaves DRAM first
  // Accept only PUTs whose metadata is a JSON object with a non-empty
  // string "model_fingerprint": context computed by one model is never
  // stored unlabelled, where another model could load it.
  bool require_model_fingerprint = false;
  // Encryption at rest: the name of a server key (serve --encryption-key
  // NAME=FILE) that seals the values this namespace writes to flash; "" =
  // stored in the clear. Changing it affects later writes only: records
  // keep the key they were sealed with (its id is in each record).
  std::string encryption_key;
  // Shares of the store's limits, so that one tenant cannot use them all
  // up: pin rules (keys and groups), and objects held by outstanding
  // leases. 0 = only the store's limits apply.
  uint64_t max_pins = 0;
  uint64_t max_leased_objects = 0;
};

// The settings a request names; the others are left alone. Field by field
// the same as NamespaceConfig.
struct NamespaceSpec {
  std::optional<uint64_t> quota_bytes;
  std::optional<uint64_t> default_ttl_ms;
  std::optional<uint64_t> max_ttl_ms;
  std::optional<uint8_t> priority;
  std::optional<bool> require_model_fingerprint;
  std::optional<std::string> encryption_key;
  std::optional<uint64_t> max_pins;
  std::optional<uint64_t> max_leased_objects;
};

// A namespace as NS_LIST shows it.
struct NamespaceInfo {
  uint32_t id = 0;
  std::string name;
  NamespaceConfig config;
  uint64_t objects = 0;
  uint64_t bytes = 0;      // counted against config.quota_bytes
  uint64_t evictions = 0;  // objects evicted to keep the namespace within its quota
};

// How a setting is written on a command line and shown to people; on the
// wire and in files every setting is a JSON member of its own type.
enum class NamespaceFieldKind : uint8_t {
  kBytes,       // uint64 bytes; a size on the command line ("8GiB")
  kDurationMs,  // uint64 milliseconds; a duration on the command line ("1h")
  kCount,       // uint64
  kPriority,    // uint8, 0..kPriorityLevels-1
  kBool,
  kKeyName,  // a string of at most kMaxKeyNameBytes (common/limits.h); "" = none
};

struct NamespaceField {
  std::string_view name;  // JSON member: NS_CREATE, NS_SET, NS_LIST, CATALOG
  NamespaceFieldKind kind;
  std::string_view flag;    // `ctxstore ns create|set --FLAG`
  std::string_view column;  // its column in `ctxstore ns ls`; "" = only in --json
  std::string_view help;    // the flag's help
};

// Calls visit(field, &NamespaceConfig::member, &NamespaceSpec::member) for
// every setting, in the order NS_LIST shows them.
template <typename Visitor>
constexpr void VisitNamespaceFields(Visitor&& visit) {
  using K = NamespaceFieldKind;
  using C = NamespaceConfig;
  using S = NamespaceSpec;
  visit(NamespaceField{"quota_bytes", K::kBytes, "quota", "QUOTA",
                       "Most bytes of live values (e.g. 4GiB); 0 = no limit"},
        &C::quota_bytes, &S::quota_bytes);
  visit(NamespaceField{"default_ttl_ms", K::kDurationMs, "default-ttl", "DEFAULT_TTL",
                       "TTL of PUTs that give none (e.g. 30m); 0 = none"},
        &C::default_ttl_ms, &S::default_ttl_ms);
  visit(NamespaceField{"max_ttl_ms", K::kDurationMs, "max-ttl", "MAX_TTL",
                       "Cap on every TTL (e.g. 24h); 0 = no cap"},
        &C::max_ttl_ms, &S::max_ttl_ms);
  visit(NamespaceField{"priority", K::kPriority, "priority", "PRIORITY",
                       "0..7: lower leaves DRAM first"},
        &C::priority, &S::priority);
  visit(NamespaceField{"require_model_fingerprint", K::kBool, "require-model-fingerprint", "",
                       "true: accept only PUTs whose --meta is a JSON object with a "
                       "\"model_fingerprint\" string"},
        &C::require_model_fingerprint, &S::require_model_fingerprint);
  visit(NamespaceField{"encryption_key", K::kKeyName, "encryption-key", "ENCRYPTION_KEY",
                       "Encrypt the values it writes to flash with the server's key NAME (serve "
                       "--encryption-key NAME=FILE); \"\" = later writes in the clear"},
        &C::encryption_key, &S::encryption_key);
  visit(NamespaceField{"max_pins", K::kCount, "max-pins", "",
                       "Most pin rules (keys and groups) in it; 0 = only the server's --max-pins"},
        &C::max_pins, &S::max_pins);
  visit(NamespaceField{"max_leased_objects", K::kCount, "max-leased-objects", "",
                       "Most objects its outstanding leases hold; 0 = only the server's limit"},
        &C::max_leased_objects, &S::max_leased_objects);
}

}  // namespace ctxstore
