// The access tokens of the service fuzzer's store (service_fuzzer.cc), fixed
// so that its seeds (make_fuzz_corpus.cc) can say HELLO with them. A token
// reads "ctx_<16 hex id>_<64 hex secret>" (service/auth.h).
#pragma once

#include <string>

namespace ctxstore::fuzz {

inline constexpr const char* kTenantNamespace = "tenant";

inline std::string FixedToken(char id_digit, char secret_digit) {
  return "ctx_" + std::string(16, id_digit) + "_" + std::string(64, secret_digit);
}
// Admin (every namespace), and write and read tokens of kTenantNamespace.
inline std::string AdminToken() {
  return FixedToken('a', '1');
}
inline std::string WriteToken() {
  return FixedToken('b', '2');
}
inline std::string ReadToken() {
  return FixedToken('c', '3');
}

// The service fuzzer's control byte (its input's first byte).
enum ServiceControl : unsigned char {
  kServiceAuth = 1 << 0,         // the service checks tokens (else every session may do anything)
  kServiceStepFlusher = 1 << 1,  // one flusher step after each request
  kServiceTick = 1 << 2,         // the clocks move 1 s after each request (TTLs, leases)
};

}  // namespace ctxstore::fuzz
