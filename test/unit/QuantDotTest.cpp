//===- QuantDotTest.cpp - the hand-written decode products ------------===//
//
// Each path of the q4_0 and q8_0 micro-kernels (the one this CPU takes, the
// same one row at a time, and the AVX2 fallback) against the exact integer
// sums of the same blocks, scaled per block in f64; and the bounds query
// an extern stage answers.
//
//===----------------------------------------------------------------------===//

#include "runtime/Half.h"
#include "runtime/Quant.h"
#include "runtime/QuantDot.h"
#include "test/unit/BufferView.h"

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <random>
#include <vector>

using namespace tfm::rt;
using tfm::test::View;

namespace {

struct Case {
  int k, rows, pairStride;
};

/// The paths: the CPU's best (with 16 rows at a time where it gathers
/// fast), the same one row at a time, and the AVX2 fallback.
enum class Path { best, oneRow, avx2 };

class QuantDot : public ::testing::TestWithParam<std::tuple<Case, Path>> {
protected:
  void SetUp() override {
    Path path = std::get<1>(GetParam());
    forceDotFallback(path == Path::avx2);
    forceOneRowAtATime(path == Path::oneRow);
  }
  void TearDown() override {
    forceDotFallback(false);
    forceOneRowAtATime(false);
  }
};

/// A q4_0 or q8_0 format as the tests see it: its block's bytes, the
/// offset its VNNI layout adds (taken back from the activations' sums),
/// the micro-kernel, and element e of a block as a signed integer.
struct BlockFormat {
  DType type;
  int bytes, offset;
  int (*dot)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
             halide_buffer_t *, int32_t, int32_t, halide_buffer_t *);
  int (*element)(const uint8_t *block, int e);
};

/// The micro-kernel of `f` over case `c` (random weights quantized to the
/// format, with `extremes` written into the first block; random 8-bit
/// activations) against the exact integer sums of each block, scaled per
/// block in f64.
void expectExactSums(const Case &c, const BlockFormat &f, unsigned seed,
                     std::initializer_list<std::pair<int, uint8_t>> extremes) {
  int blocks = c.k / 32, rowBytes = blocks * f.bytes;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  std::uniform_int_distribution<int> q8(-127, 127);
  int total = c.pairStride ? 2 * c.pairStride : c.rows;
  std::vector<float> w(size_t(total) * c.k);
  for (float &x : w)
    x = real(rng);
  std::vector<uint8_t> bytes(size_t(total) * rowBytes);
  quantize(f.type, w.data(), int64_t(w.size()), bytes.data());
  for (auto [at, value] : extremes)
    bytes[size_t(at)] = value;
  std::vector<int8_t> act(c.k);
  std::vector<int32_t> sums(c.k / 4);
  std::vector<float> scale(blocks);
  for (int8_t &a : act)
    a = int8_t(q8(rng));
  act[0] = -127;
  act[1] = 127;
  for (int q = 0; q < c.k / 4; ++q)
    sums[q] = -f.offset *
              (act[4 * q] + act[4 * q + 1] + act[4 * q + 2] + act[4 * q + 3]);
  for (float &d : scale)
    d = std::ldexp(real(rng), -7);

  int js = c.pairStride ? 2 : 1;
  std::vector<float> out(size_t(c.rows) * js, NAN);
  View vw(bytes.data(), halide_type_t(halide_type_uint, 8),
          {{0, rowBytes}, {0, total}});
  View va(act.data(), halide_type_t(halide_type_int, 8), {{0, c.k}, {0, 1}});
  View vs(sums.data(), halide_type_t(halide_type_int, 32),
          {{0, c.k / 4}, {0, 1}});
  View vd(scale.data(), halide_type_t(halide_type_float, 32),
          {{0, blocks}, {0, 1}});
  View vo(out.data(), halide_type_t(halide_type_float, 32),
          {{0, c.rows}, {0, js}, {0, 1}});
  ASSERT_EQ(f.dot(&vw.buf, &va.buf, &vs.buf, &vd.buf, c.k, c.pairStride,
                  &vo.buf),
            0);
  for (int j = 0; j < js; ++j)
    for (int n = 0; n < c.rows; ++n) {
      const uint8_t *row =
          bytes.data() + size_t(n + j * c.pairStride) * rowBytes;
      double exact = 0, magnitude = 0;
      for (int b = 0; b < blocks; ++b) {
        const uint8_t *block = row + b * f.bytes;
        long sum = 0, size = 0;
        for (int e = 0; e < 32; ++e) {
          long product = long(f.element(block, e)) * act[b * 32 + e];
          sum += product;
          size += std::labs(product);
        }
        double s = double(f16ToFloat(uint16_t(block[0] | block[1] << 8))) *
                   scale[b];
        exact += double(sum) * s;
        magnitude += double(size) * std::abs(s);
      }
      // The integer sums of each block (or lane of 4 elements) are exact;
      // in f32 each is scaled (two roundings) and added to an accumulator
      // once per block, and at most 16 lanes are added up: each rounding
      // at most half an ulp of a partial sum no larger than `magnitude`.
      EXPECT_NEAR(out[size_t(j) * c.rows + n], exact,
                  magnitude * (3 * blocks + 16) * 6e-8)
          << "row " << n << " half " << j;
    }
}

