// Access tokens: issuing them, checking one at HELLO, and who a session
// acts for afterwards. The catalog keeps only a SHA-256 of each token
// (engine/access_token.h); which role each op needs is in op_table.h.
//
// A token reads "ctx_<id>_<secret>": 16 hex digits of public id (what
// `token ls`, audit lines and object provenance show) and 64 hex digits of
// secret (32 random bytes). The id finds the record; the hash of the whole
// token is compared in constant time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ctxstore/status.h"
#include "engine/security/access_token.h"
#include "engine/engine.h"

namespace ctxstore::service {

inline constexpr std::string_view kTokenPrefix = "ctx_";
inline constexpr size_t kTokenSecretBytes = 32;
inline constexpr size_t kTokenChars = 4 + engine::kTokenIdBytes + 1 + 2 * kTokenSecretBytes;
inline constexpr const char* kAdminTokenFileName = "admin.token";

// Who a session acts for, once HELLO has authenticated it.
struct Principal {
  std::string token_id;  // empty when authentication is off
  engine::TokenRole role = engine::TokenRole::kAdmin;
  uint32_t namespace_id = engine::kAllNamespaces;

  bool InNamespace(uint32_t ns) const {
    return namespace_id == engine::kAllNamespaces || namespace_id == ns;
  }
  bool Has(engine::TokenRole needed) const { return role >= needed; }
};

struct IssuedToken {
  engine::AccessToken record;
  std::string token;  // shown once, to whoever asked for it
};

// A new token (random id and secret), not yet in the catalog.
Result<IssuedToken> NewToken(engine::TokenRole role, uint32_t namespace_id, std::string label);
// A new token, recorded in the catalog.
Result<IssuedToken> IssueToken(engine::Engine* engine, engine::TokenRole role,
                               uint32_t namespace_id, std::string label);

// kUnauthorized for a malformed, unknown or revoked token.
Result<Principal> Authenticate(const engine::Engine& engine, std::string_view token);

// On a store whose catalog holds no admin token (first start, or every
// admin token revoked): issues one and writes it to DATA_DIR/admin.token,
// mode 0600, durably. True when it did.
Result<bool> EnsureAdminToken(engine::Engine* engine, const std::string& data_dir);

}  // namespace ctxstore::service
