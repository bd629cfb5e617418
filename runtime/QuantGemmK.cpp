//===- QuantGemmK.cpp - prefill products over q4_K and q6_K ------*- C++ -*-===//
//
// tfm_gemm_q8_0's path for the K-quants (QuantGemm.h): q4_K or q6_K
// weights and activations rounded to q8_K, in integers as the decode
// micro-kernels (QuantDot.cpp) and llama.cpp compute them. A block of 256
// is cut in units that share a scale (q4_K: 8 of 32, each with a minimum
// too; q6_K: 16 of 16); each unit's integer sum, times its scale, is added
// up in integers over the block, which is then scaled by the weight's d
// and the activations' scale in f32 (and, for q4_K, Σ_j min_j·Σa over unit
// j, times dmin, taken off).
//
// A packed panel holds, per group of 16 outputs and block of 256, 64 steps
// of 64 bytes (step t: k 4t..4t+3 of the 16 outputs, each output's four
// bytes side by side, as vpdpbusd reads them) of unsigned integers (q4_K's
// 0-15; q6_K's 0-63, which stand for q - 32: each unit's sum starts from
// -32·Σa), then the units' scales as 16 int32 each, q4_K's minimums
// likewise, and d (and dmin) as 16 f32. The panel's groups are packed once
// per call and every activation row passes through them, 8 rows at a time.
//
//===----------------------------------------------------------------------===//

#include "runtime/ExternBuffers.h"
#include "runtime/Half.h"
#include "runtime/QuantGemm.h"

// GCC 12's AVX-512 intrinsics start some results from an undefined
// vector, which -Wall reports as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tfm::rt {
namespace {

#define TFM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TFM_VNNI                                                               \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

constexpr int kBlock = 256;    // k per block
constexpr int kGroup = 16;     // outputs per group
constexpr int kSteps = 64;     // 4-byte steps per block
constexpr int kStepBytes = 64; // one step of a group
constexpr int kTileRows = 8;   // activation rows per tile (VNNI)
constexpr int kTileRowsAvx2 = 4;

/// What differs between the two formats.
struct Q4K {
  static constexpr int kBytes = 144, kUnits = 8, kOffset = 0;
  static constexpr bool kMins = true;
};
struct Q6K {
  static constexpr int kBytes = 210, kUnits = 16, kOffset = 32;
  static constexpr bool kMins = false;
};

/// The packed block of one group: its parts' offsets and size.
template <typename F> struct Packed {
  static constexpr int kUnitSteps = kSteps / F::kUnits;
  static constexpr int kScales = kSteps * kStepBytes;
  static constexpr int kMinsAt = kScales + F::kUnits * kGroup * 4;
  static constexpr int kDAt = kMinsAt + (F::kMins ? 8 * kGroup * 4 : 0);
  static constexpr int kDminAt = kDAt + kGroup * 4;
  static constexpr int kBytes = kDAt + (F::kMins ? 2 : 1) * kGroup * 4;
};

uint32_t load32(const void *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

float halfAt(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16ToFloat(h);
}

/// One row's block as the panel holds it: the 256 unsigned integers in
/// order of k, the units' scales (and minimums), d (and dmin).
struct Decoded {
  uint8_t v[kBlock];
  int32_t scale[16], min[8];
  float d, dmin;
};

void decode(Q4K, const uint8_t *block, Decoded &out) {
  out.d = halfAt(block);
  out.dmin = halfAt(block + 2);
  const uint8_t *s = block + 4, *qs = block + 16;
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      out.scale[j] = s[j] & 63;
      out.min[j] = s[j + 4] & 63;
    } else {
      out.scale[j] = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
      out.min[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
  }
  // Each 32 bytes: elements 64c.. in their low nibbles, 64c + 32.. high.
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      out.v[64 * c + l] = qs[32 * c + l] & 15;
      out.v[64 * c + 32 + l] = qs[32 * c + l] >> 4;
    }
}

void decode(Q6K, const uint8_t *block, Decoded &out) {
  const uint8_t *ql = block, *qh = block + 128;
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      uint8_t *v = out.v + 128 * h + l;
      uint8_t lo0 = ql[64 * h + l], lo1 = ql[64 * h + 32 + l],
              hi = qh[32 * h + l];
      v[0] = (lo0 & 15) | ((hi & 3) << 4);
      v[32] = (lo1 & 15) | (((hi >> 2) & 3) << 4);
      v[64] = (lo0 >> 4) | (((hi >> 4) & 3) << 4);
      v[96] = (lo1 >> 4) | (((hi >> 6) & 3) << 4);
    }
  for (int u = 0; u < 16; ++u)
    out.scale[u] = int8_t(block[192 + u]);
  out.d = halfAt(block + 208);
  out.dmin = 0.f;
}

