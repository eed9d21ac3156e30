// Namespace administration: NS_CREATE, NS_SET, NS_LIST, NS_DELETE (admin
// tokens only). Not bound to the session's namespace. Every change is
// audited.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/namespace.h"
#include "ctxstore/status.h"
#include "engine/engine.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// NS_CREATE / NS_SET: a namespace's name and the settings the request names.
struct NamespaceRequest {
  std::string name;
  NamespaceSpec spec;
};
// Everything is checked before anything is applied, so that a bad NS_SET
// changes nothing.
Result<NamespaceRequest> DecodeNamespaceRequest(std::string_view body);
// NS_LIST reply: a JSON array of the namespaces' settings and usage.
std::string EncodeNamespaceList(const std::vector<engine::NamespaceInfo>& namespaces);

// Fields left out get their defaults.
Status CreateNamespace(const Service& service, const Session& session,
                       const NamespaceRequest& request);
// Fields left out keep their values; kNotFound for an unknown name.
Status SetNamespace(const Service& service, const Session& session,
                    const NamespaceRequest& request);
std::vector<engine::NamespaceInfo> ListNamespaces(const Service& service);
// Deletes it with its objects, pins and tokens (kInvalid for "default").
Status DeleteNamespace(const Service& service, const Session& session, std::string_view name);

}  // namespace ctxstore::service
