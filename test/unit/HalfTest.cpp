//===- HalfTest.cpp - f16 and bf16 conversions -----------------------------===//

#include "runtime/Half.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace tfm::rt;

TEST(Half, KnownF16Encodings) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(-2.0f), 0xc000);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);     // largest finite
  EXPECT_EQ(floatToF16(1e6f), 0x7c00);         // overflow to inf
  EXPECT_EQ(floatToF16(5.960464477539063e-08f), 0x0001); // smallest subnormal
  EXPECT_EQ(f16ToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(f16ToFloat(0x0001), 5.960464477539063e-08f);
  EXPECT_TRUE(std::isinf(f16ToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(f16ToFloat(0x7e00)));
}

TEST(Half, F16RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to even (1).
  EXPECT_EQ(floatToF16(1.0f + 0x1.0p-11f), 0x3c00);
  // 1 + 3·2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: even is up.
  EXPECT_EQ(floatToF16(1.0f + 3 * 0x1.0p-11f), 0x3c02);
}

TEST(Half, EveryF16RoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
      continue; // NaN payloads
    EXPECT_EQ(floatToF16(f16ToFloat(uint16_t(h))), h) << std::hex << h;
  }
}

TEST(Half, Bf16) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bf16ToFloat(floatToBf16(3.140625f)), 3.140625f);
  // Round to nearest even: 1 + 2^-8 is a tie between 1 and 1 + 2^-7.
  EXPECT_EQ(floatToBf16(1.0f + 0x1.0p-8f), 0x3f80);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(NAN))));
}