/// Packs outputs [16g, 16g + 16) of `count` weight rows (row n at `first`
/// + n·`stride` bytes) into group g of the panel, one output at a time;
/// outputs past `count` get zeros.
template <typename F>
void packGroup(const uint8_t *first, int64_t stride, int count, int blocks,
               int g, uint8_t *dst) {
  using P = Packed<F>;
  for (int b = 0; b < blocks; ++b) {
    uint8_t *packed = dst + (int64_t(g) * blocks + b) * P::kBytes;
    auto *scales = reinterpret_cast<int32_t *>(packed + P::kScales);
    auto *mins = reinterpret_cast<int32_t *>(packed + P::kMinsAt);
    auto *d = reinterpret_cast<float *>(packed + P::kDAt);
    auto *dmin = reinterpret_cast<float *>(packed + P::kDminAt);
    for (int i = 0; i < kGroup; ++i) {
      int n = g * kGroup + i;
      Decoded row{};
      if (n < count)
        decode(F{}, first + n * stride + int64_t(b) * F::kBytes, row);
      for (int t = 0; t < kSteps; ++t)
        std::memcpy(packed + t * kStepBytes + 4 * i, row.v + 4 * t, 4);
      for (int u = 0; u < F::kUnits; ++u)
        scales[u * kGroup + i] = row.scale[u];
      d[i] = row.d;
      if constexpr (F::kMins) {
        for (int u = 0; u < 8; ++u)
          mins[u * kGroup + i] = row.min[u];
        dmin[i] = row.dmin;
      }
    }
  }
}

/// Byte `i` of each 32-bit lane, as an integer.
TFM_VNNI inline __m512i byteOf(__m512i w, int i) {
  return _mm512_and_si512(_mm512_srli_epi32(w, 8 * i), _mm512_set1_epi32(255));
}

/// The same for a whole group by 512-bit gathers, each gathering one
/// 4-byte word of the 16 rows' blocks.
TFM_VNNI void packGroupVnni(Q4K, const uint8_t *first, int64_t stride,
                            int blocks, int g, uint8_t *dst) {
  using P = Packed<Q4K>;
  const __m512i rows = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(int32_t(stride)));
  const __m512i low = _mm512_set1_epi8(15), low6 = _mm512_set1_epi32(63);
  const uint8_t *base = first + int64_t(g) * kGroup * stride;
  for (int b = 0; b < blocks; ++b) {
    uint8_t *packed = dst + (int64_t(g) * blocks + b) * P::kBytes;
    const uint8_t *block = base + int64_t(b) * Q4K::kBytes;
    for (int c = 0; c < 4; ++c)
      for (int t = 0; t < 8; ++t) {
        __m512i v = _mm512_i32gather_epi32(rows, block + 16 + 32 * c + 4 * t, 1);
        _mm512_store_si512(packed + (16 * c + t) * kStepBytes,
                           _mm512_and_si512(v, low));
        _mm512_store_si512(packed + (16 * c + 8 + t) * kStepBytes,
                           _mm512_and_si512(_mm512_srli_epi32(v, 4), low));
      }
    __m512i s0 = _mm512_i32gather_epi32(rows, block + 4, 1),
            s1 = _mm512_i32gather_epi32(rows, block + 8, 1),
            s2 = _mm512_i32gather_epi32(rows, block + 12, 1);
    auto *scales = packed + P::kScales;
    auto *mins = packed + P::kMinsAt;
    for (int j = 0; j < 4; ++j) {
      __m512i b0 = byteOf(s0, j), b1 = byteOf(s1, j), b2 = byteOf(s2, j);
      _mm512_store_si512(scales + 64 * j, _mm512_and_si512(b0, low6));
      _mm512_store_si512(mins + 64 * j, _mm512_and_si512(b1, low6));
      _mm512_store_si512(
          scales + 64 * (j + 4),
          _mm512_or_si512(_mm512_and_si512(b2, _mm512_set1_epi32(15)),
                          _mm512_slli_epi32(_mm512_srli_epi32(b0, 6), 4)));
      _mm512_store_si512(
          mins + 64 * (j + 4),
          _mm512_or_si512(_mm512_srli_epi32(b2, 4),
                          _mm512_slli_epi32(_mm512_srli_epi32(b1, 6), 4)));
    }
    // Each word: d in its low half, dmin in its high half.
    __m512i dd = _mm512_i32gather_epi32(rows, block, 1);
    _mm512_store_ps(packed + P::kDAt,
                    _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dd)));
    _mm512_store_ps(packed + P::kDminAt,
                    _mm512_cvtph_ps(_mm512_cvtepi32_epi16(
                        _mm512_srli_epi32(dd, 16))));
  }
}

