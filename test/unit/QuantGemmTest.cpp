//===- QuantGemmTest.cpp - the 8-bit prefill micro-kernel -------------===//
//
// Each path of tfm_gemm_q8_0 this CPU has (AMX-INT8, AVX512-VNNI, AVX2)
// against the f64 sum over blocks of the weight's and the activations'
// scales times the blocks' integer sums, for q4_0 and q8_0 weights (q8_0's
// extremes -128 and 127 included), shapes with partial tiles of rows and
// outputs, a fused GLU's two halves and an output window that starts
// inside the matrix; and the bounds query.
//
//===----------------------------------------------------------------------===//

#include "runtime/BfloatGemm.h"
#include "runtime/Half.h"
#include "runtime/QuantDot.h"
#include "runtime/QuantGemm.h"
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

class QuantGemm
    : public ::testing::TestWithParam<std::tuple<Case, int, Int8GemmIsa>> {
protected:
  void TearDown() override {
    forceDotFallback(false);
    forceGemmIsa(GemmIsa::amx);
  }
};

/// One call of tfm_gemm_q8_0 on case `c` over the stored rows `w`
/// (`rowBytes` each): random activations (integers, and one scale per
/// block of `block` k), then the call; `check(row, s, got)` sees each
/// output with its weight row and activation row.
struct Call {
  std::vector<int8_t> a;
  std::vector<float> da;
  int blocks;

  template <typename Check>
  void run(const Case &c, int format, std::vector<uint8_t> &w, int rowBytes,
           int block, std::mt19937 &rng, Check check) {
    std::uniform_int_distribution<int> act(-127, 127);
    std::uniform_real_distribution<float> scale(0.001f, 0.1f);
    int total = c.pairStride ? 2 * c.pairStride : c.rows;
    int js = c.pairStride ? 2 : 1;
    blocks = c.k / block;
    a.resize(size_t(c.seq) * c.k);
    da.resize(size_t(c.seq) * blocks);
    for (auto &v : a)
      v = int8_t(act(rng));
    for (auto &v : da)
      v = scale(rng);
    View vw(w.data(), halide_type_t(halide_type_uint, 8),
            {{0, rowBytes}, {0, total}});
    View va(a.data(), halide_type_t(halide_type_int, 8),
            {{0, c.k}, {0, c.seq}});
    View vd(da.data(), halide_type_t(halide_type_float, 32),
            {{0, blocks}, {0, c.seq}});
    int sExtent = c.seq - c.sMin;
    std::vector<float> out(size_t(c.nExtent) * js * sExtent, NAN);
    View vo(out.data(), halide_type_t(halide_type_float, 32),
            {{c.nMin, c.nExtent}, {0, js}, {c.sMin, sExtent}});
    ASSERT_EQ(tfm_gemm_q8_0(&vw.buf, &va.buf, &vd.buf, format, c.k,
                            c.pairStride, &vo.buf),
              0);
    for (int s = 0; s < sExtent; ++s)
      for (int j = 0; j < js; ++j)
        for (int n = 0; n < c.nExtent; ++n) {
          check(c.nMin + n + j * c.pairStride, c.sMin + s,
                out[(size_t(s) * js + j) * c.nExtent + n]);
          if (::testing::Test::HasFatalFailure())
            return;
        }
  }
};

