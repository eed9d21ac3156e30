#include "engine/index/meta_interner.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ctxstore::engine {
namespace {

// (snprintf: g++ 12 warns falsely on "w" + std::to_string(i) at -O3.)
std::string Name(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%d", prefix, i);
  return buf;
}

ObjectMeta WriterOnly(const std::string& writer) {
  ObjectMeta m;
  m.writer = writer;
  return m;
}

TEST(MetaInternerTest, EmptyMetadataIsNull) {
  MetaInterner interner;
  EXPECT_EQ(interner.Make(ObjectMeta{}), nullptr);
  EXPECT_EQ(interner.size(), 0u);
}

TEST(MetaInternerTest, WriterOnlyMetadataIsSharedPerWriter) {
  MetaInterner interner;
  auto a1 = interner.Make(WriterOnly("alice"));
  auto a2 = interner.Make(WriterOnly("alice"));
  auto b = interner.Make(WriterOnly("bob"));
  ASSERT_NE(a1, nullptr);
  EXPECT_EQ(a1.get(), a2.get());
  EXPECT_NE(a1.get(), b.get());
  EXPECT_EQ(a1->writer, "alice");
  EXPECT_EQ(b->writer, "bob");
  EXPECT_EQ(interner.size(), 2u);
}

TEST(MetaInternerTest, MetadataWithOtherFieldsIsNeverShared) {
  MetaInterner interner;
  ObjectMeta m = WriterOnly("alice");
  m.group = "session-1";
  auto x = interner.Make(m);
  auto y = interner.Make(m);
  ASSERT_NE(x, nullptr);
  EXPECT_NE(x.get(), y.get());
  EXPECT_EQ(x->group, "session-1");
  EXPECT_EQ(x->writer, "alice");
  EXPECT_EQ(interner.size(), 0u);
}

TEST(MetaInternerTest, WritersNoObjectUsesAreForgottenAtTheBound) {
  MetaInterner interner;
  std::vector<MetaRef> held;
  // Fill the table with writers nobody holds, then one past the bound.
  for (int i = 0; i < 5000; ++i) (void)interner.Make(WriterOnly(Name("w", i)));
  EXPECT_LE(interner.size(), 4096u);
  // Held writers survive a prune and stay shared.
  held.push_back(interner.Make(WriterOnly("kept")));
  for (int i = 0; i < 5000; ++i) (void)interner.Make(WriterOnly(Name("x", i)));
  EXPECT_EQ(interner.Make(WriterOnly("kept")).get(), held[0].get());
  EXPECT_LE(interner.size(), 4096u);
}

}  // namespace
}  // namespace ctxstore::engine