/// Bits 4-5 of q6_K's integers from bit pair `pair` of each high-bit byte.
TFM_VNNI inline __m512i high(__m512i hi, int pair) {
  return _mm512_slli_epi32(
      _mm512_and_si512(_mm512_srli_epi32(hi, 2 * pair), _mm512_set1_epi8(3)),
      4);
}

TFM_VNNI void packGroupVnni(Q6K, const uint8_t *first, int64_t stride,
                            int blocks, int g, uint8_t *dst) {
  using P = Packed<Q6K>;
  const __m512i rows = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(int32_t(stride)));
  const __m512i low = _mm512_set1_epi8(15);
  const uint8_t *base = first + int64_t(g) * kGroup * stride;
  for (int b = 0; b < blocks; ++b) {
    uint8_t *packed = dst + (int64_t(g) * blocks + b) * P::kBytes;
    const uint8_t *block = base + int64_t(b) * Q6K::kBytes;
    for (int h = 0; h < 2; ++h)
      for (int t = 0; t < 8; ++t) {
        __m512i lo0 = _mm512_i32gather_epi32(rows, block + 64 * h + 4 * t, 1),
                lo1 = _mm512_i32gather_epi32(rows, block + 64 * h + 32 + 4 * t,
                                             1),
                hi = _mm512_i32gather_epi32(rows, block + 128 + 32 * h + 4 * t,
                                            1);
        uint8_t *step = packed + (32 * h + t) * kStepBytes;
        _mm512_store_si512(step, _mm512_or_si512(_mm512_and_si512(lo0, low),
                                                 high(hi, 0)));
        _mm512_store_si512(step + 8 * kStepBytes,
                           _mm512_or_si512(_mm512_and_si512(lo1, low),
                                           high(hi, 1)));
        _mm512_store_si512(
            step + 16 * kStepBytes,
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(lo0, 4), low),
                            high(hi, 2)));
        _mm512_store_si512(
            step + 24 * kStepBytes,
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(lo1, 4), low),
                            high(hi, 3)));
      }
    // The 16 signed scales, four to a word, sign-extended.
    for (int w = 0; w < 4; ++w) {
      __m512i s = _mm512_i32gather_epi32(rows, block + 192 + 4 * w, 1);
      for (int i = 0; i < 4; ++i)
        _mm512_store_si512(packed + P::kScales + 64 * (4 * w + i),
                           _mm512_srai_epi32(_mm512_slli_epi32(s, 24 - 8 * i),
                                             24));
    }
    // d is the block's last two bytes: the high half of the word at 206
    // (a word at 208 would read past the block).
    __m512i dd = _mm512_i32gather_epi32(rows, block + 206, 1);
    _mm512_store_ps(packed + P::kDAt, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(
                                          _mm512_srli_epi32(dd, 16))));
  }
}

/// The activation rows of one tile: their integers, the sums of their
/// integers over each unit, and their blocks' scales.
struct Tile {
  const int8_t *a[kTileRows];
  const int32_t *sums[kTileRows];
  const float *scale[kTileRows];
};

