// The audit log now belongs to the service layer (service/audit_log.h);
// these names keep `ctxstore serve` (src/cli/serve.cc) building until it
// includes that header itself.
#pragma once

#include "service/audit_log.h"

namespace ctxstore::server {
using service::AuditLog;
using service::AuditLogOptions;
using service::kAuditLogFileName;
}  // namespace ctxstore::server
