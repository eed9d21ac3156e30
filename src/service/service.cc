#include "service/service.h"

#include <algorithm>
#include <string>

#include "service/op_table.h"
#include "service/session.h"

namespace ctxstore::service {
namespace {

uint64_t InflightBudgetBytes(const engine::Engine& engine, uint64_t configured) {
  if (configured != 0) return configured;
  return std::max<uint64_t>(engine.options().memory_bytes / 2, 1);
}

Status Unauthorized(std::string message) {
  return Status(StatusCode::kUnauthorized, std::move(message));
}

}  // namespace

Service::Service(engine::Engine* engine, ServiceOptions options, AuditLog* audit)
    : engine_(engine),
      options_(std::move(options)),
      audit_(audit),
      inflight_(&counters_.inflight_bytes, &counters_.inflight_refused,
                InflightBudgetBytes(*engine, options_.max_inflight_bytes)) {
  options_.limits.max_value_bytes = engine->options().max_value_bytes;
  options_.max_inflight_bytes = inflight_.max_bytes();
}

Status Service::Admit(Session& session, protocol::Opcode op) const {
  if (!session.authenticated() && op != protocol::Opcode::kHello) {
    return Status::Invalid("HELLO must be the first request");
  }
  std::optional<engine::TokenRole> needed = RequiredRole(op);
  if (!needed || !options_.auth) return Status::Ok();
  const Principal& principal = session.principal();
  const std::string_view op_name = protocol::OpcodeName(op);
  // Read the epoch before the token: a revocation after this read moves
  // the epoch again and is caught by the next request.
  const uint64_t epoch = engine_->access_epoch();
  if (epoch != session.access_epoch()) {
    session.set_access_epoch(epoch);
    if (!engine_->FindToken(principal.token_id)) {
      session.MarkClosing();
      nlohmann::json fields = {{"op", std::string(op_name)}};
      Audit(session, "revoked_token_used", std::move(fields));
      return Unauthorized("token " + principal.token_id + " was revoked");
    }
  }
  if (principal.Has(*needed)) return Status::Ok();
  counters_.access_denied++;
  const std::string role(engine::TokenRoleName(principal.role));
  nlohmann::json fields = {{"op", std::string(op_name)}, {"role", role}};
  Audit(session, "denied", std::move(fields));
  return Unauthorized(std::string(op_name) + " needs a token with role " +
                      std::string(engine::TokenRoleName(*needed)) + "; this one has " + role);
}

void Service::Audit(const Session& session, std::string_view event, nlohmann::json fields) const {
  if (audit_ == nullptr) return;
  fields["peer"] = session.peer();
  if (!session.principal().token_id.empty()) fields["token_id"] = session.principal().token_id;
  audit_->Record(event, std::move(fields));
}

}  // namespace ctxstore::service