TEST_P(QuantGemm, MatchesScaledIntegerSumsOfEachBlock) {
  auto [c, format, isa] = GetParam();
  forceDotFallback(isa == Int8GemmIsa::avx2);
  forceGemmIsa(isa == Int8GemmIsa::amx ? GemmIsa::amx : GemmIsa::avx512bf16);
  if (int8GemmIsa() != isa)
    GTEST_SKIP() << "this CPU has no " << int8GemmIsaName(isa);
  std::mt19937 rng(c.k * 7 + c.rows + format);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  int total = c.pairStride ? 2 * c.pairStride : c.rows;
  int blocks = c.k / 32, bytes = format == tfm_gemm_weight_q4_0 ? 18 : 34;
  // The stored bytes, and each weight's integer and block scale.
  std::vector<uint8_t> w(size_t(total) * blocks * bytes);
  std::vector<int> q(size_t(total) * c.k);
  std::vector<float> dw(size_t(total) * blocks);
  for (int row = 0; row < total; ++row)
    for (int b = 0; b < blocks; ++b) {
      uint8_t *block = w.data() + (size_t(row) * blocks + b) * bytes;
      uint16_t d = floatToF16(scale(rng) * (byte(rng) < 128 ? -1.f : 1.f));
      std::memcpy(block, &d, 2);
      dw[size_t(row) * blocks + b] = f16ToFloat(d);
      int *ints = q.data() + size_t(row) * c.k + b * 32;
      for (int i = 0; i < (format == tfm_gemm_weight_q4_0 ? 16 : 32); ++i) {
        block[2 + i] = uint8_t(byte(rng));
        if (format == tfm_gemm_weight_q4_0) {
          ints[i] = (block[2 + i] & 15) - 8;
          ints[i + 16] = (block[2 + i] >> 4) - 8;
        } else {
          ints[i] = int8_t(block[2 + i]);
        }
      }
    }
  Call call;
  call.run(c, format, w, blocks * bytes, 32, rng, [&](int row, int sr,
                                                      float got) {
    double exact = 0, size = 0;
    for (int b = 0; b < blocks; ++b) {
      long dot = 0;
      for (int i = 0; i < 32; ++i)
        dot += long(q[size_t(row) * c.k + b * 32 + i]) *
               call.a[size_t(sr) * c.k + b * 32 + i];
      double term = double(dw[size_t(row) * blocks + b]) *
                    call.da[size_t(sr) * blocks + b] * double(dot);
      exact += term;
      size += std::fabs(term);
    }
    // Each block's term is rounded twice (the scales' product, then times
    // the exact integer sum) and the f32 sum over blocks once per block: at
    // most blocks + 2 half-ulps of the sum of magnitudes.
    ASSERT_NEAR(got, exact, (blocks + 2) * 0x1p-24 * size + 1e-30)
        << "row " << row << " s " << sr;
  });
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, QuantGemm,
    ::testing::Combine(
        ::testing::Values(Case{32, 16, 8, 0, 16, 0, 0},
                          Case{64, 40, 37, 0, 40, 0, 0},   // partial tiles
                          Case{96, 32, 19, 0, 32, 0, 0},   // odd blocks
                          Case{256, 96, 50, 16, 64, 0, 3}, // a window
                          Case{128, 0, 33, 8, 24, 48, 1},  // GLU halves
                          Case{768, 64, 128, 0, 64, 0, 0}),
        ::testing::Values(int(tfm_gemm_weight_q4_0), int(tfm_gemm_weight_q8_0)),
        ::testing::Values(Int8GemmIsa::amx, Int8GemmIsa::avx512vnni,
                          Int8GemmIsa::avx2)));

/// A K-quant block's contents: its integers as the format stores them
/// (q4_K 0-15, q6_K 0-63), the units' scales (and q4_K's minimums), d and
/// dmin, as f16 bits.
struct KBlock {
  int v[256];
  int scale[16], min[8];
  uint16_t d, dmin;
};

void encodeQ4K(const KBlock &k, uint8_t *out) {
  std::memcpy(out, &k.d, 2);
  std::memcpy(out + 2, &k.dmin, 2);
  uint8_t *s = out + 4;
  for (int j = 0; j < 4; ++j) {
    s[j] = uint8_t(k.scale[j] | ((k.scale[j + 4] >> 4) << 6));
    s[j + 4] = uint8_t(k.min[j] | ((k.min[j + 4] >> 4) << 6));
    s[j + 8] = uint8_t((k.scale[j + 4] & 15) | ((k.min[j + 4] & 15) << 4));
  }
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      out[16 + 32 * c + l] =
          uint8_t(k.v[64 * c + l] | (k.v[64 * c + 32 + l] << 4));
}

void encodeQ6K(const KBlock &k, uint8_t *out) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const int *v = k.v + 128 * h + l;
      out[64 * h + l] = uint8_t((v[0] & 15) | ((v[64] & 15) << 4));
      out[64 * h + 32 + l] = uint8_t((v[32] & 15) | ((v[96] & 15) << 4));
      out[128 + 32 * h + l] = uint8_t((v[0] >> 4) | ((v[32] >> 4) << 2) |
                                      ((v[64] >> 4) << 4) |
                                      ((v[96] >> 4) << 6));
    }
  for (int u = 0; u < 16; ++u)
    out[192 + u] = uint8_t(int8_t(k.scale[u]));
  std::memcpy(out + 208, &k.d, 2);
}

class QuantGemmK : public QuantGemm {};