/// R activation rows by one group of 16 outputs on 512-bit vectors:
/// result[r][i] = output i for row r.
template <typename F, int R>
TFM_VNNI void tileVnni(const uint8_t *group, int blocks, const Tile &x,
                       float (*result)[kGroup]) {
  using P = Packed<F>;
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    acc[r] = _mm512_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *packed = group + int64_t(b) * P::kBytes;
    __m512i total[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      total[r] = _mm512_setzero_si512();
    for (int u = 0; u < F::kUnits; ++u) {
      __m512i sum[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        sum[r] = F::kOffset
                     ? _mm512_set1_epi32(-F::kOffset *
                                         x.sums[r][b * F::kUnits + u])
                     : _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int t = 0; t < P::kUnitSteps; ++t) {
        int step = u * P::kUnitSteps + t;
        __m512i w = _mm512_load_si512(packed + step * kStepBytes);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
          sum[r] = _mm512_dpbusd_epi32(
              sum[r], w,
              _mm512_set1_epi32(int(load32(x.a[r] + b * kBlock + 4 * step))));
      }
      __m512i scale = _mm512_load_si512(packed + P::kScales + 64 * u);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        total[r] = _mm512_add_epi32(total[r], _mm512_mullo_epi32(sum[r], scale));
    }
    __m512 d = _mm512_load_ps(packed + P::kDAt);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total[r]),
                               _mm512_mul_ps(d, _mm512_set1_ps(x.scale[r][b])),
                               acc[r]);
    if constexpr (F::kMins) {
      __m512 dmin = _mm512_load_ps(packed + P::kDminAt);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        __m512i mins = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int u = 0; u < 8; ++u)
          mins = _mm512_add_epi32(
              mins, _mm512_mullo_epi32(
                        _mm512_load_si512(packed + P::kMinsAt + 64 * u),
                        _mm512_set1_epi32(x.sums[r][b * 8 + u])));
        acc[r] = _mm512_fnmadd_ps(
            _mm512_cvtepi32_ps(mins),
            _mm512_mul_ps(dmin, _mm512_set1_ps(x.scale[r][b])), acc[r]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    _mm512_storeu_ps(result[r], acc[r]);
}

TFM_AVX2 inline __m256i load256(const uint8_t *p) {
  return _mm256_load_si256(reinterpret_cast<const __m256i *>(p));
}

