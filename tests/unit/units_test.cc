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

TEST(FormatSizeExact, LargestUnitThatDividesIt) {
  EXPECT_EQ(FormatSizeExact(kGiB), "1GiB");
  EXPECT_EQ(FormatSizeExact(256 * kMiB), "256MiB");
  EXPECT_EQ(FormatSizeExact(1536 * kKiB), "1536KiB");
  EXPECT_EQ(FormatSizeExact(100), "100");
  EXPECT_EQ(FormatSizeExact(0), "0");
  for (uint64_t bytes : {uint64_t{0}, uint64_t{4097}, 3 * kGiB / 2, 4 * kGiB, kGiB * 1024 * 1024}) {
    EXPECT_EQ(*ParseSize(FormatSizeExact(bytes)), bytes) << FormatSizeExact(bytes);
  }
}

TEST(FormatDurationMs, SecondsWhenWhole) {
  EXPECT_EQ(FormatDurationMs(300'000), "300s");
  EXPECT_EQ(FormatDurationMs(1000), "1s");
  EXPECT_EQ(FormatDurationMs(1500), "1500ms");
  EXPECT_EQ(FormatDurationMs(0), "0ms");
  for (uint64_t ms : {uint64_t{0}, uint64_t{1}, uint64_t{60'000}, uint64_t{1234}}) {
    EXPECT_EQ(*ParseDurationMs(FormatDurationMs(ms)), ms) << FormatDurationMs(ms);
  }
}

}  // namespace
}  // namespace ctxstore
