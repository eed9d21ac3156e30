// The role table and the access checks through the service layer: HELLO
// first, what each role may send, tokens revoked under a live session.
#include <gtest/gtest.h>

#include <set>

#include "service_test_util.h"

namespace ctxstore::service::test {
namespace {

using protocol::Opcode;

constexpr Opcode kLastOpcode = protocol::kLastOpcode;

std::vector<Opcode> AllOps() {
  std::vector<Opcode> ops;
  for (int op = 1; op <= static_cast<int>(kLastOpcode); ++op)
    ops.push_back(static_cast<Opcode>(op));
  return ops;
}

TEST(OpTableTest, OneEntryPerOpcodeWithTheRolesOfTheDocs) {
  // docs/protocol.md, "Authentication and roles".
  const std::set<Opcode> read = {Opcode::kGet,         Opcode::kExists,      Opcode::kBatchGet,
                                 Opcode::kBatchExists, Opcode::kMatchPrefix, Opcode::kRelease,
                                 Opcode::kStat,        Opcode::kList,        Opcode::kShmRegister,
                                 Opcode::kShmUnregister, Opcode::kShmGet};
  const std::set<Opcode> write = {Opcode::kPut,   Opcode::kDelete,      Opcode::kBatchPut,
                                  Opcode::kPin,   Opcode::kUnpin,       Opcode::kDeleteGroup,
                                  Opcode::kFlush, Opcode::kShmPut};
  const std::set<Opcode> shm = {Opcode::kShmRegister, Opcode::kShmUnregister, Opcode::kShmPut,
                                Opcode::kShmGet};
  for (Opcode op : AllOps()) {
    const OpSpec* spec = FindOp(op);
    ASSERT_NE(spec, nullptr) << protocol::OpcodeName(op);
    EXPECT_EQ(spec->opcode, op);
    std::optional<TokenRole> want = TokenRole::kAdmin;
    if (op == Opcode::kHello) want = std::nullopt;
    if (read.count(op)) want = TokenRole::kRead;
    if (write.count(op)) want = TokenRole::kWrite;
    EXPECT_EQ(spec->role, want) << protocol::OpcodeName(op);
    EXPECT_EQ(RequiredRole(op), want);
    // The front end moves these bodies itself: the values, and shared memory.
    const bool streams = op == Opcode::kPut || op == Opcode::kBatchPut || op == Opcode::kGet ||
                         op == Opcode::kBatchGet || shm.count(op) > 0;
    EXPECT_EQ(spec->body == BodyKind::kSmall, !streams) << protocol::OpcodeName(op);
    EXPECT_EQ(spec->body == BodyKind::kShm, shm.count(op) > 0) << protocol::OpcodeName(op);
    EXPECT_EQ(spec->handler != nullptr, !streams);
  }
  EXPECT_EQ(FindOp(static_cast<Opcode>(0)), nullptr);
  EXPECT_EQ(FindOp(static_cast<Opcode>(static_cast<int>(kLastOpcode) + 1)), nullptr);
  EXPECT_EQ(RequiredRole(static_cast<Opcode>(99)), TokenRole::kAdmin) << "the safe default";
}

TEST_F(ServiceTest, OnlyHelloBeforeHello) {
  Open();
  auto session = NewSession();
  for (Opcode op : AllOps()) {
    Status st = service_->Admit(*session, op);
    if (op == Opcode::kHello) {
      EXPECT_TRUE(st.ok());
    } else {
      EXPECT_EQ(st.code(), StatusCode::kInvalid) << protocol::OpcodeName(op);
      EXPECT_EQ(st.message(), "HELLO must be the first request");
    }
  }
  EXPECT_FALSE(session->closing());
}

TEST_F(ServiceTest, EachRoleMaySendWhatTheTableSays) {
  Open();
  auto reader = SessionWith(read_token_);
  auto writer = SessionWith(write_token_);
  auto admin = SessionWith(admin_token_);
  for (Opcode op : AllOps()) {
    const TokenRole needed = RequiredRole(op).value_or(TokenRole::kRead);
    EXPECT_EQ(service_->Admit(*reader, op).ok(), needed == TokenRole::kRead)
        << protocol::OpcodeName(op);
    EXPECT_EQ(service_->Admit(*writer, op).ok(), needed != TokenRole::kAdmin)
        << protocol::OpcodeName(op);
    EXPECT_TRUE(service_->Admit(*admin, op).ok()) << protocol::OpcodeName(op);
  }
  Status refused = service_->Admit(*reader, Opcode::kPut);
  EXPECT_EQ(refused.code(), StatusCode::kUnauthorized);
  EXPECT_EQ(refused.message(), "PUT needs a token with role write; this one has read");
  EXPECT_FALSE(reader->closing()) << "a refused op ends only the request";
  EXPECT_EQ(service_->Admit(*writer, Opcode::kStats).message(),
            "STATS needs a token with role admin; this one has write");
  EXPECT_GT(service_->counters().access_denied.load(), 0u);
  EXPECT_NE(AuditText().find("\"event\":\"denied\""), std::string::npos);
}

TEST_F(ServiceTest, ARevokedTokenEndsItsSessionsAtTheirNextRequest) {
  Open();
  auto reader = SessionWith(read_token_);
  auto admin = SessionWith(admin_token_);
  EXPECT_TRUE(service_->Admit(*reader, Opcode::kGet).ok());
  const std::string id = reader->principal().token_id;
  NativeReply revoked = Call(*admin, Opcode::kTokenRevoke, protocol::EncodeString(id));
  ASSERT_TRUE(revoked.status.ok()) << revoked.status.ToString();
  Status st = service_->Admit(*reader, Opcode::kGet);
  EXPECT_EQ(st.code(), StatusCode::kUnauthorized);
  EXPECT_EQ(st.message(), "token " + id + " was revoked");
  EXPECT_TRUE(reader->closing());
  EXPECT_TRUE(service_->Admit(*admin, Opcode::kGet).ok()) << "other tokens are not affected";
  EXPECT_NE(AuditText().find("revoked_token_used"), std::string::npos);
}

TEST_F(ServiceTest, DeletingANamespaceRevokesItsTokens) {
  Open();
  auto other = SessionWith(other_write_token_);
  auto admin = SessionWith(admin_token_);
  ASSERT_TRUE(Call(*admin, Opcode::kNsDelete, protocol::EncodeString("other")).status.ok());
  EXPECT_EQ(service_->Admit(*other, Opcode::kPut).code(), StatusCode::kUnauthorized);
  EXPECT_TRUE(other->closing());
}

TEST_F(ServiceTest, WithAuthenticationOffEveryOpIsAdmitted) {
  service_options.auth = false;
  Open();
  auto session = NewSession();
  protocol::HelloRequest hello;
  hello.client_name = "no-auth";
  ASSERT_TRUE(Hello(*service_, *session, hello).ok());
  for (Opcode op : AllOps()) EXPECT_TRUE(service_->Admit(*session, op).ok());
}

}  // namespace
}  // namespace ctxstore::service::test
