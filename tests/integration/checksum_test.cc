// End-to-end checksums through a proxy that damages one byte in flight
// (TamperProxy): the client sends each PUT's XXH3 and the server refuses a
// value damaged on the way (CORRUPT, nothing stored); the server sends the
// stored XXH3 with each GET and the client refuses a reply damaged on the
// way. With the checksums turned off in the client the same damage goes
// through unnoticed, which shows the proxy's damage is real and that the
// checksums are what catch it.
#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using testing::ServerProcess;
using testing::StopAndReport;
using testing::TamperProxy;
using Direction = TamperProxy::Direction;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class ChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    proxy_ = std::make_unique<TamperProxy>(server_.port());
    direct_ = Connect(server_.port(), true, true);
    ASSERT_NE(direct_, nullptr);
  }
  void TearDown() override {
    direct_.reset();
    proxy_.reset();
    StopAndReport(server_);
  }
  // One pooled connection, so that the proxy's connection is idle between
  // calls and the next frame is the next call's.
  std::unique_ptr<Client> Connect(uint16_t port, bool send, bool verify) {
    ClientOptions o;
    o.port = port;
    o.token = server_.admin_token();
    o.max_idle_connections = 1;
    o.send_checksums = send;
    o.verify_checksums = verify;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  ServerProcess server_;
  std::unique_ptr<TamperProxy> proxy_;
  std::unique_ptr<Client> direct_;  // not through the proxy
};

TEST_F(ChecksumTest, TheServerRefusesARequestDamagedInFlight) {
  auto client = Connect(proxy_->port(), /*send=*/true, /*verify=*/true);
  ASSERT_NE(client, nullptr);
  const std::string value = testing::RandomBytes(100000, 1);

  proxy_->DamageNextFrame(Direction::kToServer);
  Status st = client->Put("put/damaged", value);
  ASSERT_EQ(proxy_->damaged(), 1);
  EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.ToString();
  EXPECT_EQ(direct_->Exists("put/damaged").status().code(), StatusCode::kNotFound)
      << "a value damaged in flight was stored";
  // The connection goes on, and an undamaged PUT is stored.
  ASSERT_TRUE(client->Put("put/damaged", value).ok());
  auto got = direct_->Get("put/damaged");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == value);

  // BATCH_PUT: the damaged item (the last) alone is refused.
  const std::string other = testing::RandomBytes(5000, 2);
  std::vector<PutItem> items = {{"batch/ok", Bytes(value)}, {"batch/damaged", Bytes(other)}};
  proxy_->DamageNextFrame(Direction::kToServer);
  auto codes = client->BatchPut(items);
  ASSERT_EQ(proxy_->damaged(), 2);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_EQ(*codes, (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kCorrupt}));
  EXPECT_EQ(direct_->Exists("batch/damaged").status().code(), StatusCode::kNotFound);

  // Without the client's checksum the server has nothing to check against:
  // the damaged value is stored as it arrived.
  auto unchecked = Connect(proxy_->port(), /*send=*/false, /*verify=*/true);
  ASSERT_NE(unchecked, nullptr);
  proxy_->DamageNextFrame(Direction::kToServer);
  ASSERT_TRUE(unchecked->Put("put/unchecked", value).ok());
  ASSERT_EQ(proxy_->damaged(), 3);
  got = direct_->Get("put/unchecked");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(*got == value) << "the proxy did not damage the value";
  EXPECT_EQ(got->size(), value.size());
}

TEST_F(ChecksumTest, TheClientRefusesAReplyDamagedInFlight) {
  const std::string value = testing::RandomBytes(100000, 3);
  ASSERT_TRUE(direct_->Put("get/k", value).ok());
  auto client = Connect(proxy_->port(), /*send=*/true, /*verify=*/true);
  ASSERT_NE(client, nullptr);

  proxy_->DamageNextFrame(Direction::kToClient);
  auto got = client->Get("get/k");
  ASSERT_EQ(proxy_->damaged(), 1);
  ASSERT_FALSE(got.ok()) << "the client returned damaged bytes";
  EXPECT_EQ(got.status().code(), StatusCode::kCorrupt) << got.status().ToString();
  // The next GET, undamaged, is served exactly.
  got = client->Get("get/k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == value);

  // GET with metadata and BATCH_GET verify too.
  proxy_->DamageNextFrame(Direction::kToClient);
  auto with_meta = client->GetWithMeta("get/k");
  ASSERT_EQ(proxy_->damaged(), 2);
  EXPECT_EQ(with_meta.status().code(), StatusCode::kCorrupt);
  ASSERT_TRUE(direct_->Put("get/k2", "second value").ok());
  std::vector<std::string> keys = {"get/k2", "get/k"};
  proxy_->DamageNextFrame(Direction::kToClient);
  auto items = client->BatchGet(keys);
  ASSERT_EQ(proxy_->damaged(), 3);
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  EXPECT_EQ((*items)[0].code, StatusCode::kOk);
  EXPECT_EQ((*items)[0].value, "second value");
  EXPECT_EQ((*items)[1].code, StatusCode::kCorrupt);

  // Without verification the damaged bytes reach the caller.
  auto unverified = Connect(proxy_->port(), /*send=*/true, /*verify=*/false);
  ASSERT_NE(unverified, nullptr);
  proxy_->DamageNextFrame(Direction::kToClient);
  got = unverified->Get("get/k");
  ASSERT_EQ(proxy_->damaged(), 4);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(*got == value) << "the proxy did not damage the reply";
}

}  // namespace
}  // namespace ctxstore
