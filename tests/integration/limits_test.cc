// The size and count limits of `ctxstore serve`, each enforced by the server
// itself over a socket: raw frames past a limit (the client library checks
// most limits locally, which would hide a server that does not), the same at
// the limit, and what HELLO announces. --max-value, --max-batch-bytes
// (BATCH_PUT bodies and BATCH_GET replies), the store-wide --max-pins across
// namespaces, and the 1 MiB bound on small bodies.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/limits.h"
#include "ctxstore/client.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using protocol::Opcode;
using testing::RawConn;
using testing::ServerProcess;

constexpr uint64_t kMaxValue = 64 << 10;
constexpr uint64_t kMaxBatchBytes = 256 << 10;
constexpr uint64_t kMaxPins = 3;
constexpr uint64_t kSmallBodyLimit = 1 << 20;  // protocol::Limits, not configurable

class ServeLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::ServerOptions o;
    o.extra_args = {"--max-value",       std::to_string(kMaxValue),
                    "--max-batch-bytes", std::to_string(kMaxBatchBytes),
                    "--max-pins",        std::to_string(kMaxPins)};
    server_ = new ServerProcess(o);
    ASSERT_TRUE(server_->Start());
  }
  static void TearDownTestSuite() {
    testing::StopAndReport(*server_);
    delete server_;
  }

  static std::unique_ptr<Client> Connect(const std::string& ns = "") {
    ClientOptions o;
    o.port = server_->port();
    o.token = server_->admin_token();
    o.namespace_name = ns;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  static std::unique_ptr<RawConn> Raw() {
    auto c = std::make_unique<RawConn>(server_->port());
    c->Hello(server_->admin_token());
    return c;
  }
  // A plain PUT of key and value, as a frame.
  static std::string PutBody(const std::string& key, const std::string& value) {
    return protocol::EncodeKey(key) + value;
  }
  static std::string BatchPutBody(const std::vector<std::pair<std::string, std::string>>& items) {
    const uint32_t count = static_cast<uint32_t>(items.size());
    std::string body(reinterpret_cast<const char*>(&count), sizeof(count));
    for (const auto& [key, value] : items) {
      body += protocol::EncodeBatchPutItemHeader(key, value.size()) + value;
    }
    return body;
  }
  static StatusCode Exists(RawConn& c, const std::string& key) {
    c.SendFrame(Opcode::kExists, protocol::EncodeKey(key));
    auto r = c.ReadReply();
    return r ? r->header.status : StatusCode::kUnavailable;
  }

  static ServerProcess* server_;
};
ServerProcess* ServeLimits::server_ = nullptr;

TEST_F(ServeLimits, MaxValueIsEnforcedByTheServer) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->server_info().max_value_bytes, kMaxValue);

  auto c = Raw();
  const std::string at_limit(kMaxValue, 'v');
  c->SendFrame(Opcode::kPut, PutBody("value/at-limit", at_limit));
  auto r = c->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kOk);

  // One byte more: refused, nothing stored, and the connection goes on
  // (the value was drained).
  c->SendFrame(Opcode::kPut, PutBody("value/over", at_limit + "v"));
  r = c->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kTooLarge) << r->body;
  EXPECT_EQ(Exists(*c, "value/over"), StatusCode::kNotFound);
  EXPECT_EQ(Exists(*c, "value/at-limit"), StatusCode::kOk);

  // A body no PUT under the limit can have: refused from the header alone,
  // and the connection closed (its body is never read).
  auto big = Raw();
  const uint64_t frame_max = 2 + kMaxKeyBytes + 8 + protocol::kMaxPutOptionsBytes + kMaxValue;
  big->SendFrame(Opcode::kPut, "", 0, frame_max + 1);
  r = big->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kTooLarge) << r->body;
  EXPECT_TRUE(big->ClosedByPeer());
}

