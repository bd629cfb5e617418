//===- FloatGemmTest.cpp - the f32 prefill micro-kernel ---------------===//
//
// Each path of tfm_gemm_f32 this CPU has (AVX-512, AVX2) against the f64
// sum of the products, for f16 and f32 weights, shapes with partial tiles
// of rows and pairs of outputs, k of several blocks with a partial one, a
// fused GLU's two halves and an output window that starts inside the
// matrix; and what it refuses.
//
//===----------------------------------------------------------------------===//

#include "runtime/BfloatGemm.h"
#include "runtime/FloatGemm.h"
#include "runtime/Half.h"
#include "test/unit/BufferView.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace tfm::rt;
using tfm::test::View;

namespace {

struct Case {
  int k, rows, seq, nMin, nExtent, pairStride, sMin;
};

class FloatGemm
    : public ::testing::TestWithParam<std::tuple<Case, int, GemmIsa>> {
protected:
  void TearDown() override { forceGemmIsa(GemmIsa::amx); }
};

TEST_P(FloatGemm, MatchesTheF64SumOfProducts) {
  auto [c, format, isa] = GetParam();
  forceGemmIsa(isa);
  bool avx512 = isa != GemmIsa::avx2;
  if ((gemmIsa() != GemmIsa::avx2) != avx512)
    GTEST_SKIP() << "this CPU has no " << gemmIsaName(isa) << " path";
  std::mt19937 rng(c.k * 3 + c.rows + format);
  std::normal_distribution<float> normal(0.f, 1.f);
  int total = c.pairStride ? 2 * c.pairStride : c.rows;
  int js = c.pairStride ? 2 : 1;
  // The weights as stored, and their values.
  std::vector<float> w(size_t(total) * c.k);
  std::vector<uint16_t> bits(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = normal(rng);
    if (format == tfm_gemm_weight_f16) {
      bits[i] = floatToF16(w[i]);
      w[i] = f16ToFloat(bits[i]);
    }
  }
  std::vector<float> a(size_t(c.seq) * c.k);
  for (auto &v : a)
    v = normal(rng);
  bool f16 = format == tfm_gemm_weight_f16;
  View vw(f16 ? static_cast<void *>(bits.data()) : w.data(),
          f16 ? halide_type_t(halide_type_uint, 16)
              : halide_type_t(halide_type_float, 32),
          {{0, c.k}, {0, total}});
  View va(a.data(), halide_type_t(halide_type_float, 32),
          {{0, c.k}, {0, c.seq}});
  int sExtent = c.seq - c.sMin;
  std::vector<float> out(size_t(c.nExtent) * js * sExtent, NAN);
  View vo(out.data(), halide_type_t(halide_type_float, 32),
          {{c.nMin, c.nExtent}, {0, js}, {c.sMin, sExtent}});
  ASSERT_EQ(tfm_gemm_f32(&vw.buf, &va.buf, format, c.k, c.pairStride,
                         &vo.buf),
            0);
  for (int s = 0; s < sExtent; ++s)
    for (int j = 0; j < js; ++j)
      for (int n = 0; n < c.nExtent; ++n) {
        int row = c.nMin + n + j * c.pairStride, sr = c.sMin + s;
        double exact = 0, size = 0;
        for (int i = 0; i < c.k; ++i) {
          double p = double(w[size_t(row) * c.k + i]) * a[size_t(sr) * c.k + i];
          exact += p;
          size += std::fabs(p);
        }
        float got = out[(size_t(s) * js + j) * c.nExtent + n];
        // Sums over blocks of 256 (each product rounded once, each partial
        // sum once per term), then one addition per block: at most 256 +
        // k / 256 + 1 half-ulps of the sum of magnitudes.
        double ulps = std::min(c.k, 256) + c.k / 256 + 1;
        ASSERT_NEAR(got, exact, ulps * 0x1p-24 * size)
            << "s " << s << " j " << j << " n " << n;
      }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FloatGemm,
    ::testing::Combine(
        ::testing::Values(Case{16, 16, 8, 0, 16, 0, 0},
                          Case{272, 40, 37, 0, 40, 0, 0},  // partial tiles
                          Case{768, 96, 50, 16, 64, 0, 3}, // a window
                          Case{528, 0, 33, 8, 24, 48, 1}), // GLU halves
        ::testing::Values(int(tfm_gemm_weight_f16), int(tfm_gemm_weight_f32)),
        ::testing::Values(GemmIsa::avx512bf16, GemmIsa::avx2)));

TEST(FloatGemmChecks, RefusesOtherFormatsAndPartialChunks) {
  std::vector<float> w(64 * 16), a(64 * 2), out(16 * 2);
  View vw(w.data(), halide_type_t(halide_type_float, 32), {{0, 64}, {0, 16}});
  View va(a.data(), halide_type_t(halide_type_float, 32), {{0, 64}, {0, 2}});
  View vo(out.data(), halide_type_t(halide_type_float, 32),
          {{0, 16}, {0, 1}, {0, 2}});
  EXPECT_EQ(tfm_gemm_f32(&vw.buf, &va.buf, tfm_gemm_weight_bf16, 64, 0,
                         &vo.buf),
            -1);
  EXPECT_EQ(tfm_gemm_f32(&vw.buf, &va.buf, tfm_gemm_weight_f32, 56, 0,
                         &vo.buf),
            -1);
  EXPECT_EQ(tfm_gemm_f32(&vw.buf, &va.buf, tfm_gemm_weight_f32, 64, 0,
                         &vo.buf),
            0);
}

} // namespace
