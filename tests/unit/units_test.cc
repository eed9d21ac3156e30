#include "common/units.h"

#include <gtest/gtest.h>

namespace ctxstore {
namespace {

TEST(ParseSize, BinaryAndDecimalSuffixes) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("512MiB"), 512 * kMiB);
  EXPECT_EQ(*ParseSize("4GiB"), 4 * kGiB);
  EXPECT_EQ(*ParseSize("4g"), 4 * kGiB);
  EXPECT_EQ(*ParseSize("1.5GiB"), 3 * kGiB / 2);
  EXPECT_EQ(*ParseSize("2KB"), 2000u);
  EXPECT_EQ(*ParseSize("64 KiB"), 64 * kKiB);
}

TEST(ParseSize, RejectsGarbage) {
  EXPECT_EQ(ParseSize("").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(ParseSize("MiB").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(ParseSize("12XB").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(ParseSize("-1").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(ParseSize("99999999999TiB").status().code(), StatusCode::kInvalid);
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(*ParseDurationMs("500ms"), 500u);
  EXPECT_EQ(*ParseDurationMs("30s"), 30000u);
  EXPECT_EQ(*ParseDurationMs("5m"), 300000u);
  EXPECT_EQ(*ParseDurationMs("2h"), 7200000u);
  EXPECT_EQ(*ParseDurationMs("250"), 250u);
  EXPECT_FALSE(ParseDurationMs("5d").ok());
}

TEST(FormatSize, HumanReadable) {
  EXPECT_EQ(FormatSize(100), "100 B");
  EXPECT_EQ(FormatSize(512 * kMiB), "512.0 MiB");
}

}  // namespace
}  // namespace ctxstore
