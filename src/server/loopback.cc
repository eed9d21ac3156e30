#include "server/loopback.h"

#include <asio/ip/address.hpp>
#include <string>

namespace ctxstore::server {

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  asio::error_code ec;
  asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

}  // namespace ctxstore::server
