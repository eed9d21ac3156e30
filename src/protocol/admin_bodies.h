// The JSON bodies of the admin ops (docs/protocol.md): STATS and TOKEN_*.
// (Namespace settings have their own codec, driven by the field table in
// include/ctxstore/namespace.h.) Decoders check everything a request may
// get wrong, in a fixed order, so that the same bad body always gets the
// same message.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::protocol {

// ---- STATS reply: a flat JSON object of counters ----

struct StatsField {
  std::string_view name;
  uint64_t value = 0;
  bool is_bool = false;  // written as true/false (recovered_from_checkpoint)
};
// Members in name order, whatever the order of `fields`.
std::string EncodeStatsReply(std::span<const StatsField> fields);
// Each counter with its value (booleans as 0 and 1), in name order.
struct StatsCounter {
  std::string name;
  uint64_t value = 0;
};
Result<std::vector<StatsCounter>> DecodeStatsReply(std::string_view body);

// ---- tokens ----

// Roles as the wire spells them; each includes the ones before it.
inline constexpr std::array<std::string_view, 3> kTokenRoleNames = {"read", "write", "admin"};
inline constexpr std::string_view kAdminRoleName = "admin";
// The namespace of an admin token, valid in every namespace.
inline constexpr std::string_view kAllNamespacesName = "*";
inline constexpr size_t kMaxTokenLabelBytes = 128;

// TOKEN_CREATE request: {"role": ..., "namespace": ..., "label": ...}.
struct TokenCreateRequest {
  std::string role;            // one of kTokenRoleNames
  std::string namespace_name;  // read and write tokens; "" or "*" for admin
  std::string label;           // <= kMaxTokenLabelBytes
};
// Leaves out an empty namespace and label.
std::string EncodeTokenCreateRequest(const TokenCreateRequest& req);
Result<TokenCreateRequest> DecodeTokenCreateRequest(std::string_view body);

// A token as TOKEN_CREATE and TOKEN_LIST show it: never its secret.
struct TokenInfoWire {
  std::string id;
  std::string role;
  std::string namespace_name;  // kAllNamespacesName for admin tokens
  std::string label;
  uint64_t created_ms = 0;
};
// TOKEN_CREATE reply: the token's info and, once, the token itself.
struct TokenCreateReply {
  TokenInfoWire info;
  std::string token;
};
std::string EncodeTokenCreateReply(const TokenCreateReply& reply);
Result<TokenCreateReply> DecodeTokenCreateReply(std::string_view body);
// TOKEN_LIST reply: a JSON array of token infos.
std::string EncodeTokenList(std::span<const TokenInfoWire> tokens);
Result<std::vector<TokenInfoWire>> DecodeTokenList(std::string_view body);

}  // namespace ctxstore::protocol
