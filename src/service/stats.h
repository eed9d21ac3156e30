// STATS: the engine's statistics and the front ends' counters, the whole
// store's (an admin op). docs/protocol.md describes every field.
#pragma once

#include <vector>

#include "protocol/admin_bodies.h"
#include "service/service.h"

namespace ctxstore::service {

std::vector<protocol::StatsField> Stats(const Service& service);

}  // namespace ctxstore::service
