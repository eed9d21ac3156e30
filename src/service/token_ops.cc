#include "service/token_ops.h"

#include <map>
#include <string>

#include "service/auth.h"

namespace ctxstore::service {
namespace {

using engine::TokenRole;

static_assert(protocol::kMaxTokenLabelBytes == engine::kMaxTokenLabelBytes,
              "the wire and the catalog bound token labels alike");

std::map<uint32_t, std::string> NamespaceNames(const engine::Engine& engine) {
  std::map<uint32_t, std::string> names;
  for (const engine::NamespaceInfo& ns : engine.ListNamespaces()) names[ns.id] = ns.name;
  names[engine::kAllNamespaces] = std::string(protocol::kAllNamespacesName);
  return names;
}

protocol::TokenInfoWire TokenInfo(const engine::AccessToken& t, std::string ns_name) {
  protocol::TokenInfoWire info;
  info.id = t.id;
  info.role = std::string(engine::TokenRoleName(t.role));
  info.namespace_name = std::move(ns_name);
  info.label = t.label;
  info.created_ms = t.created_ms;
  return info;
}

}  // namespace

Result<protocol::TokenCreateReply> CreateToken(const Service& service, const Session& session,
                                               const protocol::TokenCreateRequest& request) {
  // The decoder let through only the wire's role names, which the engine
  // knows.
  const TokenRole role = engine::ParseTokenRole(request.role).value_or(TokenRole::kRead);
  uint32_t ns_id = engine::kAllNamespaces;
  if (role != TokenRole::kAdmin) {
    auto ns = service.engine().ResolveNamespace(request.namespace_name);
    if (!ns.ok()) {
      return Status::NotFound("namespace '" + request.namespace_name + "' does not exist");
    }
    ns_id = *ns;
  }
  auto issued = IssueToken(&service.engine(), role, ns_id, request.label);
  if (!issued.ok()) return issued.status();
  std::string ns_name = role == TokenRole::kAdmin ? std::string(protocol::kAllNamespacesName)
                                                  : request.namespace_name;
  nlohmann::json fields = {{"new_token_id", issued->record.id},
                           {"role", std::string(engine::TokenRoleName(role))},
                           {"namespace", ns_name},
                           {"label", request.label}};
  service.Audit(session, "token_create", std::move(fields));
  protocol::TokenCreateReply reply;
  reply.info = TokenInfo(issued->record, std::move(ns_name));
  reply.token = std::move(issued->token);
  return reply;
}

std::vector<protocol::TokenInfoWire> ListTokens(const Service& service) {
  std::map<uint32_t, std::string> names = NamespaceNames(service.engine());
  std::vector<protocol::TokenInfoWire> out;
  for (const engine::AccessToken& t : service.engine().ListTokens()) {
    auto name = names.find(t.namespace_id);
    out.push_back(TokenInfo(t, name != names.end() ? name->second : "?"));
  }
  return out;
}

Status RevokeToken(const Service& service, const Session& session, std::string_view id) {
  Status st = service.engine().RevokeToken(id);
  if (st.ok()) {
    nlohmann::json fields = {{"revoked_token_id", std::string(id)}};
    service.Audit(session, "token_revoke", std::move(fields));
  }
  return st;
}

}  // namespace ctxstore::service
