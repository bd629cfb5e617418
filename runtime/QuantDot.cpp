//===- QuantDot.cpp - hand-written integer products for decode ---*- C++ -*-===//
//
// The q4_0 row product of QuantDot.h. Each 32-weight block is 16 bytes of
// nibbles (element j in byte j's low half, element j + 16 in its high half)
// after its f16 scale; the nibbles are multiplied as they are (0-15) by
// the signed activations and added to -8·Σa over each 4 activations
// (computed once per call, the same for every row): the exact integer
// Σ(q - 8)·a of each 4 elements, in 32-bit lanes.
//
//===----------------------------------------------------------------------===//

#include "runtime/QuantDot.h"

// GCC 12's AVX-512 intrinsics start some results from an undefined
// vector, which -Wall reports as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace tfm::rt {
namespace {

constexpr int kBlock = 32, kBlockBytes = 18;

#define TFM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TFM_VNNI                                                               \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

TFM_AVX2 inline float halfToFloat(const uint8_t *p) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  return _cvtsh_ss(bits);
}

TFM_AVX2 inline float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// A block's Σ(q - 8)·a in 8 lanes of 4 elements each: pmaddubsw sums
/// the nibble-byte products in pairs (at most 2·15·128 in magnitude, so it
/// never saturates), pmaddwd by ones sums the pairs, and the lanes' -8·Σa
/// is added.
TFM_AVX2 inline __m256i blockAvx2(const uint8_t *qs, const int8_t *a,
                                  const int32_t *sums) {
  __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i *>(qs));
  __m256i nibbles = _mm256_and_si256(
      _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4),
                              1),
      _mm256_set1_epi8(0x0F));
  __m256i pairs = _mm256_maddubs_epi16(
      nibbles, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a)));
  __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  return _mm256_add_epi32(
      quads, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(sums)));
}

TFM_AVX2 float rowAvx2(const uint8_t *w, const int8_t *a, const int32_t *sums,
                       const float *scale, int blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *block = w + b * kBlockBytes;
    __m256i d = blockAvx2(block + 2, a + b * kBlock, sums + b * 8);
    float s = halfToFloat(block) * scale[b];
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), _mm256_set1_ps(s), acc);
  }
  return sum8(acc);
}

/// Blocks b and b + 1 on 512-bit vectors: the 128-bit lanes hold block b's
/// low nibbles, its high nibbles, then block b + 1's, matching the
/// activations' order; vpdpbusd adds four nibble-byte products per lane
/// to the lanes' -8·Σa.
TFM_VNNI inline __m512i pairVnni(const uint8_t *block, const int8_t *a,
                                 const int32_t *sums) {
  __m256i q0 = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 2)));
  __m256i q1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(
      reinterpret_cast<const __m128i *>(block + kBlockBytes + 2)));
  __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
  q = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFF00FF00u, q, 4),
                       _mm512_set1_epi8(0x0F));
  return _mm512_dpbusd_epi32(_mm512_loadu_si512(sums), q,
                             _mm512_loadu_si512(a));
}

/// The f16 scales of 4 blocks, widened.
TFM_VNNI inline __m128 scales4(const uint8_t *block) {
  uint16_t h[4];
  for (int i = 0; i < 4; ++i)
    std::memcpy(&h[i], block + i * kBlockBytes, 2);
  return _mm_cvtph_ps(_mm_setr_epi16(short(h[0]), short(h[1]), short(h[2]),
                                     short(h[3]), 0, 0, 0, 0));
}

/// Four blocks per step (two pairs, two accumulators), then a pair, then
/// the last block on 256-bit vectors. One row at a time: its blocks are
/// one stream, which the hardware prefetcher follows (four rows at once,
/// four streams, read slower from memory on the 2-core EPYC: 14-17 GB/s
/// against 19).
TFM_VNNI float rowVnni(const uint8_t *w, const int8_t *a, const int32_t *sums,
                       const float *scale, int blocks) {
  // Lanes 0-7 take one block's scale, 8-15 the next one's.
  const __m512i first =
      _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(2));
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int b = 0;
  for (; b + 4 <= blocks; b += 4) {
    const uint8_t *block = w + b * kBlockBytes;
    __m512 s = _mm512_castps128_ps512(
        _mm_mul_ps(scales4(block), _mm_loadu_ps(scale + b)));
    __m512i d0 = pairVnni(block, a + b * kBlock, sums + b * 8);
    __m512i d1 = pairVnni(block + 2 * kBlockBytes, a + (b + 2) * kBlock,
                          sums + (b + 2) * 8);
    acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d0),
                           _mm512_permutexvar_ps(first, s), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d1),
                           _mm512_permutexvar_ps(second, s), acc1);
  }
  if (b + 2 <= blocks) {
    const uint8_t *block = w + b * kBlockBytes;
    __m128 s2 = _mm_setr_ps(halfToFloat(block) * scale[b],
                            halfToFloat(block + kBlockBytes) * scale[b + 1],
                            0.f, 0.f);
    __m512i d = pairVnni(block, a + b * kBlock, sums + b * 8);
    acc0 = _mm512_fmadd_ps(
        _mm512_cvtepi32_ps(d),
        _mm512_permutexvar_ps(first, _mm512_castps128_ps512(s2)), acc0);
    b += 2;
  }
  float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < blocks)
    total += rowAvx2(w + b * kBlockBytes, a + b * kBlock, sums + b * 8,
                     scale + b, 1);
  return total;
}

