// Client: token admin (TOKEN_CREATE, TOKEN_LIST, TOKEN_REVOKE).
#include <sys/uio.h>

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client_impl.h"
#include "ctxstore/client.h"
#include "protocol/messages.h"

namespace ctxstore {
namespace {

// TOKEN_CREATE: one small JSON object. TOKEN_LIST: at most 10,000 of them.
constexpr uint64_t kMaxTokenReplyBytes = 64 * 1024;
constexpr uint64_t kMaxTokenListBodyBytes = 16 * 1024 * 1024;

bool ReadString(const nlohmann::json& j, const char* field, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

Result<TokenInfo> ParseTokenInfo(const nlohmann::json& j) {
  TokenInfo info;
  auto created = j.is_object() ? j.find("created_ms") : j.end();
  if (!j.is_object() || !ReadString(j, "id", &info.id) || !ReadString(j, "role", &info.role) ||
      !ReadString(j, "namespace", &info.namespace_name) || !ReadString(j, "label", &info.label) ||
      created == j.end() || !created->is_number_unsigned()) {
    return ProtocolError("malformed token entry: " + j.dump());
  }
  info.created_ms = created->get<uint64_t>();
  return info;
}

}  // namespace

Result<CreatedToken> Client::CreateToken(std::string_view role, std::string_view namespace_name,
                                         std::string_view label) {
  nlohmann::json req = {{"role", std::string(role)}};
  if (!namespace_name.empty()) req["namespace"] = std::string(namespace_name);
  if (!label.empty()) req["label"] = std::string(label);
  std::string body = req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kTokenCreate, 0, iov, kMaxTokenReplyBytes);
  if (!reply.ok()) return reply.status();
  nlohmann::json j = nlohmann::json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  auto info = ParseTokenInfo(j);
  if (!info.ok()) return info.status();
  CreatedToken created{std::move(*info), {}};
  if (!ReadString(j, "token", &created.token)) return ProtocolError("TOKEN_CREATE without a token");
  return created;
}

Result<std::vector<TokenInfo>> Client::ListTokens() {
  std::array<iovec, 1> iov{};
  auto reply = impl_->Call(Opcode::kTokenList, 0, iov, kMaxTokenListBodyBytes);
  if (!reply.ok()) return reply.status();
  nlohmann::json j = nlohmann::json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return ProtocolError("TOKEN_LIST reply is not an array");
  std::vector<TokenInfo> out;
  out.reserve(j.size());
  for (const nlohmann::json& entry : j) {
    auto info = ParseTokenInfo(entry);
    if (!info.ok()) return info.status();
    out.push_back(std::move(*info));
  }
  return out;
}

Status Client::RevokeToken(std::string_view id) {
  if (id.size() > kMaxKeyBytes) return Status::Invalid("token ids are 16 hex digits");
  std::string body = protocol::EncodeString(id);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kTokenRevoke, 0, iov, 0).status();
}

}  // namespace ctxstore
