// Access checks, audit lines and token administration (TOKEN_CREATE,
// TOKEN_LIST, TOKEN_REVOKE). See server/auth.h for tokens and roles.
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "protocol/messages.h"
#include "server/connection_impl.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using engine::TokenRole;

Status Unauthorized(std::string message) {
  return Status(StatusCode::kUnauthorized, std::move(message));
}

constexpr std::string_view kAllNamespacesName = "*";

std::map<uint32_t, std::string> NamespaceNames(const engine::Engine& engine) {
  std::map<uint32_t, std::string> names;
  for (const engine::NamespaceInfo& ns : engine.ListNamespaces()) names[ns.id] = ns.name;
  names[engine::kAllNamespaces] = std::string(kAllNamespacesName);
  return names;
}

nlohmann::json TokenJson(const engine::AccessToken& t, const std::string& ns_name) {
  return {{"id", t.id},
          {"role", std::string(engine::TokenRoleName(t.role))},
          {"namespace", ns_name},
          {"label", t.label},
          {"created_ms", t.created_ms}};
}

struct TokenRequest {
  TokenRole role = TokenRole::kRead;
  std::string ns;  // "*" or empty for admin tokens
  std::string label;
};

Result<TokenRequest> ParseTokenRequest(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  TokenRequest req;
  bool has_role = false;
  for (const auto& [field, value] : j.items()) {
    if (!value.is_string()) return Status::Invalid("\"" + field + "\" must be a string");
    const std::string text = value.get<std::string>();
    if (field == "role") {
      auto role = engine::ParseTokenRole(text);
      if (!role) return Status::Invalid("role must be read, write or admin");
      req.role = *role;
      has_role = true;
    } else if (field == "namespace") {
      req.ns = text;
    } else if (field == "label") {
      if (text.size() > engine::kMaxTokenLabelBytes) {
        return Status::Invalid("labels are at most " + std::to_string(engine::kMaxTokenLabelBytes) +
                               " bytes");
      }
      req.label = text;
    } else {
      return Status::Invalid("unknown field \"" + field + "\"");
    }
  }
  if (!has_role) return Status::Invalid("missing \"role\"");
  if (req.role == TokenRole::kAdmin) {
    if (!req.ns.empty() && req.ns != kAllNamespacesName) {
      return Status::Invalid("admin tokens are valid in every namespace: give no namespace");
    }
  } else if (req.ns.empty() || req.ns == kAllNamespacesName) {
    return Status::Invalid("read and write tokens need a namespace");
  }
  return req;
}

}  // namespace

Status Connection::CheckAccess() {
  std::optional<TokenRole> needed = RequiredRole(req_.opcode);
  if (!needed || !ctx_.options->auth) return Status::Ok();
  // Read the epoch before the token: a revocation after this read moves
  // the epoch again and is caught by the next request.
  const uint64_t epoch = ctx_.engine->access_epoch();
  if (epoch != access_epoch_) {
    access_epoch_ = epoch;
    if (!ctx_.engine->FindToken(principal_.token_id)) {
      token_revoked_ = true;
      nlohmann::json fields = {{"op", std::string(protocol::OpcodeName(req_.opcode))}};
      Audit("revoked_token_used", std::move(fields));
      return Unauthorized("token " + principal_.token_id + " was revoked");
    }
  }
  if (principal_.Has(*needed)) return Status::Ok();
  ctx_.counters->access_denied++;
  nlohmann::json fields = {{"op", std::string(protocol::OpcodeName(req_.opcode))},
                           {"role", std::string(engine::TokenRoleName(principal_.role))}};
  Audit("denied", std::move(fields));
  return Unauthorized(std::string(protocol::OpcodeName(req_.opcode)) + " needs a token with role " +
                      std::string(engine::TokenRoleName(*needed)) + "; this one has " +
                      std::string(engine::TokenRoleName(principal_.role)));
}

void Connection::Audit(std::string_view event, nlohmann::json fields) {
  if (ctx_.audit == nullptr) return;
  fields["peer"] = peer_;
  if (!principal_.token_id.empty()) fields["token_id"] = principal_.token_id;
  ctx_.audit->Record(event, std::move(fields));
}

awaitable<bool> Connection::HandleTokenCreate() {
  std::string body = co_await ReadBody();
  auto req = ParseTokenRequest(body);
  if (!req.ok()) {
    co_await ReplyError(req.status());
    co_return true;
  }
  uint32_t ns_id = engine::kAllNamespaces;
  if (req->role != TokenRole::kAdmin) {
    auto ns = ctx_.engine->ResolveNamespace(req->ns);
    if (!ns.ok()) {
      co_await ReplyError(Status::NotFound("namespace '" + req->ns + "' does not exist"));
      co_return true;
    }
    ns_id = *ns;
  }
  auto issued = IssueToken(ctx_.engine, req->role, ns_id, req->label);
  if (!issued.ok()) {
    co_await ReplyError(issued.status());
    co_return true;
  }
  const std::string ns_name = req->role == TokenRole::kAdmin ? "*" : req->ns;
  nlohmann::json fields = {{"new_token_id", issued->record.id},
                           {"role", std::string(engine::TokenRoleName(req->role))},
                           {"namespace", ns_name},
                           {"label", req->label}};
  Audit("token_create", std::move(fields));
  nlohmann::json reply = TokenJson(issued->record, ns_name);
  reply["token"] = issued->token;
  co_await ReplyOk(reply.dump());
  co_return true;
}

awaitable<bool> Connection::HandleTokenList() {
  co_await Drain(req_.body_len);
  std::map<uint32_t, std::string> names = NamespaceNames(*ctx_.engine);
  nlohmann::json list = nlohmann::json::array();
  for (const engine::AccessToken& t : ctx_.engine->ListTokens()) {
    auto name = names.find(t.namespace_id);
    list.push_back(TokenJson(t, name != names.end() ? name->second : "?"));
  }
  co_await ReplyOk(list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  co_return true;
}

awaitable<bool> Connection::HandleTokenRevoke() {
  std::string body = co_await ReadBody();
  auto id = protocol::DecodeString(body);
  if (!id.ok()) {
    co_await ReplyError(id.status());
    co_return true;
  }
  Status st = ctx_.engine->RevokeToken(*id);
  if (st.ok()) {
    nlohmann::json fields = {{"revoked_token_id", std::string(*id)}};
    Audit("token_revoke", std::move(fields));
  }
  co_await ReplyStatus(st);
  co_return true;
}

}  // namespace ctxstore::server
