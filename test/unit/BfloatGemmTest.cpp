//===- BfloatGemmTest.cpp - the bf16 prefill micro-kernel -------------===//
//
// Each path of tfm_gemm_bf16 this CPU has (AMX, AVX512-BF16, AVX2) against
// the f64 sum of the exact products of the bf16-rounded operands, for each
// weight format, shapes with partial tiles of rows and outputs, a fused
// GLU's two halves and an output window that starts inside the matrix;
// and the bounds query.
//
//===----------------------------------------------------------------------===//

#include "runtime/BfloatGemm.h"
#include "runtime/Half.h"
#include "test/unit/BufferView.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace tfm::rt;
using tfm::test::View;

namespace {

struct Case {
  int k, rows, seq, nMin, nExtent, pairStride, sMin;
};

float roundBf16(float f) { return bf16ToFloat(floatToBf16(f)); }

class BfloatGemm
    : public ::testing::TestWithParam<std::tuple<Case, int, GemmIsa>> {
protected:
  void TearDown() override { forceGemmIsa(GemmIsa::amx); }
};

TEST_P(BfloatGemm, MatchesExactProductsOfRoundedOperands) {
  auto [c, format, isa] = GetParam();
  forceGemmIsa(isa);
  if (gemmIsa() != isa)
    GTEST_SKIP() << "this CPU has no " << gemmIsaName(isa) << " path";
  std::mt19937 rng(c.k * 7 + c.rows + format);
  std::normal_distribution<float> normal(0.f, 1.f);
  int total = c.pairStride ? 2 * c.pairStride : c.rows;
  int js = c.pairStride ? 2 : 1;
  std::vector<float> w(size_t(total) * c.k), rounded(w.size());
  std::vector<uint16_t> bits(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = normal(rng);
    if (format == 1) { // f16 storage: the stored value is the f16's
      bits[i] = floatToF16(w[i]);
      w[i] = f16ToFloat(bits[i]);
    } else if (format == 0) {
      bits[i] = floatToBf16(w[i]);
      w[i] = bf16ToFloat(bits[i]);
    }
    rounded[i] = roundBf16(w[i]);
  }
  std::vector<uint16_t> act(size_t(c.seq) * c.k);
  std::vector<float> a(act.size());
  for (size_t i = 0; i < act.size(); ++i) {
    act[i] = floatToBf16(normal(rng));
    a[i] = bf16ToFloat(act[i]);
  }
  View vw(format == 2 ? static_cast<void *>(w.data()) : bits.data(),
          format == 2 ? halide_type_t(halide_type_float, 32)
                      : halide_type_t(halide_type_uint, 16),
          {{0, c.k}, {0, total}});
  View va(act.data(), halide_type_t(halide_type_uint, 16),
          {{0, c.k}, {0, c.seq}});
  int sExtent = c.seq - c.sMin;
  std::vector<float> out(size_t(c.nExtent) * js * sExtent, NAN);
  View vo(out.data(), halide_type_t(halide_type_float, 32),
          {{c.nMin, c.nExtent}, {0, js}, {c.sMin, sExtent}});
  ASSERT_EQ(tfm_gemm_bf16(&vw.buf, &va.buf, format, c.k, c.pairStride, &vo.buf),
            0);
  for (int s = 0; s < sExtent; ++s)
    for (int j = 0; j < js; ++j)
      for (int n = 0; n < c.nExtent; ++n) {
        int row = c.nMin + n + j * c.pairStride;
        double exact = 0, size = 0;
        for (int i = 0; i < c.k; ++i) {
          double p = double(rounded[size_t(row) * c.k + i]) *
                     a[size_t(c.sMin + s) * c.k + i];
          exact += p;
          size += std::fabs(p);
        }
        float got = out[(size_t(s) * js + j) * c.nExtent + n];
        // f32 sums of k exact products: at most k ulps of the sum of
        // magnitudes, in practice far less.
        ASSERT_NEAR(got, exact, 4e-7 * size + 1e-30)
            << "s " << s << " j " << j << " n " << n;
      }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BfloatGemm,
    ::testing::Combine(
        ::testing::Values(Case{32, 16, 16, 0, 16, 0, 0},
                          Case{64, 40, 37, 0, 40, 0, 0},   // partial tiles
                          Case{256, 96, 50, 16, 64, 0, 3}, // a window
                          Case{128, 0, 33, 8, 24, 48, 1},  // GLU halves
                          Case{768, 64, 128, 0, 64, 0, 0}),
        ::testing::Values(0, 1, 2),
        ::testing::Values(GemmIsa::amx, GemmIsa::avx512bf16, GemmIsa::avx2)));

TEST(BfloatGemmBounds, AnswersTheRowsAndActivationsNeeded) {
  halide_dimension_t wd[2] = {}, ad[2] = {},
                     od[3] = {{32, 16, 1, 0}, {0, 2, 16, 0}, {5, 7, 32, 0}};
  halide_buffer_t weight = {}, act = {}, out = {};
  weight.dimensions = act.dimensions = 2;
  weight.dim = wd;
  act.dim = ad;
  out.dimensions = 3;
  out.dim = od;
  ASSERT_EQ(tfm_gemm_bf16(&weight, &act, 0, 64, 100, &out), 0);
  EXPECT_EQ(wd[0].min, 0);
  EXPECT_EQ(wd[0].extent, 64);
  EXPECT_EQ(wd[1].min, 32);
  EXPECT_EQ(wd[1].extent, 116); // rows 32..47 and 132..147
  EXPECT_EQ(ad[1].min, 5);
  EXPECT_EQ(ad[1].extent, 7);
}

} // namespace
