// Encryption at rest: key files, AES-256-GCM seal and open, sealed records,
// and an engine whose encrypted namespace keeps its values out of the
// segment files, survives restarts by checkpoint and by scan, and answers
// KEY_UNAVAILABLE (keeping the object) when its key is missing or swapped.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../engine_test_util.h"
#include "common/hash.h"
#include "engine/engine.h"
#include "engine/flash/record.h"
#include "engine/security/encryption.h"

namespace ctxstore::engine {
namespace {

using test_util::Bytes;
using test_util::GetEquals;
using test_util::ReadWholeFile;
using test_util::TempDir;

std::shared_ptr<const EncryptionKey> NewKey(const TempDir& dir, const std::string& file,
                                            const std::string& name) {
  const std::string path = dir.path() + "/" + file;
  EXPECT_TRUE(CreateKeyFile(path).ok());
  auto key = LoadKeyFile(name, path);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? *key : nullptr;
}

TEST(KeyFile, CreateLoadAndRefuseLooseOrBadFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.path() + "/k.key";
  ASSERT_TRUE(CreateKeyFile(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = ReadWholeFile(path);
  EXPECT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');

  auto key = LoadKeyFile("k1", path);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ((*key)->name, "k1");
  EXPECT_EQ((*key)->id, EncryptionKeyId((*key)->bytes));
  auto again = LoadKeyFile("k1", path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->id, (*key)->id);

  EXPECT_FALSE(CreateKeyFile(path).ok()) << "a key file is never overwritten";
  auto other = NewKey(dir, "other.key", "k2");
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->id, (*key)->id);

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loose = LoadKeyFile("k1", path);
  ASSERT_FALSE(loose.ok());
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos);

  const std::string bad = dir.path() + "/bad.key";
  ASSERT_TRUE(CreateKeyFile(bad).ok());
  {
    FILE* f = std::fopen(bad.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("not hex at all\n", f);
    std::fclose(f);
  }
  EXPECT_EQ(LoadKeyFile("bad", bad).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(LoadKeyFile("k1", dir.path() + "/missing.key").status().code(), StatusCode::kIoError);
  EXPECT_EQ(LoadKeyFile("no spaces", dir.path() + "/other.key").status().code(),
            StatusCode::kInvalid);
}

TEST(Keyring, RefusesDuplicateNamesAndKeys) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto a = NewKey(dir, "a.key", "a");
  auto b = NewKey(dir, "b.key", "b");
  auto a_again = LoadKeyFile("a2", dir.path() + "/a.key");
  ASSERT_TRUE(a && b && a_again.ok());
  Keyring ring;
  EXPECT_TRUE(ring.Add(a).ok());
  EXPECT_TRUE(ring.Add(b).ok());
  EXPECT_FALSE(ring.Add(a).ok()) << "same name twice";
  EXPECT_FALSE(ring.Add(*a_again).ok()) << "same key under two names";
  EXPECT_EQ(ring.FindByName("b"), b);
  EXPECT_EQ(ring.FindById(a->id), a);
  EXPECT_EQ(ring.FindByName("a2"), nullptr);
}

TEST(Seal, RoundTripsAndRejectsAnyChange) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto key = NewKey(dir, "k.key", "k");
  auto other = NewKey(dir, "o.key", "o");
  ASSERT_TRUE(key && other);
  for (size_t len : {size_t{0}, size_t{1}, size_t{4096}, size_t{100'003}}) {
    std::vector<uint8_t> plain = test_util::MakeValue("seal", len, len);
    std::vector<uint8_t> sealed(len);
    SealInfo info;
    const std::string aad = RecordAad(7, 42, "key", "attrs");
    ASSERT_TRUE(SealValue(*key, aad, plain.data(), sealed.data(), len, &info).ok());
    EXPECT_EQ(info.key_id, key->id);
    if (len >= 16) {
      EXPECT_NE(sealed, plain);
    }

    std::vector<uint8_t> out(len);
    ASSERT_TRUE(OpenValue(*key, aad, info, sealed.data(), out.data(), len).ok());
    EXPECT_EQ(out, plain);

    // Sealing the same bytes again takes a fresh nonce.
    SealInfo info2;
    std::vector<uint8_t> sealed2(len);
    ASSERT_TRUE(SealValue(*key, aad, plain.data(), sealed2.data(), len, &info2).ok());
    EXPECT_NE(info.nonce, info2.nonce);

    // Another record's aad (namespace, seq, key or attrs), a changed byte or tag:
    // an error, and nothing decrypted is left in the output.
    for (const std::string& wrong_aad :
         {RecordAad(8, 42, "key", "attrs"), RecordAad(7, 43, "key", "attrs"),
          RecordAad(7, 42, "kez", "attrs"), RecordAad(7, 42, "key", "ex"),
          RecordAad(7, 42, "keye", "xt")}) {
      EXPECT_EQ(OpenValue(*key, wrong_aad, info, sealed.data(), out.data(), len).code(),
                StatusCode::kCorrupt);
      EXPECT_EQ(out, std::vector<uint8_t>(len, 0));
    }
    if (len > 0) {
      std::vector<uint8_t> damaged = sealed;
      damaged[len / 2] ^= 1;
      EXPECT_EQ(OpenValue(*key, aad, info, damaged.data(), out.data(), len).code(),
                StatusCode::kCorrupt);
    }
    SealInfo bad_tag = info;
    bad_tag.tag[3] ^= 0x80;
    EXPECT_EQ(OpenValue(*key, aad, bad_tag, sealed.data(), out.data(), len).code(),
              StatusCode::kCorrupt);
    EXPECT_FALSE(OpenValue(*other, aad, info, sealed.data(), out.data(), len).ok());

    // In place, as the flusher's packed records do.
    std::vector<uint8_t> buf = plain;
    ASSERT_TRUE(SealValue(*key, aad, buf.data(), buf.data(), len, &info).ok());
    ASSERT_TRUE(OpenValue(*key, aad, info, buf.data(), buf.data(), len).ok());
    EXPECT_EQ(buf, plain);
  }
}

TEST(SealedRecord, FlagNeedsFormat4AndNoTombstone) {
  const std::string key = "k";
  for (uint16_t version : {uint16_t{3}, kRecordFormatVersion}) {
    for (uint16_t flags : {kRecordFlagSealed, uint16_t(kRecordFlagSealed | kRecordFlagTombstone),
                           uint16_t(1 << 5)}) {
      RecordHeader h = MakeRecordHeader(flags, 1, 0, 0, 0, key, "", 10, 0, version);
      std::vector<uint8_t> bytes(4096, 0);
      std::memcpy(bytes.data(), &h, sizeof(h));
      std::memcpy(bytes.data() + sizeof(h), key.data(), key.size());
      RecordHeader parsed{};
      std::string_view k, attrs;
      Status st = ParseRecordHeader(bytes, &parsed, &k, &attrs);
      const bool valid = version >= 4 && flags == kRecordFlagSealed;
      EXPECT_EQ(st.ok(), valid) << "version " << version << " flags " << flags << ": "
                                << st.ToString();
      if (valid) {
        EXPECT_EQ(parsed.value_offset, kRecordHeaderSize + key.size() + kRecordSealBytes);
      }
    }
  }
}

// A value that is easy to look for in the segment files.
std::vector<uint8_t> Pattern(const std::string& tag, size_t len) {
  std::vector<uint8_t> v(len);
  const std::string unit = "PLAINTEXT-" + tag + "-";
  for (size_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(unit[i % unit.size()]);
  return v;
}

bool SegmentsContain(const std::string& data_dir, const std::string& needle) {
  for (const std::string& path : test_util::SegmentFiles(data_dir)) {
    if (ReadWholeFile(path).find(needle) != std::string::npos) return true;
  }
  return false;
}

class EncryptedNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    spdlog::set_level(spdlog::level::err);
    k1_ = NewKey(dir_, "k1.key", "k1");
    k1_swapped_ = NewKey(dir_, "k1-other.key", "k1");
    ASSERT_TRUE(k1_ && k1_swapped_);
  }
  EngineOptions Options(std::shared_ptr<const EncryptionKey> key) {
    EngineOptions o;
    o.data_dir = dir_.data_dir();
    o.memory_bytes = 64ull << 20;
    o.disk_bytes = 256ull << 20;
    o.segment_bytes = 16ull << 20;
    if (key) {
      auto ring = std::make_shared<Keyring>();
      EXPECT_TRUE(ring->Add(std::move(key)).ok());
      o.keyring = std::move(ring);
    }
    return o;
  }
  static uint32_t NamespaceId(Engine& engine, const std::string& name) {
    for (const NamespaceInfo& ns : engine.ListNamespaces()) {
      if (ns.name == name) return ns.id;
    }
    ADD_FAILURE() << "no namespace " << name;
    return 0;
  }
  static ::testing::AssertionResult GetIs(Engine& engine, uint32_t ns, const std::string& key,
                                          const std::vector<uint8_t>& want) {
    auto got = engine.Get(ns, key);
    if (!got.ok()) return ::testing::AssertionFailure() << key << ": " << got.status().ToString();
    if (!test_util::SameBytes(*got, want)) {
      return ::testing::AssertionFailure() << key << ": different bytes";
    }
    if (got->xxh3 != Xxh3(want.data(), want.size())) {
      return ::testing::AssertionFailure() << key << ": wrong checksum handed out";
    }
    return ::testing::AssertionSuccess();
  }

  TempDir dir_;
  std::shared_ptr<const EncryptionKey> k1_, k1_swapped_;
  // Packed (one shares a block), packed near the limit, and large records.
  const std::vector<size_t> sizes_ = {100, 10'000, 300'000};
};

TEST_F(EncryptedNamespaceTest, ValuesNeverReachFlashInTheClear) {
  {
    auto engine = test_util::OpenOrNull(Options(k1_));
    ASSERT_NE(engine, nullptr);
    NamespaceConfig sealed;
    sealed.encryption_key = "k1";
    NamespaceConfig unknown;
    unknown.encryption_key = "k9";
    EXPECT_EQ(engine->CreateNamespace("typo", unknown).status().code(), StatusCode::kInvalid);
    ASSERT_TRUE(engine->CreateNamespace("sealed", sealed).ok());
    ASSERT_TRUE(engine->CreateNamespace("clear", {}).ok());
    const uint32_t s = NamespaceId(*engine, "sealed"), c = NamespaceId(*engine, "clear");
    for (size_t len : sizes_) {
      WriteOptions wo;
      wo.namespace_id = s;
      wo.group = "session-1";  // an attrs section too: the seal follows it
      ASSERT_TRUE(engine->Put("v" + std::to_string(len), Bytes(Pattern("SEALED", len)), wo).ok());
      wo.namespace_id = c;
      ASSERT_TRUE(engine->Put("v" + std::to_string(len), Bytes(Pattern("CLEAR", len)), wo).ok());
    }
    ASSERT_TRUE(engine->Flush().ok());
    EXPECT_EQ(engine->Stats().sealed_records, sizes_.size());
    for (size_t len : sizes_) {
      EXPECT_TRUE(GetIs(*engine, s, "v" + std::to_string(len), Pattern("SEALED", len)));
    }
    ASSERT_TRUE(engine->Close().ok());
  }
  // The scan works (the clear values are there) and finds no sealed one.
  EXPECT_TRUE(SegmentsContain(dir_.data_dir(), "PLAINTEXT-CLEAR-PLAINTEXT-CLEAR-"));
  EXPECT_FALSE(SegmentsContain(dir_.data_dir(), "PLAINTEXT-SEALED-"));
  EXPECT_FALSE(SegmentsContain(dir_.data_dir(), "PLAINTEXT-SEAL"));

  // Back from flash after a restart: from the checkpoint, then by scan.
  for (bool remove_checkpoint : {false, true}) {
    if (remove_checkpoint) std::filesystem::remove(dir_.data_dir() + "/CHECKPOINT");
    auto engine = test_util::OpenOrNull(Options(k1_));
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->Stats().recovered_from_checkpoint, !remove_checkpoint);
    EXPECT_EQ(engine->Stats().corrupt_records_skipped, 0u);
    const uint32_t s = NamespaceId(*engine, "sealed"), c = NamespaceId(*engine, "clear");
    for (size_t len : sizes_) {
      EXPECT_TRUE(GetIs(*engine, s, "v" + std::to_string(len), Pattern("SEALED", len)));
      EXPECT_TRUE(GetIs(*engine, c, "v" + std::to_string(len), Pattern("CLEAR", len)));
    }
    ASSERT_TRUE(engine->Close().ok());
  }
}

TEST_F(EncryptedNamespaceTest, MissingOrSwappedKeyFailsReadsAndKeepsObjects) {
  const std::vector<uint8_t> old_value = Pattern("OLD", 300'000);
  {
    auto engine = test_util::OpenOrNull(Options(k1_));
    ASSERT_NE(engine, nullptr);
    NamespaceConfig sealed;
    sealed.encryption_key = "k1";
    ASSERT_TRUE(engine->CreateNamespace("sealed", sealed).ok());
    WriteOptions wo;
    wo.namespace_id = NamespaceId(*engine, "sealed");
    ASSERT_TRUE(engine->Put("old", Bytes(old_value), wo).ok());
    ASSERT_TRUE(engine->Put("small", Bytes(Pattern("OLD", 64)), wo).ok());
    ASSERT_TRUE(engine->Close().ok());
  }
  // Another key under the same name: old values answer KEY_UNAVAILABLE
  // (not garbage, not not-found); new writes use the new key.
  const std::vector<uint8_t> new_value = Pattern("NEW", 5000);
  {
    auto engine = test_util::OpenOrNull(Options(k1_swapped_));
    ASSERT_NE(engine, nullptr);
    const uint32_t s = NamespaceId(*engine, "sealed");
    for (const char* key : {"old", "small"}) {
      auto got = engine->Get(s, key);
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().code(), StatusCode::kKeyUnavailable) << got.status().ToString();
      EXPECT_TRUE(engine->Exists(s, key).ok()) << "a failed read keeps the object";
    }
    EXPECT_EQ(engine->Stats().key_unavailable_reads, 2u);
    EXPECT_EQ(engine->Stats().bad_segments, 0u) << "a missing key is not a failing disk";
    WriteOptions wo;
    wo.namespace_id = s;
    ASSERT_TRUE(engine->Put("new", Bytes(new_value), wo).ok());
    ASSERT_TRUE(engine->Close().ok());
  }
  // The right key back: the old objects are whole; the new one is now the
  // unreadable one.
  {
    auto engine = test_util::OpenOrNull(Options(k1_));
    ASSERT_NE(engine, nullptr);
    const uint32_t s = NamespaceId(*engine, "sealed");
    EXPECT_TRUE(GetIs(*engine, s, "old", old_value));
    EXPECT_TRUE(GetIs(*engine, s, "small", Pattern("OLD", 64)));
    EXPECT_EQ(engine->Get(s, "new").status().code(), StatusCode::kKeyUnavailable);
    ASSERT_TRUE(engine->Close().ok());
  }
  // No key at all: PUTs are refused rather than stored in the clear.
  {
    auto engine = test_util::OpenOrNull(Options(nullptr));
    ASSERT_NE(engine, nullptr);
    const uint32_t s = NamespaceId(*engine, "sealed");
    WriteOptions wo;
    wo.namespace_id = s;
    Status put = engine->Put("another", Bytes(Pattern("NONE", 100)), wo);
    EXPECT_EQ(put.code(), StatusCode::kKeyUnavailable) << put.ToString();
    EXPECT_NE(put.message().find("k1"), std::string::npos) << put.message();
    EXPECT_EQ(engine->Get(s, "old").status().code(), StatusCode::kKeyUnavailable);
    // Its other settings may still change; a new key name must be loaded.
    NamespaceConfig c;
    c.encryption_key = "k1";
    c.quota_bytes = 1ull << 30;
    EXPECT_TRUE(engine->SetNamespace("sealed", c).ok());
    c.encryption_key = "k2";
    EXPECT_EQ(engine->SetNamespace("sealed", c).code(), StatusCode::kInvalid);
    ASSERT_TRUE(engine->Close().ok());
  }
  EXPECT_FALSE(SegmentsContain(dir_.data_dir(), "PLAINTEXT-"));
}

// A sealed record whose ciphertext changed: a torn or damaged one fails its
// seal checksum at the scan; one forged with fixed-up checksums still
// fails GCM authentication when read, and is never served.
TEST_F(EncryptedNamespaceTest, ChangedCiphertextIsNeverServed) {
  for (bool fix_checksums : {false, true}) {
    SCOPED_TRACE(fix_checksums ? "forged" : "damaged");
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    EngineOptions o = Options(k1_);
    o.data_dir = dir.data_dir();
    const std::vector<uint8_t> value = Pattern("X", 2000);
    {
      auto engine = test_util::OpenOrNull(o);
      ASSERT_NE(engine, nullptr);
      NamespaceConfig sealed;
      sealed.encryption_key = "k1";
      ASSERT_TRUE(engine->CreateNamespace("sealed", sealed).ok());
      WriteOptions wo;
      wo.namespace_id = NamespaceId(*engine, "sealed");
      ASSERT_TRUE(engine->Put("victim", Bytes(value), wo).ok());
      ASSERT_TRUE(engine->Close().ok());
    }
    std::filesystem::remove(o.data_dir + "/CHECKPOINT");  // make the scan read it
    test_util::RawRecord rec;
    ASSERT_TRUE(test_util::FindRecord(o.data_dir, "victim", &rec));
    ASSERT_TRUE(rec.header.flags & kRecordFlagSealed);
    const uint64_t value_at = rec.offset + rec.header.value_offset;
    ASSERT_TRUE(test_util::FlipByte(rec.segment_path, value_at + 100, 0x01));
    if (fix_checksums) {
      std::string file = ReadWholeFile(rec.segment_path);
      RecordSeal seal{};
      std::memcpy(&seal, file.data() + value_at - kRecordSealBytes, sizeof(seal));
      FinishRecordSeal(&seal, reinterpret_cast<const uint8_t*>(file.data() + value_at),
                       value.size());
      FILE* f = std::fopen(rec.segment_path.c_str(), "r+b");
      ASSERT_NE(f, nullptr);
      std::fseek(f, static_cast<long>(value_at - kRecordSealBytes), SEEK_SET);
      std::fwrite(&seal, sizeof(seal), 1, f);
      std::fclose(f);
    }
    auto engine = test_util::OpenOrNull(o);
    ASSERT_NE(engine, nullptr);
    const uint32_t s = NamespaceId(*engine, "sealed");
    auto got = engine->Get(s, "victim");
    ASSERT_FALSE(got.ok());
    if (fix_checksums) {
      EXPECT_EQ(got.status().code(), StatusCode::kCorrupt) << got.status().ToString();
      EXPECT_EQ(engine->Stats().corrupt_reads, 1u);
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
      EXPECT_EQ(engine->Stats().corrupt_records_skipped, 1u);
    }
    ASSERT_TRUE(engine->Close().ok());
  }
}

}  // namespace
}  // namespace ctxstore::engine
