#include "engine/index/index.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>

namespace ctxstore::engine {
namespace {

std::string KeyOf(uint32_t ns, const std::string& user_key) {
  return IndexKey(ns, user_key).str();
}

// snprintf, not Numbered("key-", i): g++ 12 warns (-Wrestrict) on that.
std::string Numbered(const char* prefix, uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s%llu", prefix, static_cast<unsigned long long>(i));
  return buf;
}

TEST(IndexTest, FindsWhatWasInsertedAndNothingElse) {
  Index index;
  EXPECT_EQ(index.find(KeyOf(1, "a")), index.end());
  auto [it, inserted] = index.try_emplace(KeyOf(1, "a"));
  ASSERT_TRUE(inserted);
  it->second.seq = 7;
  EXPECT_EQ(it->first, "a");
  EXPECT_EQ(it->second.user_key(), "a");
  EXPECT_EQ(it->second.namespace_id, 1u);
  EXPECT_EQ(it->second.index_key().str(), KeyOf(1, "a"));
  // The same key in another namespace is another object.
  EXPECT_EQ(index.find(KeyOf(2, "a")), index.end());
  auto again = index.try_emplace(KeyOf(1, "a"));
  EXPECT_FALSE(again.second);
  EXPECT_EQ(again.first->second.seq, 7u);
  EXPECT_EQ(&again.first->second, &it->second);
  EXPECT_EQ(index.size(), 1u);
}

TEST(IndexTest, KeysOfEveryLengthUpToTheMaximum) {
  Index index;
  std::vector<Entry*> entries;
  for (size_t len = 1; len <= kMaxKeyBytes; ++len) {
    std::string key(len, static_cast<char>('a' + len % 26));
    auto [it, inserted] = index.try_emplace(KeyOf(3, key));
    ASSERT_TRUE(inserted) << len;
    it->second.seq = len;
    entries.push_back(&it->second);
  }
  for (size_t len = 1; len <= kMaxKeyBytes; ++len) {
    std::string key(len, static_cast<char>('a' + len % 26));
    auto it = index.find(KeyOf(3, key));
    ASSERT_NE(it, index.end()) << len;
    EXPECT_EQ(it->second.seq, len);
    EXPECT_EQ(&it->second, entries[len - 1]) << "entries never move";
    EXPECT_EQ(it->second.user_key(), key);
  }
}

// Random inserts, finds and erases (some while iterating) against a model;
// entries must keep their address for as long as they live.
TEST(IndexTest, RandomizedAgainstAModel) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Index index;
    std::unordered_map<std::string, std::pair<uint64_t, Entry*>> model;
    auto random_key = [&] {
      // Few distinct keys, so that finds hit and erases leave tombstones.
      std::string k = Numbered("k", rng() % 3000);
      k.append(rng() % 40, 'x');
      return KeyOf(static_cast<uint32_t>(rng() % 3), k);
    };
    for (int op = 0; op < 60000; ++op) {
      const std::string key = random_key();
      switch (rng() % 4) {
        case 0:
        case 1: {
          auto [it, inserted] = index.try_emplace(key);
          ASSERT_EQ(inserted, !model.contains(key));
          if (inserted) {
            it->second.seq = rng();
            model[key] = {it->second.seq, &it->second};
          }
          break;
        }
        case 2: {
          auto it = index.find(key);
          ASSERT_EQ(it != index.end(), model.contains(key));
          if (it != index.end()) {
            index.erase(it);
            model.erase(key);
          }
          break;
        }
        default: {
          auto it = index.find(key);
          ASSERT_EQ(it != index.end(), model.contains(key));
          if (it != index.end()) {
            EXPECT_EQ(it->second.seq, model[key].first);
            EXPECT_EQ(&it->second, model[key].second);
          }
        }
      }
      ASSERT_EQ(index.size(), model.size());
      if (op % 10000 == 9999) {
        // Erase about a third while iterating: every entry is still visited once.
        std::set<std::string> seen;
        for (auto it = index.begin(); it != index.end();) {
          auto next = std::next(it);
          std::string k = it->second.index_key().str();
          ASSERT_TRUE(seen.insert(k).second) << "visited twice";
          if (rng() % 3 == 0) {
            index.erase(it);
            model.erase(k);
          }
          it = next;
        }
        ASSERT_EQ(index.size(), model.size());
      }
    }
    size_t visited = 0;
    for (const auto& [user_key, e] : index) {
      const std::string key = e.index_key().str();
      EXPECT_EQ(user_key, e.user_key());
      ASSERT_TRUE(model.contains(key));
      EXPECT_EQ(e.seq, model[key].first);
      ++visited;
    }
    EXPECT_EQ(visited, model.size());
  }
}

TEST(IndexTest, TableShrinksAfterMostEntriesAreErasedAndErasedSlabSpaceIsReused) {
  Index index;
  index.reserve(50000);
  for (int i = 0; i < 50000; ++i) index.try_emplace(KeyOf(1, Numbered("key-", i)));
  const uint64_t full = index.memory_bytes();
  for (int i = 0; i < 50000; ++i) {
    if (i % 100 != 0) index.erase(index.find(KeyOf(1, Numbered("key-", i))));
  }
  // Inserting keys of the same sizes reuses the freed entries and
  // rebuilds the table without its tombstones, smaller.
  for (int i = 0; i < 5000; ++i) index.try_emplace(KeyOf(2, Numbered("key-", i)));
  EXPECT_EQ(index.size(), 5500u);
  EXPECT_LT(index.memory_bytes(), full);
  for (int i = 0; i < 50000; i += 100) {
    EXPECT_NE(index.find(KeyOf(1, Numbered("key-", i))), index.end());
  }
}

}  // namespace
}  // namespace ctxstore::engine
