// PUT and BATCH_PUT through the service layer without a socket: the body's
// prefix parsed as the server parses it, the write options from the session
// and the put-options block, the in-flight budget, and the engine's
// reservation and commit. The value is copied in where the server would
// receive it.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "common/hash.h"
#include "protocol/put_body.h"
#include "service/key_ops.h"
#include "service/put_ops.h"
#include "service_test_util.h"

namespace ctxstore::service::test {
namespace {

using protocol::ParseStep;

// Feeds a parser from the body as it asks; *pos counts what it took.
template <typename Parser>
Result<ParseStep> Feed(Parser& parser, std::string_view body, size_t* pos) {
  for (;;) {
    auto step = parser.Next();
    if (!step.ok() || *step != ParseStep::kRead) return step;
    std::span<uint8_t> space = parser.Space();
    std::memcpy(space.data(), body.data() + *pos, space.size());
    *pos += space.size();
  }
}

// One value, received as ReceiveValue does it.
Status Receive(const Service& service, std::string_view key, std::string_view value,
               const engine::WriteOptions& opts, TestDurableWait* durable = nullptr) {
  auto hold = service.inflight().Reserve(value.size());
  if (!hold.ok()) return hold.status();
  auto put = BeginPut(service, key, value.size(), opts);
  if (!put.ok()) return put.status();
  if (!value.empty()) std::memcpy(put->buffer().data(), value.data(), value.size());
  return CommitPut(service, std::move(*put), durable ? durable->Arm() : nullptr);
}

// A whole PUT body.
Status Put(const Service& service, const Session& session, uint16_t flags, std::string_view body) {
  protocol::PutPrefixParser parser(flags, body.size());
  size_t pos = 0;
  auto step = Feed(parser, body, &pos);
  if (!step.ok()) return step.status();
  engine::WriteOptions opts = WriteOptionsFor(session, flags, parser.options());
  opts.expected_xxh3 = parser.xxh3();
  return Receive(service, parser.key(), body.substr(pos), opts);
}

// A whole BATCH_PUT body: each item's status.
Result<std::vector<StatusCode>> BatchPut(const Service& service, const Session& session,
                                         uint16_t flags, std::string_view body) {
  protocol::BatchPutParser parser(flags, body.size(), service.limits().max_batch_keys);
  std::vector<StatusCode> codes;
  engine::WriteOptions opts;
  size_t pos = 0;
  for (;;) {
    auto step = Feed(parser, body, &pos);
    if (!step.ok()) return step.status();
    if (*step == ParseStep::kDone) return codes;
    if (parser.index() == 0) opts = WriteOptionsFor(session, flags, parser.options());
    const protocol::BatchPutItem& item = parser.item();
    opts.expected_xxh3 = item.xxh3;
    codes.push_back(Receive(service, item.key, body.substr(pos, item.value_len), opts).code());
    pos += item.value_len;
    LinkNextItem(parser.options(), item.key, &opts);
  }
}

TEST_F(ServiceTest, PutStoresWhatTheBodyCarries) {
  Open();
  auto session = SessionWith(write_token_);
  std::string body = protocol::EncodePutPrefix("k", Xxh3("value", 5), nullptr) + "value";
  ASSERT_TRUE(Put(*service_, *session, protocol::kFlagChecksum, body).ok());
  auto v = Get(*service_, *session, "k", true);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->data), v->size), "value");
  auto info = engine_->Stat(tenant_id_, "k");
  EXPECT_EQ(info->writer, session->principal().token_id) << "the session's writer";

  EXPECT_EQ(Put(*service_, *session, 0, body.substr(0, 3) + "value").code(), StatusCode::kExists);
  EXPECT_TRUE(Put(*service_, *session, protocol::kFlagOverwrite,
                  protocol::EncodePutPrefix("k", std::nullopt, nullptr) + "v2")
                  .ok());
  EXPECT_EQ(engine_->Exists(tenant_id_, "k").value(), 2u);
  // A value that does not match its checksum is not stored.
  std::string corrupt = protocol::EncodePutPrefix("c", Xxh3("other", 5), nullptr) + "value";
  EXPECT_EQ(Put(*service_, *session, protocol::kFlagChecksum, corrupt).code(),
            StatusCode::kCorrupt);
  EXPECT_EQ(engine_->Exists(tenant_id_, "c").status().code(), StatusCode::kNotFound);
  // A refused prefix: the server skips the rest of the body.
  EXPECT_EQ(Put(*service_, *session, 0, "x").code(), StatusCode::kInvalid);
  EXPECT_EQ(
      Put(*service_, *session, 0, protocol::EncodeKey("big") + std::string(2 << 20, 'v')).code(),
      StatusCode::kTooLarge)
      << "past the engine's max value";
}

