// Shared by the service-layer tests (service_*_test.cc): an engine on a
// temp dir, a Service over it with an audit log, access tokens of each role,
// and sessions that said HELLO with one. No socket, no server binary.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../engine_test_util.h"
#include "common/units.h"
#include "engine/engine.h"
#include "protocol/messages.h"
#include "service/audit_log.h"
#include "service/auth.h"
#include "service/hello.h"
#include "service/op_table.h"
#include "service/service.h"
#include "service/session.h"

namespace ctxstore::service::test {

using engine::TokenRole;

// A DurableWait whose callback's status a test can wait for.
class TestDurableWait final : public DurableWait {
 public:
  engine::DurableCallback Arm() override {
    armed_ = true;
    auto promise = std::make_shared<std::promise<Status>>();
    future_ = promise->get_future();
    return [promise](Status st) { promise->set_value(std::move(st)); };
  }
  bool armed() const { return armed_; }
  Status Wait() { return future_.get(); }

 private:
  bool armed_ = false;
  std::future<Status> future_;
};

class ServiceTest : public ::testing::Test {
 protected:
  // Options a test may change before Open().
  engine::EngineOptions engine_options;
  ServiceOptions service_options;

  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    engine_options.data_dir = dir_.data_dir();
    engine_options.memory_bytes = 8 * kMiB;
    engine_options.disk_bytes = 32 * kMiB;
    engine_options.segment_bytes = 1 * kMiB;
    engine_options.max_value_bytes = 1 * kMiB;
  }

  // Opens the engine and the service; issues the tokens.
  void Open() {
    engine_ = engine::test_util::OpenOrNull(engine_options);
    ASSERT_NE(engine_, nullptr);
    AuditLogOptions ao;
    ao.dir = dir_.path();
    auto audit = AuditLog::Open(ao);
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    audit_ = std::move(*audit);
    service_ = std::make_unique<Service>(engine_.get(), service_options, audit_.get());
    auto tenant = engine_->CreateNamespace("tenant", {});
    auto other = engine_->CreateNamespace("other", {});
    ASSERT_TRUE(tenant.ok() && other.ok());
    tenant_id_ = *tenant;
    other_id_ = *other;
    admin_token_ = Issue(TokenRole::kAdmin, engine::kAllNamespaces);
    write_token_ = Issue(TokenRole::kWrite, tenant_id_);
    read_token_ = Issue(TokenRole::kRead, tenant_id_);
    other_write_token_ = Issue(TokenRole::kWrite, other_id_);
  }

  std::string Issue(TokenRole role, uint32_t ns) {
    auto issued = IssueToken(engine_.get(), role, ns, "test");
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? issued->token : std::string();
  }

  std::unique_ptr<Session> NewSession() {
    return std::make_unique<Session>(*service_, "127.0.0.1:5555");
  }

  // A session that said HELLO with the token, into ns ("" = the token's).
  std::unique_ptr<Session> SessionWith(const std::string& token, std::string ns = "") {
    auto session = NewSession();
    protocol::HelloRequest hello;
    hello.client_name = "service-test";
    hello.namespace_name = std::move(ns);
    hello.token = token;
    auto reply = Hello(*service_, *session, hello);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return session;
  }

  // Calls an op's native handler, as the server does for small bodies.
  NativeReply Call(Session& session, protocol::Opcode op, std::string_view body, uint16_t flags = 0,
                   DurableWait* durable = nullptr) {
    const OpSpec* spec = FindOp(op);
    EXPECT_TRUE(spec != nullptr && spec->handler != nullptr);
    NativeRequest request;
    request.flags = flags;
    request.body = body;
    request.durable = durable;
    return spec->handler(*service_, session, request);
  }

  // Stores a value through the engine (the PUT path has its own tests).
  void Store(const Session& session, std::string_view key, std::string_view value,
             engine::WriteOptions opts = {}) {
    opts.namespace_id = session.namespace_id();
    ASSERT_TRUE(engine_->Put(key, engine::test_util::Bytes(value), opts).ok());
  }

  std::string AuditText() const {
    return engine::test_util::ReadWholeFile(dir_.path() + "/" + kAuditLogFileName);
  }

  engine::test_util::TempDir dir_{"ctxstore-service-test"};
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Service> service_;
  uint32_t tenant_id_ = 0;
  uint32_t other_id_ = 0;
  std::string admin_token_;
  std::string write_token_;
  std::string read_token_;
  std::string other_write_token_;
};

}  // namespace ctxstore::service::test
