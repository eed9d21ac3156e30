// ParseServerAddress / FormatServerAddress (ctxstore/client.h): every form
// the CLI's --server and the Python package accept, and what they refuse.
#include <gtest/gtest.h>

#include <string>

#include "ctxstore/client.h"

namespace ctxstore {
namespace {

ClientOptions Parsed(const std::string& address) {
  ClientOptions o;
  Status st = ParseServerAddress(address, &o);
  EXPECT_TRUE(st.ok()) << address << ": " << st.ToString();
  return o;
}

TEST(AddressTest, HostAndPortForms) {
  ClientOptions o = Parsed("10.0.0.7:7071");
  EXPECT_EQ(o.host, "10.0.0.7");
  EXPECT_EQ(o.port, 7071);
  EXPECT_FALSE(o.tls);
  EXPECT_TRUE(o.unix_path.empty());

  o = Parsed("cache.example");
  EXPECT_EQ(o.host, "cache.example");
  EXPECT_EQ(o.port, 7070) << "the default port";

  o = Parsed("[::1]:9");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 9);

  o = Parsed("[fe80::1]");
  EXPECT_EQ(o.host, "fe80::1");
  EXPECT_EQ(o.port, 7070);
}

TEST(AddressTest, Schemes) {
  ClientOptions o = Parsed("ctxstore://h:1");
  EXPECT_EQ(o.host, "h");
  EXPECT_EQ(o.port, 1);
  EXPECT_FALSE(o.tls);

  o = Parsed("ctxstores://h.example:2/");
  EXPECT_EQ(o.host, "h.example");
  EXPECT_EQ(o.port, 2);
  EXPECT_TRUE(o.tls);

  o = Parsed("unix:///run/ctxstore/ctx.sock");
  EXPECT_EQ(o.unix_path, "/run/ctxstore/ctx.sock");
  EXPECT_FALSE(o.tls);
}

TEST(AddressTest, ParsingReplacesEarlierChoices) {
  ClientOptions o;
  ASSERT_TRUE(ParseServerAddress("unix:///tmp/a.sock", &o).ok());
  ASSERT_TRUE(ParseServerAddress("ctxstores://h:3", &o).ok());
  EXPECT_TRUE(o.unix_path.empty()) << "a TCP address clears the socket path";
  EXPECT_TRUE(o.tls);
  ASSERT_TRUE(ParseServerAddress("unix:///tmp/b.sock", &o).ok());
  EXPECT_FALSE(o.tls);
  EXPECT_EQ(o.unix_path, "/tmp/b.sock");
}

TEST(AddressTest, RefusesWhatItCannotRead) {
  for (const std::string bad :
       {"", ":7070", "h:", "h:0", "h:65536", "h:port", "::1:7070", "[::1", "[::1]x", "http://h:1",
        "ctxstore://", "ctxstore://h:1/path", "ctxstore://user@h:1", "unix://relative.sock",
        "unix://", "h :1"}) {
    ClientOptions o;
    o.host = "unchanged";
    Status st = ParseServerAddress(bad, &o);
    EXPECT_EQ(st.code(), StatusCode::kInvalid) << "'" << bad << "' was accepted";
    EXPECT_NE(st.message().find("address '" + bad + "'"), std::string::npos) << st.message();
    EXPECT_EQ(o.host, "unchanged") << bad;
  }
  const std::string long_path = "unix:///" + std::string(120, 'p');
  ClientOptions o;
  Status st = ParseServerAddress(long_path, &o);
  EXPECT_EQ(st.code(), StatusCode::kInvalid);
  EXPECT_NE(st.message().find("at most 107 bytes"), std::string::npos) << st.message();
}

TEST(AddressTest, FormatsWhatItParses) {
  for (const std::string address :
       {"h:7070", "[::1]:9", "ctxstores://h:2", "unix:///run/ctx.sock"}) {
    EXPECT_EQ(FormatServerAddress(Parsed(address)), address);
  }
}

TEST(AddressTest, TlsOverAUnixSocketIsRefusedAtConnect) {
  ClientOptions o = Parsed("unix:///tmp/nothing-here.sock");
  o.tls_ca_file = "/etc/ssl/certs/ca-certificates.crt";
  auto client = Client::Connect(o);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kInvalid);
  EXPECT_NE(client.status().message().find("not offered on a Unix socket"), std::string::npos)
      << client.status().ToString();
}

TEST(AddressTest, AMissingSocketSaysSo) {
  ClientOptions o = Parsed("unix:///tmp/ctxstore-no-such-socket.sock");
  o.connect_timeout_ms = 200;
  auto client = Client::Connect(o);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find("no socket at /tmp/ctxstore-no-such-socket.sock"),
            std::string::npos)
      << client.status().ToString();
}

}  // namespace
}  // namespace ctxstore
