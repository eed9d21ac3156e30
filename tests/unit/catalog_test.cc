// The catalog through its own interface on an in-memory device: a new store,
// namespaces, tokens and pins that survive a reload, a failed write that
// changes nothing, pin states and limits, and encryption key names.
#include "engine/context/catalog.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/index/index.h"
#include "testing/fault_device.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kNow = 1'700'000'000'000;

AccessToken Token(std::string id, uint32_t ns, TokenRole role = TokenRole::kWrite) {
  AccessToken t;
  t.id = std::move(id);
  t.secret_hash = std::string(64, 'a');
  t.role = role;
  t.namespace_id = ns;
  return t;
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  std::unique_ptr<Catalog> Load(Device* device, uint64_t now = kNow) {
    auto catalog = std::make_unique<Catalog>(device, "/data", "lru", keyring_);
    Status st = catalog->Load(now);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return catalog;
  }

  MemDevice mem_;
  Mutex mu_;
  std::shared_ptr<Keyring> keyring_ = std::make_shared<Keyring>();
};

TEST_F(CatalogTest, ANewStoreHasOnlyTheDefaultNamespace) {
  auto catalog = Load(&mem_);
  ASSERT_NE(catalog->Find(kDefaultNamespaceId), nullptr);
  EXPECT_EQ(catalog->Find(kDefaultNamespaceId)->name, "default");
  EXPECT_EQ(catalog->Find("default")->id, kDefaultNamespaceId);
  EXPECT_NE(catalog->Find(kDefaultNamespaceId)->policy, nullptr);
  EXPECT_EQ(catalog->namespace_count(), 1u);
  EXPECT_FALSE(mem_.FileExists("/data/CATALOG")) << "nothing changed: nothing written";
}

TEST_F(CatalogTest, ChangesAreDurableBeforeTheyAreApplied) {
  auto catalog = Load(&mem_);
  NamespaceConfig config;
  config.quota_bytes = 1 << 20;
  MutexLock lock(&mu_);
  auto id = catalog->CreateNamespace("tenant", config, &mu_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 1u);
  EXPECT_EQ(catalog->CreateNamespace("tenant", config, &mu_).status().code(), StatusCode::kExists);
  ASSERT_TRUE(catalog->AddToken(Token("00000000000000aa", *id), &mu_).ok());
  ASSERT_TRUE(catalog->AddPin(IndexKey(*id, "k").str(), false, {0, true}, &mu_).ok());
  config.priority = 2;
  ASSERT_TRUE(catalog->SetNamespace(*id, config, &mu_).ok());

  auto reloaded = Load(&mem_);
  const Namespace* ns = reloaded->Find("tenant");
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(ns->config.quota_bytes, 1u << 20);
  EXPECT_EQ(ns->config.priority, 2);
  EXPECT_NE(reloaded->FindToken("00000000000000aa"), nullptr);
  EXPECT_EQ(reloaded->pin_rules(), 1u);

  // Deleting the namespace takes its tokens and pins with it, in the file
  // too; ids are never reused.
  ASSERT_TRUE(catalog->DeleteNamespace(*id, &mu_).ok());
  catalog->Drop(*id);
  EXPECT_EQ(catalog->FindToken("00000000000000aa"), nullptr);
  EXPECT_EQ(catalog->pin_rules(), 0u);
  auto after = Load(&mem_);
  EXPECT_EQ(after->Find("tenant"), nullptr);
  EXPECT_EQ(after->FindToken("00000000000000aa"), nullptr);
  auto next = catalog->CreateNamespace("again", {}, &mu_);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 2u);
}

TEST_F(CatalogTest, AFailedWriteChangesNothing) {
  FaultDevice faults(&mem_, /*seed=*/1);
  auto catalog = Load(&faults);
  faults.InjectFault(FaultOp::kWrite, FaultKind::kIoError, "CATALOG");
  MutexLock lock(&mu_);
  EXPECT_FALSE(catalog->CreateNamespace("tenant", {}, &mu_).ok());
  EXPECT_EQ(catalog->Find("tenant"), nullptr);
  auto id = catalog->CreateNamespace("tenant", {}, &mu_);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1u) << "the failed create took no id";
}

