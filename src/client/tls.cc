#include "client/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace ctxstore::client {

std::string TlsErrorText() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown TLS error" : text;
}

Result<TlsContext> MakeClientTlsContext(const std::string& ca_file, const std::string& cert_file,
                                        const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return Status::Invalid("a TLS client certificate and its key go together");
  }
  TlsContext ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!ctx) return Status::Internal("SSL_CTX_new: " + TlsErrorText());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      return Status::Invalid("cannot load the system's TLS CA store: " + TlsErrorText());
    }
  } else if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return Status::Invalid("cannot load the TLS CA " + ca_file + ": " + TlsErrorText());
  }
  if (!cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      return Status::Invalid("cannot load the TLS client certificate " + cert_file + " / " +
                             key_file + ": " + TlsErrorText());
    }
  }
  return ctx;
}

}  // namespace ctxstore::client
