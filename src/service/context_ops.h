// The context ops on the session's namespace: STAT, LIST, PIN, UNPIN and
// DELETE_GROUP (docs/protocol.md, "Objects, listing and pins").
#pragma once

#include <cstdint>
#include <string_view>

#include "ctxstore/objects.h"
#include "ctxstore/status.h"
#include "protocol/messages.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service {

// kNotFound for an absent or expired key.
Result<ObjectInfo> Stat(const Service& service, const Session& session, std::string_view key);
// One page; kInvalid unless 1 <= limit <= kMaxListLimit.
Result<ListPage> List(const Service& service, const Session& session, const ListOptions& request);
// The number of objects pinned now.
Result<uint64_t> Pin(const Service& service, const Session& session,
                     const protocol::PinRequest& request);
// kNotFound when there is no such pin (ttl_ms and dram are not used).
Status Unpin(const Service& service, const Session& session, const protocol::PinRequest& request);
// The number of objects deleted; audited. kInvalid unless the group is
// 1..kMaxGroupBytes bytes.
Result<uint64_t> DeleteGroup(const Service& service, const Session& session,
                             std::string_view group);

}  // namespace ctxstore::service
