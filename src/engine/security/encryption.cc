#include "engine/security/encryption.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/limits.h"

namespace ctxstore::engine {
namespace {

constexpr std::string_view kKeyIdLabel = "ctxstore key id v1";
// EVP lengths are ints: long values go through in chunks.
constexpr size_t kEvpChunkBytes = size_t{1} << 30;

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameBytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

uint64_t EncryptionKeyId(const std::array<uint8_t, kEncryptionKeyBytes>& bytes) {
  uint8_t input[kKeyIdLabel.size() + kEncryptionKeyBytes];
  std::memcpy(input, kKeyIdLabel.data(), kKeyIdLabel.size());
  std::memcpy(input + kKeyIdLabel.size(), bytes.data(), bytes.size());
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(input, sizeof(input), digest);
  OPENSSL_cleanse(input, sizeof(input));
  uint64_t id = 0;
  std::memcpy(&id, digest, sizeof(id));
  return id;
}

Result<std::shared_ptr<const EncryptionKey>> LoadKeyFile(std::string_view name,
                                                         const std::string& path) {
  if (!ValidKeyName(name)) {
    return Status::Invalid("bad key name '" + std::string(name) +
                           "' (1 to 64 of a-z A-Z 0-9 - _ .)");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open key file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Invalid("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::Invalid("key file " + path + " may be read by group or others: chmod 600 it");
  }
  char text[2 * kEncryptionKeyBytes + 3] = {};
  ssize_t n = ::read(fd, text, sizeof(text));
  ::close(fd);
  size_t len = n < 0 ? 0 : static_cast<size_t>(n);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) --len;
  auto key = std::make_shared<EncryptionKey>();
  bool ok = len == 2 * kEncryptionKeyBytes;
  for (size_t i = 0; ok && i < kEncryptionKeyBytes; ++i) {
    int hi = HexDigit(text[2 * i]), lo = HexDigit(text[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    key->bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  OPENSSL_cleanse(text, sizeof(text));
  if (!ok) {
    return Status::Invalid("key file " + path +
                           " must hold 64 hex digits (ctxstore keygen FILE makes one)");
  }
  key->name = std::string(name);
  key->id = EncryptionKeyId(key->bytes);
  return std::shared_ptr<const EncryptionKey>(std::move(key));
}

Status CreateKeyFile(const std::string& path) {
  std::array<uint8_t, kEncryptionKeyBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Status::Internal("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (uint8_t b : bytes) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 15]);
  }
  text.push_back('\n');
  OPENSSL_cleanse(bytes.data(), bytes.size());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) {
    ::unlink(path.c_str());
    return Status::IoError("cannot write " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Status Keyring::Add(std::shared_ptr<const EncryptionKey> key) {
  if (!ValidKeyName(key->name)) return Status::Invalid("bad key name '" + key->name + "'");
  if (by_name_.count(key->name) != 0) return Status::Invalid("key '" + key->name + "' given twice");
  if (auto it = by_id_.find(key->id); it != by_id_.end()) {
    return Status::Invalid("keys '" + it->second->name + "' and '" + key->name +
                           "' are the same key");
  }
  by_id_[key->id] = key;
  by_name_[key->name] = std::move(key);
  return Status::Ok();
}

std::shared_ptr<const EncryptionKey> Keyring::FindByName(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::shared_ptr<const EncryptionKey> Keyring::FindById(uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

Status SealValue(const EncryptionKey& key, std::string_view aad, const uint8_t* src, uint8_t* dst,
                 size_t len, SealInfo* info) {
  if (RAND_bytes(info->nonce.data(), static_cast<int>(info->nonce.size())) != 1) {
    return Status::Internal("RAND_bytes failed");
  }
  return SealValueWithNonce(key, aad, src, dst, len, info);
}

Status SealValueWithNonce(const EncryptionKey& key, std::string_view aad, const uint8_t* src,
                          uint8_t* dst, size_t len, SealInfo* info) {
  info->key_id = key.id;
  CipherCtx c;
  int out = 0;
  bool ok = c.ctx != nullptr &&
            EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                               info->nonce.data()) == 1 &&
            EVP_EncryptUpdate(c.ctx, nullptr, &out, reinterpret_cast<const uint8_t*>(aad.data()),
                              static_cast<int>(aad.size())) == 1;
  for (size_t done = 0; ok && done < len;) {
    const size_t n = std::min(kEvpChunkBytes, len - done);
    ok = EVP_EncryptUpdate(c.ctx, dst + done, &out, src + done, static_cast<int>(n)) == 1 &&
         static_cast<size_t>(out) == n;
    done += n;
  }
  ok = ok && EVP_EncryptFinal_ex(c.ctx, dst + len, &out) == 1 && out == 0 &&
       EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(info->tag.size()),
                           info->tag.data()) == 1;
  return ok ? Status::Ok() : Status::Internal("AES-256-GCM encryption failed");
}

Status OpenValue(const EncryptionKey& key, std::string_view aad, const SealInfo& info,
                 const uint8_t* src, uint8_t* dst, size_t len) {
  if (info.key_id != key.id) return Status::Internal("OpenValue given another key");
  CipherCtx c;
  int out = 0;
  bool ok = c.ctx != nullptr &&
            EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                               info.nonce.data()) == 1 &&
            EVP_DecryptUpdate(c.ctx, nullptr, &out, reinterpret_cast<const uint8_t*>(aad.data()),
                              static_cast<int>(aad.size())) == 1;
  for (size_t done = 0; ok && done < len;) {
    const size_t n = std::min(kEvpChunkBytes, len - done);
    ok = EVP_DecryptUpdate(c.ctx, dst + done, &out, src + done, static_cast<int>(n)) == 1 &&
         static_cast<size_t>(out) == n;
    done += n;
  }
  if (!ok) return Status::Internal("AES-256-GCM decryption failed");
  std::array<uint8_t, 16> tag = info.tag;
  if (EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) !=
          1 ||
      EVP_DecryptFinal_ex(c.ctx, dst + len, &out) != 1) {
    // Never hand out what was decrypted: the caller's buffer is wiped.
    if (len > 0) std::memset(dst, 0, len);
    return Status::Corrupt("encrypted value failed authentication");
  }
  return Status::Ok();
}

std::string RecordAad(uint32_t namespace_id, uint64_t seq, std::string_view user_key,
                      std::string_view attrs) {
  // Fixed-size fields, then the key's length: key and attrs cannot trade bytes.
  const uint16_t key_len = static_cast<uint16_t>(user_key.size());
  std::string aad(sizeof(namespace_id) + sizeof(seq) + sizeof(key_len), '\0');
  std::memcpy(aad.data(), &namespace_id, sizeof(namespace_id));
  std::memcpy(aad.data() + sizeof(namespace_id), &seq, sizeof(seq));
  std::memcpy(aad.data() + sizeof(namespace_id) + sizeof(seq), &key_len, sizeof(key_len));
  aad.append(user_key);
  aad.append(attrs);
  return aad;
}

}  // namespace ctxstore::engine
