// RespWriter: every reply form, byte for byte, in RESP2 and RESP3.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "protocol/resp_reply.h"

namespace ctxstore::protocol {
namespace {

std::string Write(int proto, const std::function<void(RespWriter&)>& f) {
  std::string out = "x";  // the writer appends
  RespWriter w(&out, proto);
  f(w);
  return out.substr(1);
}

void Both(const std::function<void(RespWriter&)>& f, const std::string& resp2,
          const std::string& resp3) {
  EXPECT_EQ(Write(2, f), resp2);
  EXPECT_EQ(Write(3, f), resp3);
}

TEST(RespReplyTest, SameInBothVersions) {
  Both([](RespWriter& w) { w.Simple("OK"); }, "+OK\r\n", "+OK\r\n");
  Both([](RespWriter& w) { w.Simple("a\r\nb"); }, "+a  b\r\n", "+a  b\r\n");
  Both([](RespWriter& w) { w.Integer(0); }, ":0\r\n", ":0\r\n");
  Both([](RespWriter& w) { w.Integer(INT64_MIN); }, ":-9223372036854775808\r\n",
       ":-9223372036854775808\r\n");
  Both([](RespWriter& w) { w.Bulk("abc"); }, "$3\r\nabc\r\n", "$3\r\nabc\r\n");
  Both([](RespWriter& w) { w.Bulk(""); }, "$0\r\n\r\n", "$0\r\n\r\n");
  Both([](RespWriter& w) { w.Bulk(std::string("a\r\n\0", 4)); },
       std::string("$4\r\na\r\n\0\r\n", 10), std::string("$4\r\na\r\n\0\r\n", 10));
  Both([](RespWriter& w) { w.BulkHeader(1ull << 30); }, "$1073741824\r\n", "$1073741824\r\n");
  Both([](RespWriter& w) { w.Array(0); }, "*0\r\n", "*0\r\n");
  Both([](RespWriter& w) { w.Array(3); }, "*3\r\n", "*3\r\n");
}

TEST(RespReplyTest, Errors) {
  Both([](RespWriter& w) { w.Error("Protocol error: invalid bulk length"); },
       "-ERR Protocol error: invalid bulk length\r\n",
       "-ERR Protocol error: invalid bulk length\r\n");
  Both([](RespWriter& w) { w.Error("-NOAUTH Authentication required."); },
       "-NOAUTH Authentication required.\r\n", "-NOAUTH Authentication required.\r\n");
  Both([](RespWriter& w) { w.Error("unknown command 'a\r\nb'"); },
       "-ERR unknown command 'a  b'\r\n", "-ERR unknown command 'a  b'\r\n");
  Both([](RespWriter& w) { w.Error(""); }, "-ERR \r\n", "-ERR \r\n");
}

TEST(RespReplyTest, FormsThatDiffer) {
  Both([](RespWriter& w) { w.Null(); }, "$-1\r\n", "_\r\n");
  Both([](RespWriter& w) { w.NullArray(); }, "*-1\r\n", "_\r\n");
  Both([](RespWriter& w) { w.Map(2); }, "*4\r\n", "%2\r\n");
  Both([](RespWriter& w) { w.Map(0); }, "*0\r\n", "%0\r\n");
  Both([](RespWriter& w) { w.Verbatim("a=1\n"); }, "$4\r\na=1\n\r\n", "=8\r\ntxt:a=1\n\r\n");
}

TEST(RespReplyTest, HelloShapedMap) {
  auto hello = [](RespWriter& w) {
    w.Map(2);
    w.Bulk("server");
    w.Bulk("redis");
    w.Bulk("proto");
    w.Integer(w.proto());
  };
  Both(hello, "*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:2\r\n",
       "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n");
  EXPECT_EQ(Write(7, [](RespWriter& w) { w.Null(); }), "$-1\r\n");  // not 3: RESP2
}

}  // namespace
}  // namespace ctxstore::protocol
