// Client: token admin (TOKEN_CREATE, TOKEN_LIST, TOKEN_REVOKE).
#include <sys/uio.h>

#include <array>
#include <string>
#include <vector>

#include "client/client_impl.h"
#include "ctxstore/client.h"
#include "protocol/admin_bodies.h"
#include "protocol/messages.h"

namespace ctxstore {
namespace {

// TOKEN_CREATE: one small JSON object. TOKEN_LIST: at most 10,000 of them.
constexpr uint64_t kMaxTokenReplyBytes = 64 * 1024;
constexpr uint64_t kMaxTokenListBodyBytes = 16 * 1024 * 1024;

TokenInfo FromWire(protocol::TokenInfoWire&& w) {
  TokenInfo info;
  info.id = std::move(w.id);
  info.role = std::move(w.role);
  info.namespace_name = std::move(w.namespace_name);
  info.label = std::move(w.label);
  info.created_ms = w.created_ms;
  return info;
}

}  // namespace

Result<CreatedToken> Client::CreateToken(std::string_view role, std::string_view namespace_name,
                                         std::string_view label) {
  protocol::TokenCreateRequest req;
  req.role = std::string(role);
  req.namespace_name = std::string(namespace_name);
  req.label = std::string(label);
  std::string body = protocol::EncodeTokenCreateRequest(req);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  auto reply = impl_->Call(Opcode::kTokenCreate, 0, iov, kMaxTokenReplyBytes);
  if (!reply.ok()) return reply.status();
  auto created = protocol::DecodeTokenCreateReply(*reply);
  if (!created.ok()) return ProtocolError(created.status().message());
  return CreatedToken{FromWire(std::move(created->info)), std::move(created->token)};
}

Result<std::vector<TokenInfo>> Client::ListTokens() {
  std::array<iovec, 1> iov{};
  auto reply = impl_->Call(Opcode::kTokenList, 0, iov, kMaxTokenListBodyBytes);
  if (!reply.ok()) return reply.status();
  auto tokens = protocol::DecodeTokenList(*reply);
  if (!tokens.ok()) return ProtocolError(tokens.status().message());
  std::vector<TokenInfo> out;
  out.reserve(tokens->size());
  for (protocol::TokenInfoWire& t : *tokens) out.push_back(FromWire(std::move(t)));
  return out;
}

Status Client::RevokeToken(std::string_view id) {
  if (id.size() > kMaxKeyBytes) return Status::Invalid("token ids are 16 hex digits");
  std::string body = protocol::EncodeString(id);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return impl_->Call(Opcode::kTokenRevoke, 0, iov, 0).status();
}

}  // namespace ctxstore
