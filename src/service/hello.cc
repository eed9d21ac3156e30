#include "service/hello.h"

#include <string>
#include <string_view>

#include "common/limits.h"

namespace ctxstore::service {
namespace {

// The namespace a HELLO names, checked against the token: no name means the
// token's own, or "default" for an admin token.
Result<uint32_t> HelloNamespace(const Service& service, const Session& session,
                                const Principal& principal, std::string_view ns_name) {
  if (ns_name.empty() && principal.namespace_id != engine::kAllNamespaces) {
    return principal.namespace_id;
  }
  if (ns_name.empty()) ns_name = engine::kDefaultNamespaceName;
  Result<uint32_t> ns = service.engine().ResolveNamespace(ns_name);
  // A token of another namespace gets the same answer whether this one
  // exists or not.
  if ((ns.ok() && !principal.InNamespace(*ns)) ||
      (!ns.ok() && principal.namespace_id != engine::kAllNamespaces)) {
    service.counters().access_denied++;
    nlohmann::json fields = {{"op", "HELLO"}, {"namespace", std::string(ns_name)}};
    service.Audit(session, "denied", std::move(fields));
    return Status(StatusCode::kUnauthorized,
                  "the token is not valid in namespace '" + std::string(ns_name) + "'");
  }
  if (!ns.ok() && ns.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("namespace '" + std::string(ns_name) + "' does not exist");
  }
  return ns;
}

}  // namespace

Result<protocol::HelloReply> Hello(const Service& service, Session& session,
                                   const protocol::HelloRequest& hello) {
  if (hello.version != protocol::kVersion) {
    session.MarkClosing();
    return Status::Unsupported("protocol version " + std::to_string(hello.version) +
                               " not supported");
  }
  // Read before the token is checked: a revocation that lands after the
  // check moves the epoch past this value, and the next request sees it.
  const uint64_t epoch = service.engine().access_epoch();
  Principal principal;  // authentication off: everything, everywhere
  if (service.options().auth) {
    auto authenticated = Authenticate(service.engine(), hello.token);
    if (!authenticated.ok()) {
      service.counters().auth_failures++;
      nlohmann::json fields = {{"reason", authenticated.status().message()},
                               {"client", hello.client_name.substr(0, kMaxWriterBytes)}};
      service.Audit(session, "auth_failure", std::move(fields));
      session.MarkClosing();
      return authenticated.status();
    }
    principal = std::move(*authenticated);
  }
  // On an error the session stays as it was (before HELLO: unusable until
  // one works).
  auto ns = HelloNamespace(service, session, principal, hello.namespace_name);
  if (!ns.ok()) return ns.status();
  session.Start(*ns, std::move(principal), epoch, hello.client_name);
  protocol::HelloReply reply;
  reply.max_value_bytes = service.limits().max_value_bytes;
  reply.max_batch_keys = service.limits().max_batch_keys;
  reply.max_batch_bytes = service.limits().max_batch_bytes;
  reply.server_version = service.options().server_version;
  return reply;
}

}  // namespace ctxstore::service