TEST_P(QuantDot, Q4_0MatchesExactSums) {
  const Case &c = std::get<0>(GetParam());
  BlockFormat q4{DType::Q4_0, 18, 8, tfm_dot_q4_0_q8_0,
                 [](const uint8_t *block, int e) {
                   return ((block[2 + e % 16] >> (4 * (e / 16))) & 15) - 8;
                 }};
  // Nibbles 0 and 15 (the format's -8 and 7).
  expectExactSums(c, q4, unsigned(c.k * 31 + c.rows), {{2, 0xF0}});
}

TEST_P(QuantDot, Q8_0MatchesExactSums) {
  const Case &c = std::get<0>(GetParam());
  BlockFormat q8{DType::Q8_0, 34, 128, tfm_dot_q8_0_q8_0,
                 [](const uint8_t *block, int e) {
                   return int(int8_t(block[2 + e]));
                 }};
  // The integers' extremes, where the +128 layout and the signed AVX2
  // products meet their limits.
  expectExactSums(c, q8, unsigned(c.k * 37 + c.rows),
                  {{2, 0x80}, {3, 0x7F}});
}

std::string caseName(const ::testing::TestParamInfo<std::tuple<Case, Path>> &info) {
  const Case &c = std::get<0>(info.param);
  return "k" + std::to_string(c.k) + "_rows" + std::to_string(c.rows) +
         (c.pairStride ? "_paired" : "") +
         (std::get<1>(info.param) == Path::avx2     ? "_avx2"
          : std::get<1>(info.param) == Path::oneRow ? "_one_row"
                                                    : "_best");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, QuantDot,
    ::testing::Combine(::testing::Values(Case{32, 5, 0}, Case{64, 7, 0},
                                         Case{96, 3, 0}, Case{192, 5, 0},
                                         Case{512, 17, 0},
                                         Case{544, 4, 0}, Case{256, 6, 6},
                                         // q4_0's 16-row groups, a rest
                                         Case{96, 40, 0}, Case{128, 16, 16},
                                         Case{64, 33, 40}),
                       ::testing::Values(Path::best, Path::oneRow,
                                         Path::avx2)),
    caseName);

TEST(QuantDotQuery, RequestsTheRowsAndActivationsItReads) {
  halide_dimension_t wd[2] = {}, ad[2] = {}, sd[2] = {}, dd[2] = {};
  halide_buffer_t w = {}, a = {}, s = {}, d = {};
  for (auto [b, dims] : {std::pair{&w, wd}, {&a, ad}, {&s, sd}, {&d, dd}}) {
    b->dimensions = 2;
    b->dim = dims;
  }
  float dummy;
  halide_dimension_t od[3] = {{10, 4, 1, 0}, {0, 2, 4, 0}, {3, 1, 8, 0}};
  halide_buffer_t out = {};
  out.host = reinterpret_cast<uint8_t *>(&dummy);
  out.dimensions = 3;
  out.dim = od;
  ASSERT_EQ(tfm_dot_q4_0_q8_0(&w, &a, &s, &d, 256, 100, &out), 0);
  EXPECT_EQ(wd[0].min, 0);
  EXPECT_EQ(wd[0].extent, 8 * 18);
  EXPECT_EQ(wd[1].min, 10); // rows 10-13 and 110-113
  EXPECT_EQ(wd[1].extent, 104);
  EXPECT_EQ(ad[0].extent, 256);
  EXPECT_EQ(sd[0].extent, 64);
  EXPECT_EQ(dd[0].extent, 8);
  for (halide_dimension_t *dims : {ad, sd, dd}) {
    EXPECT_EQ(dims[1].min, 3);
    EXPECT_EQ(dims[1].extent, 1);
  }
}

} // namespace
