// Namespace administration: NS_CREATE, NS_SET, NS_LIST, NS_DELETE (admin
// tokens only). Not bound to the session's namespace. Every change is
// audited. The request and reply bodies are protocol/namespace_bodies.h.
#pragma once

#include <string_view>
#include <vector>

#include "ctxstore/namespace.h"
#include "ctxstore/status.h"
#include "protocol/namespace_bodies.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// Settings left out get their defaults.
Status CreateNamespace(const Service& service, const Session& session,
                       const protocol::NamespaceRequest& request);
// Settings left out keep their values; kNotFound for an unknown name.
Status SetNamespace(const Service& service, const Session& session,
                    const protocol::NamespaceRequest& request);
std::vector<NamespaceInfo> ListNamespaces(const Service& service);
// Deletes it with its objects, pins and tokens (kInvalid for "default").
Status DeleteNamespace(const Service& service, const Session& session, std::string_view name);

}  // namespace ctxstore::service
