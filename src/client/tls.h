// Client-side TLS: the OpenSSL context a Client shares between its pooled
// connections (CA to verify the server, optional client certificate).
#pragma once

#include <memory>
#include <string>

#include "ctxstore/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace ctxstore::client {

using TlsContext = std::shared_ptr<SSL_CTX>;

// TLS 1.2 or later, the server's certificate verified against ca_file (the
// system's CA store when ca_file is empty). With
// cert_file and key_file, the client presents that certificate (mutual TLS).
Result<TlsContext> MakeClientTlsContext(const std::string& ca_file, const std::string& cert_file,
                                        const std::string& key_file);

// OpenSSL's queued errors as one line (and clears the queue).
std::string TlsErrorText();

}  // namespace ctxstore::client
