// Helpers shared by the engine's unit tests (tests/unit) and fault tests
// (tests/fault): temp dirs, deterministic values, and raw access to the files
// of a closed store. Header-only so that both test binaries can use it
// without a library of their own.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "engine/engine.h"
#include "engine/flash/record.h"
#include "engine/flash/segment.h"

namespace ctxstore::engine::test_util {

// A fresh directory under /tmp, removed (with everything in it) on destruction.
class TempDir {
 public:
  explicit TempDir(const char* prefix = "ctxstore-engine-test") {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  // The engine's data folder inside the temp dir.
  std::string data_dir() const { return path_ + "/data"; }

 private:
  std::string path_;
};

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The bytes of version `version` of `key`: a pseudo-random stream seeded by
// both, so that a value of one key or version never equals another's and any
// value can be regenerated to check a read.
inline std::vector<uint8_t> MakeValue(std::string_view key, uint64_t version, size_t len) {
  std::vector<uint8_t> v(len);
  uint64_t state = Xxh3(key.data(), key.size()) ^ (version * 0xd1342543de82ef95ull);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t r = SplitMix64(state);
    std::memcpy(v.data() + i, &r, 8);
  }
  if (i < len) {
    uint64_t r = SplitMix64(state);
    std::memcpy(v.data() + i, &r, len - i);
  }
  return v;
}

// The default namespace's shorthands (the engine's calls all name a
// namespace).
inline Result<ValueRef> Get(Engine& engine, std::string_view key) {
  return engine.Get(kDefaultNamespaceId, key);
}
inline Result<uint64_t> Exists(Engine& engine, std::string_view key) {
  return engine.Exists(kDefaultNamespaceId, key);
}
// The number of leading keys present.
inline uint32_t MatchPrefix(Engine& engine, std::span<const std::string_view> keys) {
  auto r = engine.MatchPrefix(kDefaultNamespaceId, keys, /*lease_ms=*/0);
  return r.ok() ? r->matched : 0;
}
// Waits when sync.
inline Status Delete(Engine& engine, std::string_view key, bool sync) {
  return engine.Delete(kDefaultNamespaceId, key, sync);
}

// Engine::Open, failing the test (and returning null) on an error.
inline std::unique_ptr<Engine> OpenOrNull(const EngineOptions& o) {
  auto r = Engine::Open(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

inline std::span<const uint8_t> Bytes(const std::vector<uint8_t>& v) {
  return {v.data(), v.size()};
}
inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline bool SameBytes(const ValueRef& ref, const std::vector<uint8_t>& want) {
  return ref.size == want.size() &&
         (want.empty() || std::memcmp(ref.data, want.data(), want.size()) == 0);
}

// Gets `key` and compares it with `want`; a gtest assertion result for EXPECT_TRUE.
inline ::testing::AssertionResult GetEquals(Engine& engine, std::string_view key,
                                            const std::vector<uint8_t>& want) {
  auto got = Get(engine, key);
  if (!got.ok()) {
    return ::testing::AssertionFailure()
           << "Get(" << key << ") failed: " << got.status().ToString();
  }
  if (got->size != want.size()) {
    return ::testing::AssertionFailure()
           << "Get(" << key << ") returned " << got->size << " bytes, want " << want.size();
  }
  if (!SameBytes(*got, want)) {
    return ::testing::AssertionFailure() << "Get(" << key << ") returned different bytes";
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult GetNotFound(Engine& engine, std::string_view key) {
  auto got = Get(engine, key);
  if (got.ok()) {
    return ::testing::AssertionFailure()
           << "Get(" << key << ") returned " << got->size << " bytes, want not_found";
  }
  if (got.status().code() != StatusCode::kNotFound) {
    return ::testing::AssertionFailure()
           << "Get(" << key << ") failed with " << got.status().ToString() << ", want not_found";
  }
  return ::testing::AssertionSuccess();
}

// Segment files of a data folder, full paths in id order.
inline std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    uint64_t id = 0;
    if (ParseSegmentFileName(entry.path().filename().string(), &id)) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline uint64_t TotalSegmentBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const std::string& path : SegmentFiles(dir)) {
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(path, ec);
    if (!ec) total += size;
  }
  return total;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// Replaces a file's contents (removing it first: no engine has it open).
inline bool ReplaceWholeFile(const std::string& path, const std::string& data) {
  std::filesystem::remove(path);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  return std::fclose(f) == 0 && ok;
}

// XORs one byte of a file (plain buffered I/O; the engine must be closed).
inline bool FlipByte(const std::string& path, uint64_t offset, uint8_t mask = 0xff) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  uint8_t b = 0;
  bool ok = ::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  b ^= mask;
  ok = ok && ::pwrite(fd, &b, 1, static_cast<off_t>(offset)) == 1 && ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// A record found by walking a segment file's headers.
struct RawRecord {
  std::string segment_path;
  uint64_t offset = 0;
  RecordHeader header{};
  std::string key;
};

// Walks the records of a (closed) segment file from offset 4096, stopping at
// the first block boundary that does not hold a valid header (a record that
// ends inside a block is followed by another record, or by zeros up to the
// next block).
inline std::vector<RawRecord> ListRecords(const std::string& segment_path) {
  std::vector<RawRecord> out;
  std::string data = ReadWholeFile(segment_path);
  uint64_t pos = kSegmentHeaderBytes;
  while (pos + kRecordHeaderSize <= data.size()) {
    RecordHeader h{};
    std::string_view key, attrs;
    auto block = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()) + pos,
                                          data.size() - pos);
    if (!ParseRecordHeader(block, &h, &key, &attrs).ok()) {
      if (pos % kBlockSize == 0) break;
      pos = RoundUpToBlock(pos);  // the batch's padding
      continue;
    }
    out.push_back({segment_path, pos, h, std::string(key)});
    pos += h.record_len;
  }
  return out;
}

inline std::vector<RawRecord> ListAllRecords(const std::string& dir) {
  std::vector<RawRecord> out;
  for (const std::string& seg : SegmentFiles(dir)) {
    std::vector<RawRecord> recs = ListRecords(seg);
    out.insert(out.end(), recs.begin(), recs.end());
  }
  return out;
}

// The newest record of `key` on flash (by seq); false when there is none.
inline bool FindRecord(const std::string& dir, std::string_view key, RawRecord* out) {
  bool found = false;
  for (const RawRecord& r : ListAllRecords(dir)) {
    if (r.key == key && (!found || r.header.seq > out->header.seq)) {
      *out = r;
      found = true;
    }
  }
  return found;
}

}  // namespace ctxstore::engine::test_util
