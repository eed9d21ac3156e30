#include "engine/security/access_token.h"

namespace ctxstore::engine {

std::string_view TokenRoleName(TokenRole role) {
  switch (role) {
    case TokenRole::kRead:
      return "read";
    case TokenRole::kWrite:
      return "write";
    case TokenRole::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<TokenRole> ParseTokenRole(std::string_view name) {
  for (TokenRole r : {TokenRole::kRead, TokenRole::kWrite, TokenRole::kAdmin}) {
    if (TokenRoleName(r) == name) return r;
  }
  return std::nullopt;
}

}  // namespace ctxstore::engine
