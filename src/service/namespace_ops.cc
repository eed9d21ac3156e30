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

Status CreateNamespace(const Service& service, const Session& session,
                       const protocol::NamespaceRequest& request) {
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
                    const protocol::NamespaceRequest& request) {
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

std::vector<NamespaceInfo> ListNamespaces(const Service& service) {
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