TEST_F(ServiceTest, PutOptionsReachTheObject) {
  Open();
  auto session = SessionWith(write_token_);
  protocol::PutOptionsBlock options{60'000, 0, "session-1", "parent", "{\"m\":1}"};
  std::string body = protocol::EncodePutPrefix("k", std::nullopt, &options) + "v";
  ASSERT_TRUE(Put(*service_, *session, protocol::kFlagExt, body).ok());
  auto info = engine_->Stat(tenant_id_, "k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->group, "session-1");
  EXPECT_EQ(info->parent, "parent");
  EXPECT_EQ(info->meta, "{\"m\":1}");
  EXPECT_GT(info->expires_ms, 0u);
}

TEST_F(ServiceTest, SyncPutIsAcknowledgedOnceDurable) {
  Open();
  auto session = SessionWith(write_token_);
  engine::WriteOptions opts = WriteOptionsFor(*session, protocol::kFlagSync, std::nullopt);
  EXPECT_TRUE(opts.sync);
  EXPECT_EQ(opts.namespace_id, tenant_id_);
  TestDurableWait durable;
  ASSERT_TRUE(Receive(*service_, "k", "value", opts, &durable).ok());
  EXPECT_TRUE(durable.Wait().ok());
  EXPECT_TRUE(engine_->Stat(tenant_id_, "k")->durable);
}

TEST_F(ServiceTest, BatchPutChainsItemsEvenPastRefusedOnes) {
  Open();
  auto session = SessionWith(write_token_);
  Store(*session, "p1", "already there");
  protocol::PutOptionsBlock options{0, protocol::kPutFlagChain, "g", "p0", ""};
  std::string body = protocol::EncodeBatchPutHead(3, &options);
  for (const char* key : {"p1", "p2", "p3"}) {
    protocol::AppendBatchPutItemHeader(&body, key, 1, Xxh3("x", 1));
    body += "x";
  }
  auto codes = BatchPut(*service_, *session, protocol::kFlagExt | protocol::kFlagChecksum, body);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_EQ(*codes,
            (std::vector<StatusCode>{StatusCode::kExists, StatusCode::kOk, StatusCode::kOk}));
  EXPECT_EQ(engine_->Stat(tenant_id_, "p2")->parent, "p1") << "linked past the refusal";
  EXPECT_EQ(engine_->Stat(tenant_id_, "p3")->parent, "p2");
  EXPECT_EQ(engine_->Stat(tenant_id_, "p3")->group, "g");

  std::string trailing = protocol::EncodeBatchPutHead(0, nullptr) + "x";
  EXPECT_EQ(BatchPut(*service_, *session, 0, trailing).status().message(),
            "trailing bytes after BATCH_PUT items");
}

TEST_F(ServiceTest, TheInflightBudgetRefusesValuesPastIt) {
  service_options.max_inflight_bytes = 100;
  Open();
  EXPECT_EQ(service_->options().max_inflight_bytes, 100u);
  InflightBudget& budget = service_->inflight();
  {
    auto first = budget.Reserve(60);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(service_->counters().inflight_bytes.load(), 60u);
    auto second = budget.Reserve(60);
    EXPECT_EQ(second.status().code(), StatusCode::kBusy);
    EXPECT_EQ(second.status().message(),
              "too many value bytes in flight on the server (100-byte budget); retry");
    EXPECT_EQ(service_->counters().inflight_refused.load(), 1u);
    EXPECT_TRUE(budget.Reserve(40).ok()) << "what fits still goes";
  }
  EXPECT_EQ(service_->counters().inflight_bytes.load(), 0u) << "given back";
  EXPECT_TRUE(budget.Reserve(1000).ok()) << "alone, a value larger than the budget goes through";
}

TEST_F(ServiceTest, TheInflightBudgetDefaultsToHalfTheDramTier) {
  Open();
  EXPECT_EQ(service_->options().max_inflight_bytes, engine_options.memory_bytes / 2);
}

}  // namespace
}  // namespace ctxstore::service::test