TEST_F(CatalogTest, TokensNeedTheirNamespaceAndUniqueIds) {
  auto catalog = Load(&mem_);
  MutexLock lock(&mu_);
  EXPECT_FALSE(Catalog::ValidateToken(Token("xyz", 0)).ok());
  EXPECT_FALSE(Catalog::ValidateToken(Token("00000000000000ab", kAllNamespaces)).ok())
      << "only admin tokens span namespaces";
  EXPECT_EQ(catalog->AddToken(Token("00000000000000ab", 7), &mu_).code(), StatusCode::kNotFound);
  ASSERT_TRUE(catalog->AddToken(Token("00000000000000ab", 0), &mu_).ok());
  EXPECT_EQ(catalog->AddToken(Token("00000000000000ab", 0), &mu_).code(), StatusCode::kExists);
  EXPECT_EQ(catalog->Tokens().size(), 1u);
  ASSERT_TRUE(catalog->RevokeToken("00000000000000ab", &mu_).ok());
  EXPECT_EQ(catalog->RevokeToken("00000000000000ab", &mu_).code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, PinRulesCoverKeysAndGroupsUntilTheyLapse) {
  auto catalog = Load(&mem_);
  Index index;
  Entry& e = index.try_emplace(IndexKey(0, "k").view()).first->second;
  e.meta = MetaRef::Make(ObjectMeta{"g", "", "", ""});
  MutexLock lock(&mu_);
  EXPECT_FALSE(catalog->PinStateOf(e, kNow).pinned);
  ASSERT_TRUE(catalog->AddPin(IndexKey(0, "k").str(), false, {kNow + 100, false}, &mu_).ok());
  ASSERT_TRUE(catalog->AddPin(IndexKey(0, "g").str(), true, {kNow + 500, true}, &mu_).ok());
  PinState state = catalog->PinStateOf(e, kNow);
  EXPECT_TRUE(state.pinned);
  EXPECT_TRUE(state.dram);
  EXPECT_EQ(state.expires_ms, kNow + 500) << "pinned until the last rule lapses";
  EXPECT_FALSE(catalog->PinStateOf(e, kNow + 500).pinned);

  // Lapsed rules are ignored by a reload and swept from memory.
  EXPECT_EQ(Load(&mem_, kNow + 200)->pin_rules(), 1u);
  catalog->SweepLapsedPins(kNow + 200);
  EXPECT_EQ(catalog->pin_rules(), 1u);
  auto lapsed = catalog->RemovePin(IndexKey(0, "g").str(), true, kNow + 600, &mu_);
  ASSERT_TRUE(lapsed.ok());
  EXPECT_TRUE(*lapsed);
  EXPECT_EQ(catalog->RemovePin(IndexKey(0, "g").str(), true, kNow, &mu_).status().code(),
            StatusCode::kNotFound);
}

TEST_F(CatalogTest, PinLimitsAreStoreWideAndPerNamespace) {
  auto catalog = Load(&mem_);
  MutexLock lock(&mu_);
  NamespaceConfig config;
  config.max_pins = 1;
  auto id = catalog->CreateNamespace("small", config, &mu_);
  ASSERT_TRUE(id.ok());
  const Namespace& ns = *catalog->Find(*id);
  const std::string a = IndexKey(*id, "a").str(), b = IndexKey(*id, "b").str();
  EXPECT_TRUE(catalog->CheckPinLimits(ns, a, false, kNow, 10).ok());
  ASSERT_TRUE(catalog->AddPin(a, false, {}, &mu_).ok());
  EXPECT_EQ(catalog->CheckPinLimits(ns, b, false, kNow, 10).code(), StatusCode::kNoSpace);
  EXPECT_TRUE(catalog->CheckPinLimits(ns, a, false, kNow, 10).ok()) << "renewing is not adding";
  const Namespace& def = *catalog->Find(kDefaultNamespaceId);
  EXPECT_EQ(catalog->CheckPinLimits(def, IndexKey(0, "c").str(), false, kNow, 1).code(),
            StatusCode::kNoSpace);
}

TEST_F(CatalogTest, EncryptedNamespacesNeedTheirKeyLoaded) {
  auto key = std::make_shared<EncryptionKey>();
  key->name = "k1";
  key->id = EncryptionKeyId(key->bytes);
  ASSERT_TRUE(keyring_->Add(key).ok());
  auto catalog = Load(&mem_);
  NamespaceConfig config;
  config.encryption_key = "k1";
  EXPECT_TRUE(catalog->CheckKeyName(config).ok());
  Namespace ns;
  ns.name = "n";
  ns.config = config;
  auto sealed = catalog->SealKey(ns);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*sealed, key);
  ns.config.encryption_key = "missing";
  EXPECT_EQ(catalog->CheckKeyName(ns.config).code(), StatusCode::kInvalid);
  EXPECT_EQ(catalog->SealKey(ns).status().code(), StatusCode::kKeyUnavailable);
  ns.config.encryption_key.clear();
  EXPECT_EQ(catalog->SealKey(ns).value(), nullptr) << "stored in the clear";
}

