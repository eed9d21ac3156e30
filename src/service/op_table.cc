#include "service/op_table.h"

#include <array>

#include "service/native_handlers.h"

namespace ctxstore::service {
namespace {

using engine::TokenRole;
using protocol::Opcode;
constexpr std::optional<TokenRole> kAnyone = std::nullopt;
constexpr std::optional<TokenRole> kRead = TokenRole::kRead;
constexpr std::optional<TokenRole> kWrite = TokenRole::kWrite;
constexpr std::optional<TokenRole> kAdmin = TokenRole::kAdmin;

// In opcode order (docs/protocol.md, "Ops" and "Authentication and roles").
constexpr std::array<OpSpec, 28> kOps = {{
    {Opcode::kHello, kAnyone, BodyKind::kSmall, &native::Hello},
    {Opcode::kPut, kWrite, BodyKind::kPutValue, nullptr},
    {Opcode::kGet, kRead, BodyKind::kGetValue, nullptr},
    {Opcode::kExists, kRead, BodyKind::kSmall, &native::Exists},
    {Opcode::kDelete, kWrite, BodyKind::kSmall, &native::Delete},
    {Opcode::kBatchPut, kWrite, BodyKind::kPutValues, nullptr},
    {Opcode::kBatchGet, kRead, BodyKind::kGetValues, nullptr},
    {Opcode::kBatchExists, kRead, BodyKind::kSmall, &native::BatchExists},
    {Opcode::kMatchPrefix, kRead, BodyKind::kSmall, &native::MatchPrefix},
    {Opcode::kFlush, kWrite, BodyKind::kSmall, &native::Flush},
    {Opcode::kStats, kAdmin, BodyKind::kSmall, &native::Stats},
    {Opcode::kRelease, kRead, BodyKind::kSmall, &native::Release},
    {Opcode::kStat, kRead, BodyKind::kSmall, &native::Stat},
    {Opcode::kList, kRead, BodyKind::kSmall, &native::List},
    {Opcode::kPin, kWrite, BodyKind::kSmall, &native::Pin},
    {Opcode::kUnpin, kWrite, BodyKind::kSmall, &native::Unpin},
    {Opcode::kDeleteGroup, kWrite, BodyKind::kSmall, &native::DeleteGroup},
    {Opcode::kNsCreate, kAdmin, BodyKind::kSmall, &native::NsCreate},
    {Opcode::kNsSet, kAdmin, BodyKind::kSmall, &native::NsSet},
    {Opcode::kNsList, kAdmin, BodyKind::kSmall, &native::NsList},
    {Opcode::kNsDelete, kAdmin, BodyKind::kSmall, &native::NsDelete},
    {Opcode::kTokenCreate, kAdmin, BodyKind::kSmall, &native::TokenCreate},
    {Opcode::kTokenList, kAdmin, BodyKind::kSmall, &native::TokenList},
    {Opcode::kTokenRevoke, kAdmin, BodyKind::kSmall, &native::TokenRevoke},
    // Regions belong to the connection; registering one reads nothing.
    {Opcode::kShmRegister, kRead, BodyKind::kShm, nullptr},
    {Opcode::kShmUnregister, kRead, BodyKind::kShm, nullptr},
    {Opcode::kShmPut, kWrite, BodyKind::kShm, nullptr},
    {Opcode::kShmGet, kRead, BodyKind::kShm, nullptr},
}};

// (That exactly the small-body ops have a handler is checked by
// service_access_test: comparing a function's address with null is not a
// constant expression under -fsanitize=undefined.)
constexpr bool InOpcodeOrder() {
  for (size_t i = 0; i < kOps.size(); ++i) {
    if (static_cast<size_t>(kOps[i].opcode) != i + 1) return false;
  }
  return static_cast<size_t>(protocol::kLastOpcode) == kOps.size();
}
static_assert(InOpcodeOrder(), "one entry per opcode, in opcode order");

}  // namespace

const OpSpec* FindOp(protocol::Opcode op) {
  const size_t i = static_cast<size_t>(op);
  if (i == 0 || i > kOps.size()) return nullptr;
  return &kOps[i - 1];
}

std::optional<engine::TokenRole> RequiredRole(protocol::Opcode op) {
  const OpSpec* spec = FindOp(op);
  if (spec == nullptr) return TokenRole::kAdmin;  // an op without a rule: the safe default
  return spec->role;
}

}  // namespace ctxstore::service
