// TLS on the native protocol, through the real server binary: certificates
// made by the openssl CLI for each test, a TLS client against a TLS server
// (the C++ client and the CLI), plaintext refused on a TLS listener, a wrong
// CA or host name refused by the client, mutual TLS, the TLS 1.2 floor and
// the bound on a stalled handshake.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/subprocess.h"
#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::CliResult;
using ::ctxstore::testing::Describe;
using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;
using ::ctxstore::testing::TempDir;

// A CA, a server certificate for 127.0.0.1 signed by it, a client
// certificate signed by it, and an unrelated CA.
struct Certificates {
  TempDir dir;
  std::string Path(const std::string& name) const { return dir.path() + "/" + name; }
};

::testing::AssertionResult Openssl(const std::string& dir, const std::string& script) {
  auto r = RunCommand({"bash", "-c", "set -e; cd '" + dir + "'; " + script}, 60000);
  if (!r.ok()) return ::testing::AssertionFailure() << r.status().ToString();
  if (r->exit_code != 0) {
    return ::testing::AssertionFailure() << "openssl failed (" << r->exit_code << "): " << r->err;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult MakeCertificates(const Certificates& c) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  return Openssl(
      c.dir.path(),
      "openssl req -x509 " + ec +
          " -keyout ca.key -out ca.crt -days 2 -subj /CN=ctxstore-test-ca;" + "openssl req -x509 " +
          ec + " -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=someone-else;" +
          "openssl req " + ec + " -keyout server.key -out server.csr -subj /CN=ctxstore-server;" +
          "printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext;" +
          "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
          "-out server.crt -days 2 -extfile server.ext;" +
          "openssl req " + ec + " -keyout client.key -out client.csr -subj /CN=ctxstore-client;" +
          "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
          "-out client.crt -days 2;" +
          // A server certificate for another name.
          "openssl req " + ec + " -keyout wrong.key -out wrong.csr -subj /CN=elsewhere;" +
          "printf 'subjectAltName=DNS:elsewhere.example,IP:10.9.9.9\\n' > wrong.ext;" +
          "openssl x509 -req -in wrong.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
          "-out wrong.crt -days 2 -extfile wrong.ext");
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(MakeCertificates(certs_)); }

  ClientOptions Options(const ServerProcess& server) const {
    ClientOptions o;
    o.port = server.port();
    o.token = server.admin_token();
    o.tls_ca_file = certs_.Path("ca.crt");
    o.connect_timeout_ms = 5000;
    o.io_timeout_ms = 5000;
    return o;
  }

  Certificates certs_;
};

TEST_F(TlsTest, ClientsTalkTlsAndPlaintextIsRefused) {
  testing::ServerOptions so;
  so.extra_args = {"--tls-cert", certs_.Path("server.crt"), "--tls-key", certs_.Path("server.key")};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());

  auto client = Client::Connect(Options(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString() << "\n" << server.log();
  // Small and large values, in both directions, over several records.
  const std::string big = testing::RandomBytes(5 << 20, 7);
  ASSERT_TRUE((*client)->Put("small", "over tls").ok());
  ASSERT_TRUE((*client)->Put("big", big).ok());
  auto got = (*client)->Get("big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == big);
  std::vector<PutItem> items = {
      {"b1", std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(big.data()), 100000)},
      {"b2", std::span<const uint8_t>()}};
  auto codes = (*client)->BatchPut(items);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  std::vector<std::string> keys = {"small", "b1", "b2"};
  auto values = (*client)->BatchGet(keys);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)[0].value, "over tls");
  EXPECT_EQ((*values)[1].value, big.substr(0, 100000));

  // A plaintext client gets nowhere: its HELLO is not a TLS handshake.
  ClientOptions plain = Options(server);
  plain.tls_ca_file.clear();
  auto refused = Client::Connect(plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();

  // The client checks whom it talks to: another CA, or a certificate for
  // another host, fails the handshake.
  ClientOptions other_ca = Options(server);
  other_ca.tls_ca_file = certs_.Path("other-ca.crt");
  auto untrusted = Client::Connect(other_ca);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(untrusted.status().message().find("certificate"), std::string::npos)
      << untrusted.status().ToString();

  // The CLI: --tls-ca, and exit 3 when the handshake fails.
  CliResult r = server.Cli({"get", "--tls-ca", certs_.Path("ca.crt"), "small"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "over tls");
  r = server.Cli({"get", "small"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  // The server served every good client and is still up.
  auto again = Client::Connect(Options(server));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE((*again)->Exists("big").ok());
  StopAndReport(server);
}

TEST_F(TlsTest, ServerCertificateMustNameTheHost) {
  testing::ServerOptions so;
  so.extra_args = {"--tls-cert", certs_.Path("wrong.crt"), "--tls-key", certs_.Path("wrong.key")};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());
  auto client = Client::Connect(Options(server));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable) << client.status().ToString();
  StopAndReport(server);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  testing::ServerOptions so;
  so.extra_args = {"--tls-cert",      certs_.Path("server.crt"),
                   "--tls-key",       certs_.Path("server.key"),
                   "--tls-client-ca", certs_.Path("ca.crt")};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());

  auto anonymous = Client::Connect(Options(server));
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), StatusCode::kUnavailable);

  ClientOptions with_cert = Options(server);
  with_cert.tls_cert_file = certs_.Path("client.crt");
  with_cert.tls_key_file = certs_.Path("client.key");
  auto client = Client::Connect(with_cert);
  ASSERT_TRUE(client.ok()) << client.status().ToString() << "\n" << server.log();
  ASSERT_TRUE((*client)->Put("k", "mutual").ok());

  // A client certificate from another CA is refused too.
  ASSERT_TRUE(Openssl(certs_.dir.path(),
                      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                      "-keyout rogue.key -out rogue.csr -subj /CN=rogue;"
                      "openssl x509 -req -in rogue.csr -CA other-ca.crt -CAkey other-ca.key "
                      "-CAcreateserial -out rogue.crt -days 2"));
  ClientOptions rogue = Options(server);
  rogue.tls_cert_file = certs_.Path("rogue.crt");
  rogue.tls_key_file = certs_.Path("rogue.key");
  auto refused = Client::Connect(rogue);
  EXPECT_FALSE(refused.ok());

  CliResult r =
      server.Cli({"get", "--tls-ca", certs_.Path("ca.crt"), "--tls-cert", certs_.Path("client.crt"),
                  "--tls-key", certs_.Path("client.key"), "k"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "mutual");
  StopAndReport(server);
}