// A CATALOG whose namespaces are given as (id, name) pairs.
std::string CatalogJson(uint32_t next_id, const std::vector<std::pair<int64_t, std::string>>& ns) {
  std::string j = R"({"version": 1, "next_namespace_id": )" + std::to_string(next_id) +
                  R"(, "pins": [], "namespaces": [)";
  for (size_t i = 0; i < ns.size(); ++i) {
    if (i > 0) j += ", ";
    j += R"({"id": )" + std::to_string(ns[i].first) + R"(, "name": ")" + ns[i].second + R"("})";
  }
  return j + "]}";
}

// Each of these once loaded: two namespaces then shared an id (and their
// objects) or a name, or the next namespace created was given an id
// already in use, or the id that means "every namespace" to admin tokens.
TEST_F(CatalogTest, ACatalogWithClashingNamespacesIsCorrupt) {
  struct Case {
    const char* why;
    std::string json;
  };
  const Case cases[] = {
      {"a repeated id", CatalogJson(3, {{0, "default"}, {1, "a"}, {1, "b"}})},
      {"a repeated name", CatalogJson(3, {{0, "default"}, {1, "a"}, {2, "a"}})},
      {"an id at next_namespace_id", CatalogJson(2, {{0, "default"}, {2, "a"}})},
      {"an id past next_namespace_id", CatalogJson(2, {{0, "default"}, {7, "a"}})},
      {"the all-namespaces id", CatalogJson(5, {{0, "default"}, {4294967295, "a"}})},
      {"an invalid name", CatalogJson(3, {{0, "default"}, {1, "a/b"}})},
      {"default under another id", CatalogJson(3, {{0, "x"}, {1, "default"}})},
  };
  for (const Case& c : cases) {
    mem_.SetFile("/data/CATALOG", c.json);
    Catalog catalog(&mem_, "/data", "lru", keyring_);
    Status st = catalog.Load(kNow);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << c.why << ": " << st.ToString();
    EXPECT_NE(st.message().find("/data/CATALOG"), std::string::npos) << st.message();
  }
  mem_.SetFile("/data/CATALOG", CatalogJson(3, {{0, "default"}, {1, "a"}, {2, "b"}}));
  EXPECT_EQ(Load(&mem_)->namespace_count(), 3u) << "the same shape without a clash loads";
}

// A fraction or an out-of-range number reached json's get<> conversions,
// which are undefined behaviour for them (found by catalog_fuzzer).
TEST_F(CatalogTest, NumbersOutOfRangeAreCorrupt) {
  const std::string files[] = {
      R"({"version": 111112222222222222.1, "next_namespace_id": 1, "namespaces": [], "pins": []})",
      R"({"version": 1, "next_namespace_id": 5000000000, "namespaces": [], "pins": []})",
      CatalogJson(3, {{0, "default"}, {-1, "a"}}),
      R"({"version": 1, "next_namespace_id": 2.5, "namespaces": [], "pins": []})",
  };
  for (const std::string& file : files) {
    mem_.SetFile("/data/CATALOG", file);
    Catalog catalog(&mem_, "/data", "lru", keyring_);
    Status st = catalog.Load(kNow);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << file << ": " << st.ToString();
  }
}

TEST_F(CatalogTest, NamespaceIdsRunOutBeforeTheAllNamespacesId) {
  mem_.SetFile("/data/CATALOG", CatalogJson(4294967294, {{0, "default"}}));
  auto catalog = Load(&mem_);
  MutexLock lock(&mu_);
  auto last = catalog->CreateNamespace("last", {}, &mu_);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 4294967294u);
  auto more = catalog->CreateNamespace("more", {}, &mu_);
  EXPECT_EQ(more.status().code(), StatusCode::kNoSpace);
  EXPECT_EQ(catalog->Find(kAllNamespaces), nullptr);
}

}  // namespace
}  // namespace ctxstore::engine