using RowFn = float (*)(const uint8_t *, const int8_t *, const int32_t *,
                        const float *, int);

std::atomic<int> forced{0};

/// Whether this CPU runs the 512-bit VNNI path, unless TFM_DOT_ISA=avx2
/// asks for the fallback.
bool hasVnni() {
  if (const char *isa = std::getenv("TFM_DOT_ISA");
      isa && std::strcmp(isa, "avx2") == 0)
    return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
}

RowFn rowFunction() {
  return dotIsa() == DotIsa::avx512vnni ? rowVnni : rowAvx2;
}

/// Requests dimension `d` of a bounds query as [min, min + extent); a
/// buffer that is no query is left as it is.
void request(halide_buffer_t *b, int d, int32_t min, int32_t extent) {
  if (!b->is_bounds_query())
    return;
  b->dim[d].min = min;
  b->dim[d].extent = extent;
}

/// The address of element (0, y) of a 2-D input whose x is dense.
template <typename T> const T *rowOf(const halide_buffer_t *b, int32_t y) {
  return reinterpret_cast<const T *>(b->host) - b->dim[0].min +
         int64_t(y - b->dim[1].min) * b->dim[1].stride;
}

} // namespace

DotIsa dotIsa() {
  static const bool vnni = hasVnni();
  return vnni && !forced.load(std::memory_order_relaxed) ? DotIsa::avx512vnni
                                                          : DotIsa::avx2;
}

void forceDotFallback(bool fallback) {
  forced.store(fallback ? 1 : 0, std::memory_order_relaxed);
}

} // namespace tfm::rt

extern "C" int tfm_dot_q4_0_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                                 halide_buffer_t *actSums,
                                 halide_buffer_t *actScale, int32_t k,
                                 int32_t pairStride, halide_buffer_t *out) {
  using namespace tfm::rt;
  const halide_dimension_t *o = out->dim;
  int32_t nMin = o[0].min, nMax = o[0].min + o[0].extent - 1;
  int32_t jMin = o[1].min, jMax = o[1].min + o[1].extent - 1;
  int32_t sMin = o[2].min, sExtent = o[2].extent;
  int32_t blocks = k / kBlock;
  if (weight->is_bounds_query() || act->is_bounds_query() ||
      actSums->is_bounds_query() || actScale->is_bounds_query()) {
    int32_t first = nMin + jMin * pairStride, last = nMax + jMax * pairStride;
    request(weight, 0, 0, blocks * kBlockBytes);
    request(weight, 1, first, last - first + 1);
    request(act, 0, 0, k);
    request(actSums, 0, 0, k / 4);
    request(actScale, 0, 0, blocks);
    for (halide_buffer_t *b : {act, actSums, actScale})
      request(b, 1, sMin, sExtent);
    return 0;
  }
  for (const halide_buffer_t *b : {weight, act, actSums, actScale})
    if (b->dim[0].stride != 1)
      return -1;
  RowFn row = rowFunction();
  float *base = reinterpret_cast<float *>(out->host);
  for (int32_t s = sMin; s < sMin + sExtent; ++s) {
    const int8_t *a = rowOf<int8_t>(act, s);
    const int32_t *sums = rowOf<int32_t>(actSums, s);
    const float *scale = rowOf<float>(actScale, s);
    for (int32_t j = jMin; j <= jMax; ++j)
      for (int32_t n = nMin; n <= nMax; ++n)
        base[int64_t(n - nMin) * o[0].stride +
             int64_t(j - jMin) * o[1].stride +
             int64_t(s - sMin) * o[2].stride] =
            row(rowOf<uint8_t>(weight, n + j * pairStride), a, sums, scale,
                blocks);
  }
  return 0;
}
