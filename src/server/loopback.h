// Whether a listen address is loopback: the server runs without
// authentication only there (ServerOptions::auth).
#pragma once

#include <string_view>

namespace ctxstore::server {

// "localhost" or a loopback IPv4/IPv6 address.
bool IsLoopbackHost(std::string_view host);

}  // namespace ctxstore::server
