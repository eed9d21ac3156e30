// One client's session with the service: who it acts for (set by HELLO),
// the namespace its key ops work in, the writer its PUTs record, and the
// leases it holds. A front end keeps one per connection and hands it to
// every call; it knows nothing of sockets. Not thread-safe: a session's
// requests are served one at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "service/auth.h"
#include "service/lease_set.h"

namespace ctxstore::service {

class Service;

class Session {
 public:
  // peer: how audit lines name the client ("ip:port").
  Session(const Service& service, std::string peer);
  // Ends the leases it still holds.
  ~Session() { EndLeases(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Whether a HELLO has succeeded: until then only HELLO is served.
  bool authenticated() const { return authenticated_; }
  uint32_t namespace_id() const { return namespace_id_; }
  const Principal& principal() const { return principal_; }
  // Provenance of its PUTs: the token's id, or with authentication off the
  // client's name cut to kMaxWriterBytes.
  const std::string& writer() const { return writer_; }
  const std::string& peer() const { return peer_; }
  // Set when the front end must end the session after its reply (a failed
  // authentication, a revoked token, an unsupported version).
  bool closing() const { return closing_; }

  LeaseSet& leases() { return leases_; }
  // Releases every lease (the session ends, or moves to another namespace).
  void EndLeases() { leases_.ReleaseAll(namespace_id_); }

  // ---- for HELLO and the access checks (service.h, hello.h) ----

  // A successful HELLO. Leases belong to a namespace: one into another
  // namespace ends them first.
  void Start(uint32_t namespace_id, Principal principal, uint64_t access_epoch,
             std::string_view client_name);
  void MarkClosing() { closing_ = true; }
  uint64_t access_epoch() const { return access_epoch_; }
  void set_access_epoch(uint64_t epoch) { access_epoch_ = epoch; }

 private:
  std::string peer_;
  bool authenticated_ = false;
  bool closing_ = false;
  uint32_t namespace_id_ = engine::kDefaultNamespaceId;
  Principal principal_;  // with authentication off: everything, everywhere
  std::string writer_;
  uint64_t access_epoch_ = 0;
  LeaseSet leases_;
};

}  // namespace ctxstore::service
