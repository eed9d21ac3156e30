// Access tokens as the catalog keeps them. The engine stores and persists
// them (file CATALOG) beside the namespaces they are scoped to; issuing a
// token and checking one are the server's business (service/auth.h). The
// token itself is never stored: only a hash of it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ctxstore::engine {

// What a token may do. Each role includes the ones before it.
enum class TokenRole : uint8_t {
  kRead = 1,   // GET, EXISTS, MATCH_PREFIX (leases), STAT, LIST, RELEASE
  kWrite = 2,  // and PUT, DELETE, PIN, UNPIN, DELETE_GROUP, FLUSH
  kAdmin = 3,  // and namespaces, tokens, STATS; every namespace
};

std::string_view TokenRoleName(TokenRole role);
std::optional<TokenRole> ParseTokenRole(std::string_view name);

// namespace_id of a token valid in every namespace (admin tokens).
inline constexpr uint32_t kAllNamespaces = UINT32_MAX;
// Limits on what the catalog accepts.
inline constexpr size_t kTokenIdBytes = 16;    // hex digits
inline constexpr size_t kTokenHashBytes = 64;  // hex digits of a SHA-256
inline constexpr size_t kMaxTokenLabelBytes = 128;
inline constexpr size_t kMaxTokens = 10'000;

struct AccessToken {
  std::string id;           // public, lowercase hex, kTokenIdBytes long
  std::string secret_hash;  // SHA-256 of the whole token, lowercase hex
  TokenRole role = TokenRole::kRead;
  uint32_t namespace_id = kAllNamespaces;
  std::string label;        // free text for operators ("ci", "replica-3")
  uint64_t created_ms = 0;  // wall clock
};

using AccessTokens = std::map<std::string, AccessToken, std::less<>>;  // by id

}  // namespace ctxstore::engine
