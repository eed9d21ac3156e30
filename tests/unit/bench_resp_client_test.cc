// The harness's own Redis client (src/bench/resp_client.cc) against a real
// redis-server: the bytes a SET sends and a GET reads into the caller's
// buffer are exactly the value, at sizes that cross the client's 16 KiB line
// buffer and the socket buffers. Skipped where redis-server is not installed.
#include "bench/resp_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/loadgen.h"
#include "bench/process.h"
#include "bench_redis_fixture.h"

namespace ctxstore::bench {
namespace {

using RespClientTest = RedisServerTest;

TEST_F(RespClientTest, ValuesComeBackByteForByte) {
  auto client = RespClient::Connect(port_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  // Sizes around the 16 KiB line buffer and well past the socket buffers;
  // a value holding CRLF and "$" must not confuse the parser.
  for (size_t size : {size_t{0}, size_t{1}, size_t{16383}, size_t{16384}, size_t{65537},
                      size_t{(4u << 20) + 3}}) {
    SCOPED_TRACE(size);
    std::vector<char> value(size);
    FillValue(value.data(), value.size(), size + 1);
    if (size > 8) std::memcpy(value.data() + 2, "\r\n$5\r\n", 6);
    const std::string key = "k:" + std::to_string(size);
    ASSERT_TRUE((*client)->Set(key, value.data(), value.size()).ok());
    std::vector<char> got(size + 100, '\x55');
    auto len = (*client)->Get(key, got.data(), got.size());
    ASSERT_TRUE(len.ok()) << len.status().ToString();
    ASSERT_EQ(*len, size);
    EXPECT_TRUE(std::equal(value.begin(), value.end(), got.begin()));
    EXPECT_EQ(got[size], '\x55');  // nothing written past the value
  }
  // Replies in a row stay in step: a second GET after a large one.
  std::vector<char> small(8);
  auto len = (*client)->Get("k:1", small.data(), small.size());
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 1u);
}

TEST_F(RespClientTest, MissingKeyAndShortBuffer) {
  auto client = RespClient::Connect(port_);
  ASSERT_TRUE(client.ok());
  std::vector<char> buf(16);
  auto missing = (*client)->Get("no-such-key", buf.data(), buf.size());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::vector<char> value(100, 'v');
  ASSERT_TRUE((*client)->Set("big", value.data(), value.size()).ok());
  auto too_big = (*client)->Get("big", buf.data(), buf.size());
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalid);
}

}  // namespace
}  // namespace ctxstore::bench
