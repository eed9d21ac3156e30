// The encryption key of the recovery fuzzer and of its seeds' sealed
// records (make_fuzz_corpus.cc), so that fuzzed sealed records get opened.
#pragma once

#include <memory>

#include "engine/security/encryption.h"

namespace ctxstore::engine {

inline constexpr const char* kFuzzKeyName = "fuzz";

inline std::shared_ptr<const Keyring> FuzzKeyring() {
  auto key = std::make_shared<EncryptionKey>();
  key->name = kFuzzKeyName;
  for (size_t i = 0; i < key->bytes.size(); ++i) key->bytes[i] = static_cast<uint8_t>(i * 37 + 11);
  key->id = EncryptionKeyId(key->bytes);
  auto ring = std::make_shared<Keyring>();
  (void)ring->Add(std::move(key));
  return ring;
}

}  // namespace ctxstore::engine
