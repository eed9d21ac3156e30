#include "service/namespace_ops.h"

#include "common/namespace_json.h"

namespace ctxstore::service {
namespace {

// The settings a request named, for the audit line.
nlohmann::json SettingsJson(const NamespaceSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  AddNamespaceSpecJson(spec, &j);
  return j;
}

}  // namespace

Result<NamespaceRequest> DecodeNamespaceRequest(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  NamespaceRequest req;
  CTX_RETURN_IF_ERROR(ParseNamespaceSpec(j, OtherMembers::kRefuse, {"name"}, &req.spec));
  auto name = j.find("name");
  if (name == j.end()) return Status::Invalid("missing \"name\"");
  if (!name->is_string()) return Status::Invalid("\"name\" must be a string");
  req.name = name->get<std::string>();
  return req;
}

std::string EncodeNamespaceList(const std::vector<engine::NamespaceInfo>& namespaces) {
  nlohmann::json list = nlohmann::json::array();
  for (const engine::NamespaceInfo& ns : namespaces) {
    list.push_back(NamespaceInfoJson<nlohmann::json>(ns));
  }
  return list.dump();
}

Status CreateNamespace(const Service& service, const Session& session,
                       const NamespaceRequest& request) {
  NamespaceConfig config;
  ApplyNamespaceSpec(request.spec, &config);
  Status st = service.engine().CreateNamespace(request.name, config).status();
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", request.name}, {"settings", SettingsJson(request.spec)}};
    service.Audit(session, "namespace_create", std::move(fields));
  }
  return st;
}

Status SetNamespace(const Service& service, const Session& session,
                    const NamespaceRequest& request) {
  auto current = service.engine().GetNamespace(request.name);
  if (!current.ok()) return current.status();
  NamespaceConfig config = current->config;
  ApplyNamespaceSpec(request.spec, &config);
  Status st = service.engine().SetNamespace(request.name, config);
  if (st.ok()) {
    nlohmann::json fields = {{"namespace", request.name}, {"settings", SettingsJson(request.spec)}};
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
