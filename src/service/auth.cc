#include "service/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"

namespace ctxstore::service {
namespace {

using engine::TokenRole;

std::string Hex(const unsigned char* data, size_t len) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * len, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

Result<std::string> RandomHex(size_t bytes) {
  unsigned char buf[64];
  if (bytes > sizeof(buf) || RAND_bytes(buf, static_cast<int>(bytes)) != 1) {
    return Status::Internal("no random bytes from OpenSSL");
  }
  std::string out = Hex(buf, bytes);
  OPENSSL_cleanse(buf, sizeof(buf));
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    return {};  // compares equal to no stored hash
  }
  return Hex(digest, len);
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The id of a well-formed token, or nullopt.
std::optional<std::string_view> TokenId(std::string_view token) {
  if (token.size() != kTokenChars || !token.starts_with(kTokenPrefix)) return std::nullopt;
  std::string_view id = token.substr(kTokenPrefix.size(), engine::kTokenIdBytes);
  std::string_view rest = token.substr(kTokenPrefix.size() + engine::kTokenIdBytes);
  if (rest.front() != '_' || !IsLowerHex(id) || !IsLowerHex(rest.substr(1))) return std::nullopt;
  return id;
}

Status WriteFileDurably(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover (or a planted link) is never written through
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError("open " + tmp + ": " + std::strerror(errno));
  // O_CREAT's mode applies only to a new file, and the umask narrows it.
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());  // it may hold part of a secret
    return Status::IoError("write " + tmp + ": " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IoError("rename " + tmp + ": " + std::strerror(errno));
  }
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace

Result<IssuedToken> NewToken(TokenRole role, uint32_t namespace_id, std::string label) {
  auto id = RandomHex(engine::kTokenIdBytes / 2);
  auto secret = RandomHex(kTokenSecretBytes);
  if (!id.ok()) return id.status();
  if (!secret.ok()) return secret.status();
  IssuedToken issued;
  issued.token = std::string(kTokenPrefix) + *id + "_" + *secret;
  issued.record.id = *id;
  issued.record.secret_hash = Sha256Hex(issued.token);
  issued.record.role = role;
  issued.record.namespace_id = namespace_id;
  issued.record.label = std::move(label);
  issued.record.created_ms = WallClockMs();
  return issued;
}

Result<IssuedToken> IssueToken(engine::Engine* engine, TokenRole role, uint32_t namespace_id,
                               std::string label) {
  // A random id may collide with a live one (1 in 2^64 per token): draw again.
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto issued = NewToken(role, namespace_id, label);
    if (!issued.ok()) return issued.status();
    Status st = engine->AddToken(issued->record);
    if (st.code() == StatusCode::kExists) continue;
    if (!st.ok()) return st;
    return issued;
  }
  return Status::Internal("could not draw an unused token id");
}

Result<Principal> Authenticate(const engine::Engine& engine, std::string_view token) {
  auto id = TokenId(token);
  if (!id) {
    return Status(StatusCode::kUnauthorized,
                  token.empty() ? "authentication required: no token given" : "invalid token");
  }
  std::optional<engine::AccessToken> record = engine.FindToken(*id);
  const std::string hash = Sha256Hex(token);
  if (!record || record->secret_hash.size() != hash.size() ||
      CRYPTO_memcmp(record->secret_hash.data(), hash.data(), hash.size()) != 0) {
    return Status(StatusCode::kUnauthorized, "invalid token");
  }
  return Principal{record->id, record->role, record->namespace_id};
}

Result<bool> EnsureAdminToken(engine::Engine* engine, const std::string& data_dir) {
  for (const engine::AccessToken& t : engine->ListTokens()) {
    if (t.role == TokenRole::kAdmin) return false;
  }
  auto issued = NewToken(TokenRole::kAdmin, engine::kAllNamespaces, "admin.token");
  if (!issued.ok()) return issued.status();
  // The file first: a crash before the catalog has the token leaves a
  // token that does not work, and the next start writes a new one; the
  // other order could leave an admin token that nobody holds.
  std::string path = data_dir + "/" + kAdminTokenFileName;
  CTX_RETURN_IF_ERROR(WriteFileDurably(path, issued->token + "\n", 0600));
  CTX_RETURN_IF_ERROR(engine->AddToken(issued->record));
  spdlog::info("created admin token {} in {}", issued->record.id, path);
  return true;
}

}  // namespace ctxstore::service