// A TLS handshake over a plain socket with the OpenSSL API, offering at most
// max_version (and at least TLS 1.0, at security level 0, so that the
// client itself does not rule the old versions out). The certificate is
// not checked: only the server's choice of version is. The version
// negotiated, or 0 when the handshake failed.
int HandshakeVersion(uint16_t port, int max_version) {
  testing::RawConn conn(port);
  if (!conn.connected()) return 0;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return 0;
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL* ssl = SSL_new(ctx);
  int version = 0;
  if (ssl != nullptr && SSL_set_fd(ssl, conn.fd()) == 1 && SSL_connect(ssl) == 1) {
    version = SSL_version(ssl);
  }
  if (ssl != nullptr) SSL_free(ssl);
  SSL_CTX_free(ctx);
  return version;
}

// The floor is TLS 1.2: a client that offers at most TLS 1.1 or 1.0 fails
// the handshake; TLS 1.2 and 1.3 clients get the version they asked for.
TEST_F(TlsTest, VersionsBeforeTls12AreRefused) {
  testing::ServerOptions so;
  so.extra_args = {"--tls-cert", certs_.Path("server.crt"), "--tls-key", certs_.Path("server.key")};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(HandshakeVersion(server.port(), TLS1_VERSION), 0) << "TLS 1.0 was accepted";
  EXPECT_EQ(HandshakeVersion(server.port(), TLS1_1_VERSION), 0) << "TLS 1.1 was accepted";
  EXPECT_EQ(HandshakeVersion(server.port(), TLS1_2_VERSION), TLS1_2_VERSION);
  EXPECT_EQ(HandshakeVersion(server.port(), TLS1_3_VERSION), TLS1_3_VERSION);
  auto client = Client::Connect(Options(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  StopAndReport(server);
}

// A peer that connects and then stalls in the handshake (sends nothing, or
// half a ClientHello) holds its connection for --frame-timeout at most, not
// for the hello or idle timeouts.
TEST_F(TlsTest, AStalledHandshakeIsClosedAtTheFrameTimeout) {
  constexpr int64_t kFrameTimeoutMs = 500;
  constexpr int64_t kMarginMs = 2500;
  testing::ServerOptions so;
  so.extra_args = {"--tls-cert",      certs_.Path("server.crt"),
                   "--tls-key",       certs_.Path("server.key"),
                   "--frame-timeout", "500ms",
                   "--hello-timeout", "60s",
                   "--idle-timeout",  "60s"};
  ServerProcess server(so);
  ASSERT_TRUE(server.Start());
  testing::Stopwatch since_connect;
  testing::RawConn silent(server.port());
  testing::RawConn partial(server.port());
  ASSERT_TRUE(silent.connected() && partial.connected());
  // A TLS record header announcing a 512-byte ClientHello, and 10 bytes of it.
  partial.Send(std::string("\x16\x03\x01\x02\x00", 5) + std::string(10, '\x01'));
  for (testing::RawConn* conn : {&silent, &partial}) {
    ASSERT_TRUE(conn->DrainUntilClosed(static_cast<int>(kFrameTimeoutMs + kMarginMs)))
        << "still open after " << since_connect.ElapsedMs() << " ms";
  }
  const int64_t waited_ms = since_connect.ElapsedMs();
  EXPECT_GE(waited_ms, kFrameTimeoutMs - 50) << "closed before the frame timeout";
  EXPECT_LE(waited_ms, kFrameTimeoutMs + kMarginMs);
  auto client = Client::Connect(Options(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto stats = (*client)->StatsJson();
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(nlohmann::json::parse(*stats)["timeouts"].get<uint64_t>(), 2u) << *stats;
  StopAndReport(server);
}

TEST(TlsOptions, BadTlsSettingsAreUsageErrors) {
  TempDir dir;
  CliResult r = testing::RunCli(
      {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--tls-cert", "x.pem"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  r = testing::RunCli(
      {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--tls-client-ca", "ca.pem"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  // Files that do not exist: the server does not start.
  r = testing::RunCli({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--tls-cert",
                       dir.path() + "/none.crt", "--tls-key", dir.path() + "/none.key"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ctxstore
