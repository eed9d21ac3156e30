#include "service/namespace_ops.h"

#include "common/limits.h"

namespace ctxstore::service {
namespace {

// Overrides the fields present in a decoded request.
void ApplyNamespaceFields(const nlohmann::json& j, engine::NamespaceConfig* c) {
  if (j.contains("quota_bytes")) c->quota_bytes = j["quota_bytes"].get<uint64_t>();
  if (j.contains("default_ttl_ms")) c->default_ttl_ms = j["default_ttl_ms"].get<uint64_t>();
  if (j.contains("max_ttl_ms")) c->max_ttl_ms = j["max_ttl_ms"].get<uint64_t>();
  if (j.contains("priority")) c->priority = static_cast<uint8_t>(j["priority"].get<uint64_t>());
  if (j.contains("require_model_fingerprint")) {
    c->require_model_fingerprint = j["require_model_fingerprint"].get<bool>();
  }
  if (j.contains("encryption_key")) c->encryption_key = j["encryption_key"].get<std::string>();
  if (j.contains("max_pins")) c->max_pins = j["max_pins"].get<uint64_t>();
  if (j.contains("max_leased_objects")) {
    c->max_leased_objects = j["max_leased_objects"].get<uint64_t>();
  }
}

nlohmann::json NamespaceJson(const engine::NamespaceInfo& ns) {
  return {
      {"id", ns.id},
      {"name", ns.name},
      {"quota_bytes", ns.config.quota_bytes},
      {"default_ttl_ms", ns.config.default_ttl_ms},
      {"max_ttl_ms", ns.config.max_ttl_ms},
      {"priority", ns.config.priority},
      {"require_model_fingerprint", ns.config.require_model_fingerprint},
      {"encryption_key", ns.config.encryption_key},
      {"max_pins", ns.config.max_pins},
      {"max_leased_objects", ns.config.max_leased_objects},
      {"objects", ns.objects},
      {"bytes", ns.bytes},
      {"evictions", ns.evictions},
  };
}

Status CheckNamespaceField(const std::string& field, const nlohmann::json& value) {
  if (field == "name") {
    if (!value.is_string()) return Status::Invalid("\"name\" must be a string");
  } else if (field == "quota_bytes" || field == "default_ttl_ms" || field == "max_ttl_ms" ||
             field == "priority" || field == "max_pins" || field == "max_leased_objects") {
    // is_number_unsigned: no negatives, no fractions.
    if (!value.is_number_unsigned()) {
      return Status::Invalid("\"" + field + "\" must be a non-negative integer");
    }
    if (field == "priority" && value.get<uint64_t>() >= engine::kPriorityLevels) {
      return Status::Invalid("\"priority\" must be 0.." +
                             std::to_string(engine::kPriorityLevels - 1));
    }
  } else if (field == "require_model_fingerprint") {
    if (!value.is_boolean()) return Status::Invalid("\"" + field + "\" must be true or false");
  } else if (field == "encryption_key") {
    // A key name ("" = none); the engine checks that it is loaded.
    if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxKeyNameBytes) {
      return Status::Invalid("\"encryption_key\" must be a key name (a string of at most " +
                             std::to_string(kMaxKeyNameBytes) + " bytes)");
    }
  } else {
    return Status::Invalid("unknown field \"" + field + "\"");
  }
  return Status::Ok();
}

}  // namespace

Result<NamespaceRequest> DecodeNamespaceRequest(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  for (const auto& [field, value] : j.items())
    CTX_RETURN_IF_ERROR(CheckNamespaceField(field, value));
  if (!j.contains("name")) return Status::Invalid("missing \"name\"");
  NamespaceRequest req;
  req.name = j["name"].get<std::string>();
  req.fields = std::move(j);
  return req;
}

std::string EncodeNamespaceList(const std::vector<engine::NamespaceInfo>& namespaces) {
  nlohmann::json list = nlohmann::json::array();
  for (const engine::NamespaceInfo& ns : namespaces) list.push_back(NamespaceJson(ns));
  return list.dump();
}

Status CreateNamespace(const Service& service, const Session& session,
                       const NamespaceRequest& request) {
  engine::NamespaceConfig config;
  ApplyNamespaceFields(request.fields, &config);
  Status st = service.engine().CreateNamespace(request.name, config).status();
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", request.name}, {"settings", request.fields}};
    service.Audit(session, "namespace_create", std::move(fields));
  }
  return st;
}

Status SetNamespace(const Service& service, const Session& session,
                    const NamespaceRequest& request) {
  auto current = service.engine().GetNamespace(request.name);
  if (!current.ok()) return current.status();
  engine::NamespaceConfig config = current->config;
  ApplyNamespaceFields(request.fields, &config);
  Status st = service.engine().SetNamespace(request.name, config);
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", request.name}, {"settings", request.fields}};
    service.Audit(session, "namespace_set", std::move(fields));
  }
  return st;
}

std::vector<engine::NamespaceInfo> ListNamespaces(const Service& service) {
  return service.engine().ListNamespaces();
}

Status DeleteNamespace(const Service& service, const Session& session, std::string_view name) {
  Status st = service.engine().DeleteNamespace(name);
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", std::string(name)}};
    service.Audit(session, "namespace_delete", std::move(fields));
  }
  return st;
}

}  // namespace ctxstore::service
