// The JSON form of namespace settings (include/ctxstore/namespace.h): one
// codec for NS_CREATE and NS_SET bodies, NS_LIST entries, the engine's
// CATALOG file, and the CLI's `ns ls --json`, all driven by
// VisitNamespaceFields, so that a new setting needs no change here.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "ctxstore/namespace.h"
#include "ctxstore/status.h"

namespace ctxstore {

// Adds every setting of `config` to the JSON object *out, one member each,
// in VisitNamespaceFields order (nlohmann::json or nlohmann::ordered_json).
template <typename Json>
void AddNamespaceConfigJson(const NamespaceConfig& config, Json* out) {
  VisitNamespaceFields([&](const NamespaceField& field, auto config_member, auto /*spec*/) {
    (*out)[std::string(field.name)] = config.*config_member;
  });
}

// Adds the settings `spec` names, and only those.
template <typename Json>
void AddNamespaceSpecJson(const NamespaceSpec& spec, Json* out) {
  VisitNamespaceFields([&](const NamespaceField& field, auto /*config*/, auto spec_member) {
    if (const auto& value = spec.*spec_member) (*out)[std::string(field.name)] = *value;
  });
}

// An NS_LIST entry: "id", "name", every setting, "objects", "bytes",
// "evictions".
template <typename Json>
Json NamespaceInfoJson(const NamespaceInfo& info) {
  Json j = Json::object();
  j["id"] = info.id;
  j["name"] = info.name;
  AddNamespaceConfigJson(info.config, &j);
  j["objects"] = info.objects;
  j["bytes"] = info.bytes;
  j["evictions"] = info.evictions;
  return j;
}

// What a reader does with members that are not settings.
enum class OtherMembers {
  kRefuse,  // requests: a misspelt setting must not pass unnoticed
  kIgnore,  // replies and files: written by a newer version, or not settings
};

// Reads the settings present in the JSON object j into *spec, checking each
// one's type and range; kInvalid names the first bad member. Members listed
// in `not_settings` ("name", "id", ...) are skipped either way.
Status ParseNamespaceSpec(const nlohmann::json& j, OtherMembers others,
                          std::initializer_list<std::string_view> not_settings,
                          NamespaceSpec* spec);

// Overrides the settings that `spec` names.
void ApplyNamespaceSpec(const NamespaceSpec& spec, NamespaceConfig* config);

// An NS_LIST entry. Settings and counters an older server leaves out stay
// at their defaults; members a newer one adds are ignored.
Result<NamespaceInfo> ParseNamespaceInfo(const nlohmann::json& entry);

}  // namespace ctxstore
