// Authentication as the listener sees it: where it may be turned off
// (IsLoopbackHost). Tokens, principals and the role each op needs belong to
// the service layer (service/auth.h, service/op_table.h); the using-
// declarations keep `ctxstore serve` and older tests building on these
// names.
#pragma once

#include <string_view>

#include "service/auth.h"
#include "service/op_table.h"

namespace ctxstore::server {

using service::Authenticate;
using service::EnsureAdminToken;
using service::IssuedToken;
using service::IssueToken;
using service::kAdminTokenFileName;
using service::kTokenChars;
using service::kTokenPrefix;
using service::kTokenSecretBytes;
using service::NewToken;
using service::Principal;
using service::RequiredRole;

// 127.0.0.0/8, ::1 and "localhost": where authentication may be turned off.
bool IsLoopbackHost(std::string_view host);

}  // namespace ctxstore::server