TEST_P(QuantGemmK, MatchesScaledIntegerSumsOfEachUnit) {
  auto [c, format, isa] = GetParam();
  forceDotFallback(isa == Int8GemmIsa::avx2);
  forceGemmIsa(isa == Int8GemmIsa::amx ? GemmIsa::amx : GemmIsa::avx512bf16);
  if (int8GemmIsa() != isa)
    GTEST_SKIP() << "this CPU has no " << int8GemmIsaName(isa);
  bool q4 = format == tfm_gemm_weight_q4_K;
  std::mt19937 rng(c.k * 5 + c.rows + format);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  int total = c.pairStride ? 2 * c.pairStride : c.rows;
  int blocks = c.k / 256, bytes = q4 ? 144 : 210;
  int units = q4 ? 8 : 16, unit = 256 / units;
  std::vector<uint8_t> w(size_t(total) * blocks * bytes);
  std::vector<KBlock> kb(size_t(total) * blocks);
  for (size_t i = 0; i < kb.size(); ++i) {
    KBlock &k = kb[i];
    // Every block holds the formats' extremes somewhere.
    std::uniform_int_distribution<int> value(0, q4 ? 15 : 63),
        sc(q4 ? 0 : -128, q4 ? 63 : 127);
    for (int e = 0; e < 256; ++e)
      k.v[e] = e == 0 ? 0 : e == 1 ? (q4 ? 15 : 63) : value(rng);
    for (int u = 0; u < units; ++u)
      k.scale[u] = u == 0 ? (q4 ? 63 : -128) : sc(rng);
    for (int u = 0; u < 8; ++u)
      k.min[u] = q4 ? (u == 0 ? 63 : std::uniform_int_distribution<int>(0, 63)(rng)) : 0;
    k.d = floatToF16(scale(rng));
    k.dmin = q4 ? floatToF16(scale(rng)) : 0;
    if (q4)
      encodeQ4K(k, w.data() + i * bytes);
    else
      encodeQ6K(k, w.data() + i * bytes);
  }
  Call call;
  call.run(c, format, w, blocks * bytes, 256, rng, [&](int row, int sr,
                                                       float got) {
    double exact = 0, size = 0;
    for (int b = 0; b < blocks; ++b) {
      const KBlock &k = kb[size_t(row) * blocks + b];
      const int8_t *ab = call.a.data() + size_t(sr) * c.k + b * 256;
      long dot = 0, mins = 0;
      for (int u = 0; u < units; ++u) {
        long du = 0, su = 0;
        for (int i = 0; i < unit; ++i) {
          du += long(k.v[u * unit + i] - (q4 ? 0 : 32)) * ab[u * unit + i];
          su += ab[u * unit + i];
        }
        dot += k.scale[u] * du;
        if (q4)
          mins += k.min[u] * su;
      }
      double dA = call.da[size_t(sr) * blocks + b];
      double t1 = double(f16ToFloat(k.d)) * dA * double(dot),
             t2 = double(f16ToFloat(k.dmin)) * dA * double(mins);
      exact += t1 - t2;
      size += std::fabs(t1) + std::fabs(t2);
    }
    // Each block's two terms are rounded twice each (the scales' product,
    // then times the exact integer sum) and added to the f32 sum: at most
    // 3 half-ulps per block, plus 2, of the magnitudes.
    ASSERT_NEAR(got, exact, (3 * blocks + 2) * 0x1p-24 * size + 1e-30)
        << "row " << row << " s " << sr;
  });
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, QuantGemmK,
    ::testing::Combine(
        ::testing::Values(Case{256, 16, 8, 0, 16, 0, 0},
                          Case{512, 40, 37, 0, 40, 0, 0},   // partial tiles
                          Case{768, 96, 50, 16, 64, 0, 3},  // a window
                          Case{256, 0, 33, 8, 24, 48, 1}),  // GLU halves
        ::testing::Values(int(tfm_gemm_weight_q4_K), int(tfm_gemm_weight_q6_K)),
        ::testing::Values(Int8GemmIsa::amx, Int8GemmIsa::avx512vnni,
                          Int8GemmIsa::avx2)));

TEST(QuantGemmBounds, AnswersTheRowsActivationsAndScalesNeeded) {
  halide_dimension_t wd[2] = {}, ad[2] = {}, sd[2] = {},
                     od[3] = {{32, 16, 1, 0}, {0, 2, 16, 0}, {5, 7, 32, 0}};
  halide_buffer_t weight = {}, act = {}, scales = {}, out = {};
  weight.dimensions = act.dimensions = scales.dimensions = 2;
  weight.dim = wd;
  act.dim = ad;
  scales.dim = sd;
  out.dimensions = 3;
  out.dim = od;
  ASSERT_EQ(tfm_gemm_q8_0(&weight, &act, &scales, tfm_gemm_weight_q4_0, 64,
                          100, &out),
            0);
  EXPECT_EQ(wd[0].min, 0);
  EXPECT_EQ(wd[0].extent, 36); // two blocks of 18 bytes
  EXPECT_EQ(wd[1].min, 32);
  EXPECT_EQ(wd[1].extent, 116); // rows 32..47 and 132..147
  EXPECT_EQ(ad[0].extent, 64);
  EXPECT_EQ(ad[1].min, 5);
  EXPECT_EQ(ad[1].extent, 7);
  EXPECT_EQ(sd[0].extent, 2);
  EXPECT_EQ(sd[1].min, 5);
  EXPECT_EQ(sd[1].extent, 7);
}

TEST(QuantGemmBounds, RefusesAnUnknownFormat) {
  halide_dimension_t dims[3] = {{0, 16, 1, 0}, {0, 1, 16, 0}, {0, 1, 16, 0}};
  halide_buffer_t weight = {}, act = {}, scales = {}, out = {};
  weight.dimensions = act.dimensions = scales.dimensions = 2;
  weight.dim = act.dim = scales.dim = dims;
  out.dimensions = 3;
  out.dim = dims;
  EXPECT_EQ(tfm_gemm_q8_0(&weight, &act, &scales, 7, 32, 0, &out), -1);
}

} // namespace