/// The same on 256-bit vectors, one half of the group (8 outputs) at a
/// time: pmaddubsw's pairs (at most 2·63·128, no saturation) widened by
/// pmaddwd at every step.
template <typename F, int R>
TFM_AVX2 void tileAvx2(const uint8_t *group, int blocks, const Tile &x,
                       float (*result)[kGroup]) {
  using P = Packed<F>;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int half = 0; half < 2; ++half) {
    __m256 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < blocks; ++b) {
      const uint8_t *packed = group + int64_t(b) * P::kBytes + 32 * half;
      __m256i total[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        total[r] = _mm256_setzero_si256();
      for (int u = 0; u < F::kUnits; ++u) {
        __m256i sum[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
          sum[r] = _mm256_set1_epi32(-F::kOffset *
                                     x.sums[r][b * F::kUnits + u]);
#pragma GCC unroll 8
        for (int t = 0; t < P::kUnitSteps; ++t) {
          int step = u * P::kUnitSteps + t;
          __m256i w = load256(packed + step * kStepBytes);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r)
            sum[r] = _mm256_add_epi32(
                sum[r],
                _mm256_madd_epi16(
                    _mm256_maddubs_epi16(
                        w, _mm256_set1_epi32(int(
                               load32(x.a[r] + b * kBlock + 4 * step)))),
                    ones));
        }
        __m256i scale = load256(packed + P::kScales + 64 * u);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
          total[r] =
              _mm256_add_epi32(total[r], _mm256_mullo_epi32(sum[r], scale));
      }
      __m256 d = _mm256_castsi256_ps(load256(packed + P::kDAt));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc[r] = _mm256_fmadd_ps(
            _mm256_cvtepi32_ps(total[r]),
            _mm256_mul_ps(d, _mm256_set1_ps(x.scale[r][b])), acc[r]);
      if constexpr (F::kMins) {
        __m256 dmin = _mm256_castsi256_ps(load256(packed + P::kDminAt));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          __m256i mins = _mm256_setzero_si256();
          for (int u = 0; u < 8; ++u)
            mins = _mm256_add_epi32(
                mins, _mm256_mullo_epi32(
                          load256(packed + P::kMinsAt + 64 * u),
                          _mm256_set1_epi32(x.sums[r][b * 8 + u])));
          acc[r] = _mm256_fnmadd_ps(
              _mm256_cvtepi32_ps(mins),
              _mm256_mul_ps(dmin, _mm256_set1_ps(x.scale[r][b])), acc[r]);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      _mm256_storeu_ps(result[r] + 8 * half, acc[r]);
  }
}

using TileFn = void (*)(const uint8_t *, int, const Tile &, float (*)[kGroup]);

template <typename F> struct Tiles {
  static constexpr TileFn kVnni[kTileRows] = {
      tileVnni<F, 1>, tileVnni<F, 2>, tileVnni<F, 3>, tileVnni<F, 4>,
      tileVnni<F, 5>, tileVnni<F, 6>, tileVnni<F, 7>, tileVnni<F, 8>};
  static constexpr TileFn kAvx2[kTileRowsAvx2] = {
      tileAvx2<F, 1>, tileAvx2<F, 2>, tileAvx2<F, 3>, tileAvx2<F, 4>};
};

template <typename F>
int gemm(halide_buffer_t *weight, halide_buffer_t *act,
         halide_buffer_t *actScale, int32_t k, int32_t pairStride,
         halide_buffer_t *out) {
  using P = Packed<F>;
  const GemmWindow w(out);
  int32_t nMin = w.nMin, nExtent = w.nExtent, sMin = w.sMin,
          sExtent = w.sExtent;
  int32_t blocks = k / kBlock;
  // The K-quants take VNNI where the 8-bit tiles are (no AMX path yet).
  bool useVnni = int8GemmIsa() != Int8GemmIsa::avx2;
  // Each activation row's sums over each unit.
  constexpr int unit = kBlock / F::kUnits;
  int units = blocks * F::kUnits;
  thread_local std::vector<int32_t> sums;
  sums.resize(size_t(sExtent) * size_t(units));
  for (int32_t s = 0; s < sExtent; ++s) {
    const int8_t *a = rowOf<int8_t>(act, sMin + s);
    for (int u = 0; u < units; ++u) {
      int32_t sum = 0;
      for (int i = 0; i < unit; ++i)
        sum += a[u * unit + i];
      sums[size_t(s) * units + u] = sum;
    }
  }
  int groups = (nExtent + kGroup - 1) / kGroup;
  thread_local std::vector<uint8_t> storage;
  storage.resize(size_t(groups) * size_t(blocks) * P::kBytes + 63);
  uint8_t *panel = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t(63));
  int tileRows = useVnni ? kTileRows : kTileRowsAvx2;
  const TileFn *tiles = useVnni ? Tiles<F>::kVnni : Tiles<F>::kAvx2;
  alignas(64) float result[kTileRows][kGroup];
  for (int32_t j = w.jMin; j <= w.jMax; ++j) {
    const uint8_t *first = rowOf<uint8_t>(weight, nMin + j * pairStride);
    int64_t stride = weight->dim[1].stride;
    // The gathers' offsets (16 rows' strides) are 32-bit.
    bool gather = useVnni && stride <= INT32_MAX / kGroup;
    for (int g = 0; g < groups; ++g)
      if (gather && (g + 1) * kGroup <= nExtent)
        packGroupVnni(F{}, first, stride, blocks, g, panel);
      else
        packGroup<F>(first, stride, nExtent, blocks, g, panel);
    for (int g = 0; g < groups; ++g) {
      const uint8_t *group = panel + int64_t(g) * blocks * P::kBytes;
      int cols = std::min(kGroup, nExtent - g * kGroup);
      for (int32_t s0 = 0; s0 < sExtent; s0 += tileRows) {
        int count = std::min(tileRows, sExtent - s0);
        Tile x;
        for (int r = 0; r < count; ++r) {
          x.a[r] = rowOf<int8_t>(act, sMin + s0 + r);
          x.sums[r] = sums.data() + size_t(s0 + r) * units;
          x.scale[r] = rowOf<float>(actScale, sMin + s0 + r);
        }
        tiles[count - 1](group, blocks, x, result);
        for (int r = 0; r < count; ++r)
          w.store(out, g * kGroup, j, s0 + r, result[r], cols);
      }
    }
  }
  return 0;
}

} // namespace

int gemmKQuants(halide_buffer_t *weight, halide_buffer_t *act,
                halide_buffer_t *actScale, int32_t format, int32_t k,
                int32_t pairStride, halide_buffer_t *out) {
  if (format == tfm_gemm_weight_q4_K)
    return gemm<Q4K>(weight, act, actScale, k, pairStride, out);
  if (format == tfm_gemm_weight_q6_K)
    return gemm<Q6K>(weight, act, actScale, k, pairStride, out);
  return -1;
}

} // namespace tfm::rt
