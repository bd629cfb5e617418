//===- FloatGemm.cpp - prefill products over f16 weights in f32 ------------===//
//
// tfm_gemm_f32 (FloatGemm.h). A packed block holds, for each 32 outputs (a
// pair of groups of 16) and each k of the block, 32 f32 weights: one
// 128-byte line per k, which the kernels read as two vectors (AVX-512) or
// four (AVX2) while each activation row's k is broadcast.
//
//===----------------------------------------------------------------------===//

#include "runtime/FloatGemm.h"

#include "runtime/BfloatGemm.h"
#include "runtime/ExternBuffers.h"
#include "runtime/Half.h"
#include "runtime/Transpose16.h"

// GCC 12's AVX-512 intrinsics start some results from an undefined
// vector, which -Wall reports as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace tfm::rt {
namespace {

constexpr int kBlock = 256; // k per block
constexpr int kPair = 32;   // outputs per packed line
constexpr int kChunk = 16;  // k per transpose
constexpr int kRows = 8;    // activation rows per tile (AVX-512)
constexpr int kRowsAvx2 = 4;

#define TFM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TFM_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))

float weightAt(const uint8_t *row, int format, int64_t i) {
  if (format == tfm_gemm_weight_f16) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    return f16ToFloat(h);
  }
  float f;
  std::memcpy(&f, row + 4 * i, 4);
  return f;
}

/// Packs k [k0, k0 + kb) of outputs [32p, 32p + 32) of `rows` (`count`
/// of them; zeros past it) into `dst`: kb lines of 32 floats.
void packScalar(const uint8_t *const *rows, int count, int format, int p,
                int64_t k0, int kb, float *dst) {
  for (int i = 0; i < kPair; ++i) {
    int n = p * kPair + i;
    for (int kk = 0; kk < kb; ++kk)
      dst[kk * kPair + i] = n < count ? weightAt(rows[n], format, k0 + kk) : 0.f;
  }
}

/// The same, 16 outputs by 16 k at a time: each row's 16 k widened into
/// one vector, the 16 vectors transposed into 16 lines' halves.
TFM_AVX512 void packAvx512(const uint8_t *const *rows, int count, int format,
                           int p, int64_t k0, int kb, float *dst) {
  for (int half = 0; half < 2; ++half)
    for (int kc = 0; kc < kb; kc += kChunk) {
      __m512i r[16];
      for (int i = 0; i < 16; ++i) {
        int n = p * kPair + 16 * half + i;
        if (n >= count) {
          r[i] = _mm512_setzero_si512();
          continue;
        }
        int64_t at = k0 + kc;
        r[i] = _mm512_castps_si512(
            format == tfm_gemm_weight_f16
                ? _mm512_cvtph_ps(_mm256_loadu_si256(
                      reinterpret_cast<const __m256i *>(rows[n] + 2 * at)))
                : _mm512_loadu_ps(rows[n] + 4 * at));
      }
      transpose16(r);
      for (int e = 0; e < 16; ++e)
        _mm512_store_si512(dst + (kc + e) * kPair + 16 * half, r[e]);
    }
}

/// R activation rows (x[r] at the block's first k) by one packed pair of
/// the block: res[r·ld + i] += Σ_kk line(kk)[i]·x[r][kk].
template <int R>
TFM_AVX512 void tileAvx512(const float *lines, int kb, const float *const *x,
                           float *res, int64_t ld) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    c0[r] = c1[r] = _mm512_setzero_ps();
  for (int kk = 0; kk < kb; ++kk) {
    __m512 w0 = _mm512_load_ps(lines + kk * kPair),
           w1 = _mm512_load_ps(lines + kk * kPair + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m512 a = _mm512_set1_ps(x[r][kk]);
      c0[r] = _mm512_fmadd_ps(w0, a, c0[r]);
      c1[r] = _mm512_fmadd_ps(w1, a, c1[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float *o = res + r * ld;
    _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), c0[r]));
    _mm512_storeu_ps(o + 16, _mm512_add_ps(_mm512_loadu_ps(o + 16), c1[r]));
  }
}

