#include "service/session.h"

#include "common/limits.h"
#include "service/service.h"

namespace ctxstore::service {

Session::Session(const Service& service, std::string peer)
    : peer_(std::move(peer)),
      leases_(&service.engine(), service.limits().max_leases_per_connection) {}

void Session::Start(uint32_t namespace_id, Principal principal, uint64_t access_epoch,
                    std::string_view client_name) {
  // While namespace_id_ still names the leases' namespace.
  if (authenticated_ && namespace_id != namespace_id_) EndLeases();
  authenticated_ = true;
  namespace_id_ = namespace_id;
  principal_ = std::move(principal);
  access_epoch_ = access_epoch;
  // Without tokens, the client's name, cut to the engine's bound rather
  // than failing every write of the session.
  writer_ = principal_.token_id.empty() ? std::string(client_name.substr(0, kMaxWriterBytes))
                                        : principal_.token_id;
}

}  // namespace ctxstore::service