TEST_F(ServeLimits, MaxBatchBytesBoundsBatchPutBodiesAndBatchGetReplies) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->server_info().max_batch_bytes, kMaxBatchBytes);

  // A BATCH_PUT body of exactly the limit is taken.
  const std::string v60k(60 << 10, 'b');
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 4; ++i) items.push_back({"batch/" + std::to_string(i), v60k});
  std::string body = BatchPutBody(items);
  ASSERT_LT(body.size(), kMaxBatchBytes);
  items.push_back(
      {"batch/4", std::string(kMaxBatchBytes - body.size() -
                                  protocol::EncodeBatchPutItemHeader("batch/4", 0).size(),
                              'b')});
  body = BatchPutBody(items);
  ASSERT_EQ(body.size(), kMaxBatchBytes);
  auto c = Raw();
  c->SendFrame(Opcode::kBatchPut, body);
  auto r = c->ReadReply();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->header.status, StatusCode::kOk) << r->body;
  EXPECT_EQ(*protocol::DecodeStatusList(r->body), std::vector<StatusCode>(5, StatusCode::kOk));

  // One byte more: refused from the header, nothing stored, closed.
  items.back().first = "batch/5";
  items.back().second += "b";
  body = BatchPutBody(items);
  ASSERT_EQ(body.size(), kMaxBatchBytes + 1);
  auto over = Raw();
  over->SendFrame(Opcode::kBatchPut, body);
  r = over->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kTooLarge) << r->body;
  EXPECT_TRUE(over->ClosedByPeer());
  EXPECT_EQ(Exists(*c, "batch/5"), StatusCode::kNotFound);

  // BATCH_GET: values up to the budget are served, the one that would pass
  // it answers TOO_LARGE (never read), and those after it still fit.
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back("get/" + std::to_string(i));
    ASSERT_TRUE(client->Put(keys.back(), std::string(60 << 10, static_cast<char>('0' + i))).ok());
  }
  keys.push_back("get/small");
  ASSERT_TRUE(client->Put("get/small", "s").ok());
  auto got = client->BatchGet(keys);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 6u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*got)[i].code, StatusCode::kOk) << i;
    EXPECT_EQ((*got)[i].value, std::string(60 << 10, static_cast<char>('0' + i))) << i;
  }
  EXPECT_EQ((*got)[4].code, StatusCode::kTooLarge) << "240 KiB + 60 KiB is past 256 KiB";
  EXPECT_EQ((*got)[5].code, StatusCode::kOk);
  EXPECT_EQ((*got)[5].value, "s");
}

// --max-pins bounds the pin rules (keys and groups) of all namespaces
// together; re-pinning a pinned key makes no new rule, and an unpin frees one.
TEST_F(ServeLimits, MaxPinsIsStoreWide) {
  auto admin = Connect();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->CreateNamespace("pins-a").ok());
  ASSERT_TRUE(admin->CreateNamespace("pins-b").ok());
  auto a = Connect("pins-a");
  auto b = Connect("pins-b");
  ASSERT_TRUE(a != nullptr && b != nullptr);
  for (const char* key : {"k1", "k2", "k3"}) {
    ASSERT_TRUE(a->Put(key, "v").ok());
    ASSERT_TRUE(b->Put(key, "v", {.group = "g"}).ok());
  }
  ASSERT_TRUE(a->Pin("k1").ok());
  ASSERT_TRUE(a->Pin("k2").ok());
  ASSERT_TRUE(b->Pin("g", {.by_group = true}).ok());  // the third rule, another namespace
  auto refused = b->Pin("k1");
  EXPECT_EQ(refused.status().code(), StatusCode::kNoSpace) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("too many pins (3)"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(a->Pin("k3").status().code(), StatusCode::kNoSpace);
  EXPECT_TRUE(a->Pin("k1", {.ttl_ms = 60'000}).ok()) << "an existing rule is replaced, not added";
  auto stats = testing::StatsOf(*admin);
  EXPECT_EQ(stats["pin_rules"].get<uint64_t>(), kMaxPins) << stats.dump();
  ASSERT_TRUE(a->Unpin("k2").ok());
  EXPECT_TRUE(a->Pin("k3").ok());
  for (const char* key : {"k1", "k3"}) ASSERT_TRUE(a->Unpin(key).ok());
  ASSERT_TRUE(b->Unpin("g", /*by_group=*/true).ok());
}

// Bodies that carry no value (every op but PUT and BATCH_PUT) are read
// whole, so they are bounded: at most 1 MiB, refused from the header past
// it and the connection closed; at the limit the body is read and answered.
TEST_F(ServeLimits, SmallBodiesAreAtMostOneMiB) {
  auto c = Raw();
  const std::string key = protocol::EncodeKey("small/k");
  c->SendFrame(Opcode::kExists, key + std::string(kSmallBodyLimit - key.size(), '\0'));
  auto r = c->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.status, StatusCode::kInvalid) << "trailing bytes: read, then refused";
  EXPECT_EQ(Exists(*c, "small/k"), StatusCode::kNotFound) << "the connection goes on";

  for (Opcode op : {Opcode::kExists, Opcode::kNsCreate, Opcode::kMatchPrefix}) {
    auto over = Raw();
    over->SendFrame(op, "", 0, kSmallBodyLimit + 1);
    r = over->ReadReply();
    ASSERT_TRUE(r.has_value()) << protocol::OpcodeName(op);
    EXPECT_EQ(r->header.status, StatusCode::kTooLarge) << protocol::OpcodeName(op);
    EXPECT_TRUE(over->ClosedByPeer()) << protocol::OpcodeName(op);
  }
}

}  // namespace
}  // namespace ctxstore