/// The same on 256-bit vectors, 16 outputs of the pair at a time.
template <int R>
TFM_AVX2 void tileAvx2(const float *lines, int kb, const float *const *x,
                       float *res, int64_t ld) {
  for (int half = 0; half < 2; ++half) {
    __m256 c0[R], c1[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      c0[r] = c1[r] = _mm256_setzero_ps();
    const float *l = lines + 16 * half;
    for (int kk = 0; kk < kb; ++kk) {
      __m256 w0 = _mm256_load_ps(l + kk * kPair),
             w1 = _mm256_load_ps(l + kk * kPair + 8);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        __m256 a = _mm256_broadcast_ss(x[r] + kk);
        c0[r] = _mm256_fmadd_ps(w0, a, c0[r]);
        c1[r] = _mm256_fmadd_ps(w1, a, c1[r]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      float *o = res + r * ld + 16 * half;
      _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), c0[r]));
      _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), c1[r]));
    }
  }
}

using TileFn = void (*)(const float *, int, const float *const *, float *,
                        int64_t);
constexpr TileFn kAvx512Tiles[kRows] = {
    tileAvx512<1>, tileAvx512<2>, tileAvx512<3>, tileAvx512<4>,
    tileAvx512<5>, tileAvx512<6>, tileAvx512<7>, tileAvx512<8>};
constexpr TileFn kAvx2Tiles[kRowsAvx2] = {tileAvx2<1>, tileAvx2<2>,
                                          tileAvx2<3>, tileAvx2<4>};

} // namespace
} // namespace tfm::rt

extern "C" int tfm_gemm_f32(halide_buffer_t *weight, halide_buffer_t *act,
                            int32_t format, int32_t k, int32_t pairStride,
                            halide_buffer_t *out) {
  using namespace tfm::rt;
  const GemmWindow w(out);
  int32_t nMin = w.nMin, nExtent = w.nExtent, sMin = w.sMin,
          sExtent = w.sExtent;
  if (weight->is_bounds_query() || act->is_bounds_query()) {
    w.request(weight, k, act, k, pairStride);
    return 0;
  }
  if (k % kChunk != 0 || weight->dim[0].stride != 1 ||
      act->dim[0].stride != 1 ||
      (format != tfm_gemm_weight_f16 && format != tfm_gemm_weight_f32))
    return -1;
  bool avx512 = gemmIsa() != GemmIsa::avx2;
  int tileRows = avx512 ? kRows : kRowsAvx2;
  const TileFn *tiles = avx512 ? kAvx512Tiles : kAvx2Tiles;
  int pairs = (nExtent + kPair - 1) / kPair;
  int64_t ld = int64_t(pairs) * kPair;
  thread_local std::vector<const uint8_t *> rows;
  thread_local std::vector<float> totals, storage;
  rows.resize(size_t(nExtent));
  totals.resize(size_t(sExtent) * size_t(ld));
  // One block of the panel, 64-byte aligned for the vector loads.
  storage.resize(size_t(pairs) * kBlock * kPair + 16);
  float *panel = reinterpret_cast<float *>(
      (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t(63));
  for (int32_t j = w.jMin; j <= w.jMax; ++j) {
    for (int32_t n = 0; n < nExtent; ++n)
      rows[n] = rowOf<uint8_t>(weight, nMin + n + j * pairStride);
    std::fill(totals.begin(), totals.end(), 0.f);
    for (int64_t k0 = 0; k0 < k; k0 += kBlock) {
      int kb = int(std::min<int64_t>(kBlock, k - k0));
      for (int p = 0; p < pairs; ++p) {
        float *lines = panel + int64_t(p) * kBlock * kPair;
        if (avx512)
          packAvx512(rows.data(), nExtent, format, p, k0, kb, lines);
        else
          packScalar(rows.data(), nExtent, format, p, k0, kb, lines);
      }
      for (int p = 0; p < pairs; ++p) {
        const float *lines = panel + int64_t(p) * kBlock * kPair;
        for (int32_t s0 = 0; s0 < sExtent; s0 += tileRows) {
          int count = std::min(tileRows, sExtent - s0);
          const float *x[kRows];
          for (int r = 0; r < count; ++r)
            x[r] = rowOf<float>(act, sMin + s0 + r) + k0;
          tiles[count - 1](lines, kb, x, totals.data() + s0 * ld + p * kPair,
                           ld);
        }
      }
    }
    for (int32_t s = 0; s < sExtent; ++s)
      w.store(out, 0, j, s, totals.data() + s * ld, nExtent);
  }
  return 0;
}
