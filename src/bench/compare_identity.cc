// What a compared binary is (bench/compare.h, BinaryIdentity): a comparison
// is only worth keeping when it says which builds it compared.
#include <openssl/evp.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include "bench/compare.h"
#include "common/subprocess.h"

namespace ctxstore::bench {
namespace {

namespace fs = std::filesystem;

// The file's SHA-256 in hex; "" when it cannot be read.
std::string Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return "";
  std::array<char, 1 << 16> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), digest, &len) != 1) return "";
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(two, sizeof(two), "%02x", digest[i]);
    hex += two;
  }
  return hex;
}

std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// `BINARY --version`'s first line, or null: ctxstore builds that have no
// --version reject it as a usage error, and are then known by their hash.
nlohmann::json VersionOf(const std::string& path) {
  Result<CommandResult> r = RunCommand({path, "--version"}, 10000);
  if (!r.ok() || r->exit_code != 0 || FirstLine(r->out).empty()) return nullptr;
  return FirstLine(r->out);
}

// The value of `KEY:TYPE=value` in a CMakeCache.txt.
std::string CacheValue(const fs::path& cache, const std::string& key) {
  std::ifstream in(cache);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    size_t eq = line.find('=');
    if (eq != std::string::npos) return line.substr(eq + 1);
  }
  return "";
}

// Trimmed stdout of a git command in dir, or "" when it fails.
std::string Git(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir});
  Result<CommandResult> r = RunCommand(args, 10000);
  if (!r.ok() || r->exit_code != 0) return "";
  return FirstLine(r->out);
}

// When the binary sits in a CMake build folder: its build type, and the
// commit its source tree is at now (the binary may be older than that
// tree: "source_dirty" and the binary's own date tell).
nlohmann::json BuildFolderInfo(const fs::path& dir) {
  const fs::path cache = dir / "CMakeCache.txt";
  if (!fs::exists(cache)) return nullptr;
  nlohmann::json j = {{"build_dir", dir.string()},
                      {"build_type", CacheValue(cache, "CMAKE_BUILD_TYPE")}};
  const std::string source = CacheValue(cache, "CMAKE_HOME_DIRECTORY");
  j["source_dir"] = source;
  const std::string commit = source.empty() ? "" : Git(source, {"rev-parse", "HEAD"});
  if (commit.empty()) return j;
  j["source_commit"] = commit;
  j["source_branch"] = Git(source, {"rev-parse", "--abbrev-ref", "HEAD"});
  Result<CommandResult> status =
      RunCommand({"git", "-C", source, "status", "--porcelain", "--untracked-files=no"}, 10000);
  j["source_dirty"] = status.ok() && status->exit_code == 0 && !status->out.empty();
  return j;
}

std::string UtcTime(std::time_t t) {
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

nlohmann::json BinaryIdentity(const std::string& path) {
  std::error_code ec;
  fs::path resolved = fs::canonical(path, ec);
  if (ec) resolved = fs::absolute(path, ec);
  nlohmann::json j = {{"path", path}, {"resolved_path", resolved.string()}};
  struct stat st {};
  if (::stat(resolved.c_str(), &st) == 0) {
    j["size_bytes"] = static_cast<uint64_t>(st.st_size);
    j["modified"] = UtcTime(st.st_mtime);
  }
  j["sha256"] = Sha256File(resolved.string());
  j["version"] = VersionOf(resolved.string());
  j["build"] = BuildFolderInfo(resolved.parent_path());
  return j;
}

}  // namespace ctxstore::bench
