// The key ops through the service layer, typed and through the native
// table: GET, EXISTS, DELETE (sync), BATCH_GET's budget, BATCH_EXISTS,
// MATCH_PREFIX with and without leases (and the session's lease limit),
// RELEASE, FLUSH and STATS.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "protocol/admin_bodies.h"
#include "protocol/read_ops.h"
#include "service/key_ops.h"
#include "service/stats.h"
#include "service_test_util.h"

namespace ctxstore::service::test {
namespace {

using protocol::Opcode;

std::string ValueOf(const engine::ValueRef& v) {
  return std::string(reinterpret_cast<const char*>(v.data), v.size);
}

TEST_F(ServiceTest, GetAndExistsWorkInTheSessionsNamespace) {
  Open();
  auto tenant = SessionWith(write_token_);
  auto other = SessionWith(other_write_token_);
  Store(*tenant, "k", "tenant value");
  auto v = Get(*service_, *tenant, "k", /*never_block=*/true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(ValueOf(*v), "tenant value") << "a DRAM hit never needs to block";
  EXPECT_EQ(v->xxh3, Xxh3("tenant value", 12));
  EXPECT_EQ(Get(*service_, *other, "k", true).status().code(), StatusCode::kNotFound);
  auto flash = ReadFromFlash(*service_, tenant->namespace_id(), "k");
  ASSERT_TRUE(flash.ok());
  EXPECT_EQ(ValueOf(*flash), "tenant value");

  auto len = Exists(*service_, *tenant, "k");
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 12u);
  EXPECT_EQ(Exists(*service_, *other, "k").status().code(), StatusCode::kNotFound);

  NativeReply exists = Call(*tenant, Opcode::kExists, protocol::EncodeKey("k"));
  ASSERT_TRUE(exists.status.ok());
  EXPECT_EQ(protocol::DecodeU64(exists.body).value(), 12u);
  EXPECT_EQ(Call(*tenant, Opcode::kExists, "").status.code(), StatusCode::kInvalid);
}

TEST_F(ServiceTest, DeleteIsAuditedAndASyncDeleteWaitsForFlash) {
  Open();
  auto session = SessionWith(write_token_);
  Store(*session, "a", "1");
  Store(*session, "b", "2");
  ASSERT_TRUE(Delete(*service_, *session, "a", /*sync=*/false, nullptr).ok());
  EXPECT_EQ(Exists(*service_, *session, "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Delete(*service_, *session, "a", false, nullptr).code(), StatusCode::kNotFound);
  EXPECT_NE(AuditText().find("\"event\":\"delete\""), std::string::npos);

  TestDurableWait durable;
  NativeReply reply =
      Call(*session, Opcode::kDelete, protocol::EncodeKey("b"), protocol::kFlagSync, &durable);
  ASSERT_TRUE(reply.status.ok()) << reply.status.ToString();
  ASSERT_TRUE(durable.armed()) << "a sync DELETE asks the front end to wait";
  EXPECT_TRUE(durable.Wait().ok());
  TestDurableWait unused;
  Store(*session, "c", "3");
  ASSERT_TRUE(Call(*session, Opcode::kDelete, protocol::EncodeKey("c"), 0, &unused).status.ok());
  EXPECT_FALSE(unused.armed()) << "a plain DELETE does not";
}

TEST_F(ServiceTest, BatchGetBudgetRefusesValuesPastTheReplyLimit) {
  BatchGetBudget budget(10);
  EXPECT_EQ(budget.Before(Result<uint64_t>(Status::NotFound("x"))), StatusCode::kNotFound);
  EXPECT_EQ(budget.Before(uint64_t{11}), StatusCode::kTooLarge) << "never read";
  EXPECT_EQ(budget.Before(uint64_t{6}), StatusCode::kOk);
  engine::ValueRef six;
  six.size = 6;
  EXPECT_EQ(budget.Take(six), StatusCode::kOk);
  EXPECT_EQ(budget.Before(uint64_t{5}), StatusCode::kTooLarge) << "6 + 5 > 10";
  EXPECT_EQ(budget.Before(uint64_t{4}), StatusCode::kOk);
  engine::ValueRef five;
  five.size = 5;
  EXPECT_EQ(budget.Take(five), StatusCode::kTooLarge) << "grew since its size was asked";
  EXPECT_EQ(budget.Take(Result<engine::ValueRef>(Status::Corrupt("bad"))), StatusCode::kCorrupt);
}

// BATCH_GET's items as the server computes them: the size first, then the
// read, within the reply budget.
std::vector<StatusCode> BatchGetCodes(const Service& service, const Session& session,
                                      const std::vector<std::string_view>& keys,
                                      std::vector<engine::ValueRef>* values) {
  BatchGetBudget budget(service.limits().max_batch_bytes);
  std::vector<StatusCode> codes;
  values->assign(keys.size(), engine::ValueRef{});
  for (size_t i = 0; i < keys.size(); ++i) {
    StatusCode code = budget.Before(Exists(service, session, keys[i]));
    if (code == StatusCode::kOk) {
      auto v = Get(service, session, keys[i], /*never_block=*/false);
      code = budget.Take(v);
      if (code == StatusCode::kOk) (*values)[i] = std::move(*v);
    }
    codes.push_back(code);
  }
  return codes;
}

TEST_F(ServiceTest, BatchGetAnswersEachItemWithinTheReplyBudget) {
  service_options.limits.max_batch_bytes = 10;
  Open();
  auto session = SessionWith(read_token_);
  Store(*session, "a", "123456");
  Store(*session, "b", "12345");
  Store(*session, "c", "1234");
  std::vector<engine::ValueRef> values;
  auto codes = BatchGetCodes(*service_, *session, {"a", "missing", "b", "c"}, &values);
  EXPECT_EQ(codes, (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kNotFound,
                                            StatusCode::kTooLarge, StatusCode::kOk}));
  EXPECT_EQ(ValueOf(values[0]), "123456");
  EXPECT_EQ(values[2].size, 0u) << "past the budget: never read";
  EXPECT_EQ(ValueOf(values[3]), "1234") << "6 + 4 still fits";
}

TEST_F(ServiceTest, BatchExistsAnswersOneFlagPerKey) {
  Open();
  auto session = SessionWith(read_token_);
  Store(*session, "a", "1");
  Store(*session, "c", "3");
  std::vector<std::string_view> keys = {"a", "b", "c"};
  EXPECT_EQ(BatchExists(*service_, *session, keys), (std::vector<bool>{true, false, true}));
  std::vector<std::string> owned = {"a", "b", "c"};
  NativeReply reply = Call(*session, Opcode::kBatchExists, protocol::EncodeKeyList(owned));
  ASSERT_TRUE(reply.status.ok());
  EXPECT_EQ(protocol::DecodeBatchExistsReply(reply.body).value(),
            (std::vector<bool>{true, false, true}));
  std::vector<std::string> too_many(service_->limits().max_batch_keys + 1, "k");
  EXPECT_EQ(Call(*session, Opcode::kBatchExists, protocol::EncodeKeyList(too_many)).status.code(),
            StatusCode::kTooLarge);
}

TEST_F(ServiceTest, MatchPrefixWithAndWithoutALease) {
  Open();
  auto session = SessionWith(read_token_);
  Store(*session, "p0", "a");
  Store(*session, "p1", "b");
  std::vector<std::string> keys = {"p0", "p1", "p2", "p3"};
  NativeReply plain = Call(*session, Opcode::kMatchPrefix,
                           protocol::EncodeMatchPrefixRequest(keys, /*ext=*/false, 0));
  ASSERT_TRUE(plain.status.ok());
  EXPECT_EQ(protocol::DecodeMatchPrefixReply(plain.body, false)->matched, 2u);
  EXPECT_EQ(session->leases().size(), 0u);

  NativeReply leased =
      Call(*session, Opcode::kMatchPrefix, protocol::EncodeMatchPrefixRequest(keys, true, 60'000),
           protocol::kFlagExt);
  ASSERT_TRUE(leased.status.ok()) << leased.status.ToString();
  auto reply = protocol::DecodeMatchPrefixReply(leased.body, true);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->matched, 2u);
  EXPECT_NE(reply->lease_id, 0u);
  EXPECT_EQ(session->leases().size(), 1u);
  EXPECT_EQ(engine_->Stat(tenant_id_, "p0")->leases, 1u);

  // Nothing matched: no lease.
  std::vector<std::string> absent = {"zz"};
  NativeReply none =
      Call(*session, Opcode::kMatchPrefix, protocol::EncodeMatchPrefixRequest(absent, true, 60'000),
           protocol::kFlagExt);
  EXPECT_EQ(protocol::DecodeMatchPrefixReply(none.body, true)->lease_id, 0u);
  EXPECT_EQ(session->leases().size(), 1u);
}

TEST_F(ServiceTest, LeasesAreBoundedPerSession) {
  service_options.limits.max_leases_per_connection = 2;
  Open();
  auto session = SessionWith(read_token_);
  auto second = SessionWith(read_token_);
  Store(*session, "k", "v");
  std::vector<std::string_view> keys = {"k"};
  const protocol::MatchPrefixRequest lease{60'000, keys};
  ASSERT_TRUE(MatchPrefix(*service_, *session, lease).ok());
  ASSERT_TRUE(MatchPrefix(*service_, *session, lease).ok());
  auto third = MatchPrefix(*service_, *session, lease);
  EXPECT_EQ(third.status().code(), StatusCode::kBusy);
  EXPECT_EQ(third.status().message(), "too many leases on this connection");
  EXPECT_TRUE(MatchPrefix(*service_, *session, {0, keys}).ok()) << "matching without a lease";
  EXPECT_TRUE(MatchPrefix(*service_, *second, lease).ok()) << "the limit is per session";

  // A lease that ran out no longer takes a slot.
  auto short_lived = SessionWith(read_token_);
  ASSERT_TRUE(MatchPrefix(*service_, *short_lived, {1, keys}).ok());
  ASSERT_TRUE(MatchPrefix(*service_, *short_lived, {1, keys}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(MatchPrefix(*service_, *short_lived, {1, keys}).ok());
  EXPECT_EQ(short_lived->leases().size(), 1u) << "the two that ran out were pruned";
}

TEST_F(ServiceTest, ReleaseEndsALeaseOfTheSessionsNamespace) {
  Open();
  auto session = SessionWith(admin_token_, "tenant");
  Store(*session, "k", "v");
  std::vector<std::string_view> keys = {"k"};
  auto m = MatchPrefix(*service_, *session, {60'000, keys});
  ASSERT_TRUE(m.ok());
  auto elsewhere = SessionWith(admin_token_, "other");
  EXPECT_EQ(Release(*service_, *elsewhere, m->lease_id).code(), StatusCode::kNotFound)
      << "another namespace's lease is unknown here";
  auto same_ns = SessionWith(read_token_);
  NativeReply released = Call(*same_ns, Opcode::kRelease, protocol::EncodeU64(m->lease_id));
  EXPECT_TRUE(released.status.ok()) << "any session of the namespace may release it";
  EXPECT_EQ(engine_->Stats().leases, 0u);
  EXPECT_EQ(Release(*service_, *session, m->lease_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(session->leases().size(), 0u) << "forgotten whatever the engine said";
  EXPECT_EQ(Call(*session, Opcode::kRelease, "1234567").status.code(), StatusCode::kInvalid);
}

TEST_F(ServiceTest, FlushAsksTheFrontEndToWait) {
  Open();
  auto session = SessionWith(write_token_);
  Store(*session, "k", "v");
  TestDurableWait durable;
  NativeReply reply = Call(*session, Opcode::kFlush, "", 0, &durable);
  ASSERT_TRUE(reply.status.ok());
  ASSERT_TRUE(durable.armed());
  EXPECT_TRUE(durable.Wait().ok());
  EXPECT_TRUE(engine_->Stat(tenant_id_, "k")->durable);
}

TEST_F(ServiceTest, StatsShowsTheEngineAndTheCounters) {
  Open();
  auto admin = SessionWith(admin_token_);
  Store(*admin, "k", "v");
  service_->counters().connections = 3;
  NativeReply reply = Call(*admin, Opcode::kStats, "");
  ASSERT_TRUE(reply.status.ok());
  auto counters = protocol::DecodeStatsReply(reply.body);
  ASSERT_TRUE(counters.ok()) << reply.body;
  auto find = [&](std::string_view name) -> std::optional<uint64_t> {
    for (const auto& c : *counters) {
      if (c.name == name) return c.value;
    }
    return std::nullopt;
  };
  EXPECT_EQ(find("objects"), 1u);
  EXPECT_EQ(find("namespaces"), 3u);
  EXPECT_EQ(find("connections"), 3u);
  EXPECT_EQ(find("puts"), 1u);
  EXPECT_TRUE(find("recovered_from_checkpoint").has_value());
  EXPECT_NE(reply.body.find("\"recovered_from_checkpoint\":false"), std::string::npos);
  EXPECT_EQ(counters->size(), Stats(*service_).size()) << "every field, once";
}

}  // namespace
}  // namespace ctxstore::service::test
