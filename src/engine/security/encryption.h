// Encryption at rest: AES-256-GCM of values on flash, per namespace.
//
// A namespace names a key (NamespaceConfig::encryption_key); the flusher
// seals the value of each of its records with that key and a fresh random
// 96-bit nonce, and a flash read opens it again. DRAM holds plaintext: only
// what reaches the segment files is encrypted. Keys, groups and metadata
// stay in the clear (authenticated, not hidden); see docs/security.md.
//
// A key is 32 random bytes in a file of its own (64 hex digits, mode 0600).
// Its id is a fingerprint of the key itself (the first 8 bytes of
// SHA-256("ctxstore key id v1" || key)), and every sealed record stores it:
// a record whose key is not loaded, or a key file swapped for another one,
// fails its reads with a clear error instead of serving garbage, and keeps
// the object for when the right key comes back.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ctxstore/status.h"

namespace ctxstore::engine {

inline constexpr size_t kEncryptionKeyBytes = 32;

struct EncryptionKey {
  std::string name;  // how namespaces and the config name it
  uint64_t id = 0;   // fingerprint of the bytes, stored in each record
  std::array<uint8_t, kEncryptionKeyBytes> bytes{};
};

uint64_t EncryptionKeyId(const std::array<uint8_t, kEncryptionKeyBytes>& bytes);

// Reads a key file: 64 hex digits, optionally followed by a newline. Refuses
// a file that group or others may read (like ssh does a private key).
Result<std::shared_ptr<const EncryptionKey>> LoadKeyFile(std::string_view name,
                                                         const std::string& path);
// Writes a new random key to path (created, never overwritten, mode 0600).
Status CreateKeyFile(const std::string& path);

// The keys a store has loaded. Immutable once the engine is open.
class Keyring {
 public:
  // kInvalid for a bad or duplicate name, or the same key under two names.
  Status Add(std::shared_ptr<const EncryptionKey> key);
  std::shared_ptr<const EncryptionKey> FindByName(std::string_view name) const;
  std::shared_ptr<const EncryptionKey> FindById(uint64_t id) const;
  bool empty() const { return by_name_.empty(); }

 private:
  std::map<std::string, std::shared_ptr<const EncryptionKey>, std::less<>> by_name_;
  std::map<uint64_t, std::shared_ptr<const EncryptionKey>> by_id_;
};

// What a sealed record stores beside its ciphertext (record.h lays it out).
struct SealInfo {
  uint64_t key_id = 0;
  std::array<uint8_t, 12> nonce{};
  std::array<uint8_t, 16> tag{};
};

// Encrypts len bytes of src into dst (they may be the same buffer) under a
// fresh random nonce; aad is authenticated, not stored (the caller rebuilds
// it from the record: namespace, sequence number and key).
Status SealValue(const EncryptionKey& key, std::string_view aad, const uint8_t* src, uint8_t* dst,
                 size_t len, SealInfo* info);
// The same under the nonce already in info->nonce, which the caller drew
// from an unpredictable source (the flusher: its Env) and never reuses.
Status SealValueWithNonce(const EncryptionKey& key, std::string_view aad, const uint8_t* src,
                          uint8_t* dst, size_t len, SealInfo* info);
// Decrypts and authenticates: kCorrupt when the tag does not match (the
// bytes, the aad or the nonce were changed).
Status OpenValue(const EncryptionKey& key, std::string_view aad, const SealInfo& info,
                 const uint8_t* src, uint8_t* dst, size_t len);

// The aad of a record: namespace id, sequence number, the client's key and
// the record's attrs (group, parent, writer, metadata), so that a sealed value
// moved to another record, or given other metadata (another model
// fingerprint), fails to open.
std::string RecordAad(uint32_t namespace_id, uint64_t seq, std::string_view user_key,
                      std::string_view attrs);

}  // namespace ctxstore::engine
