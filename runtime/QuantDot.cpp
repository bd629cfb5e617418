//===- QuantDot.cpp - hand-written products for decode -----------*- C++ -*-===//
//
// The row products of QuantDot.h. q4_0: each 32-weight block is 16 bytes of
// nibbles (element j in byte j's low half, element j + 16 in its high half)
// after its f16 scale; the nibbles are multiplied as they are (0-15) by
// the signed activations and added to -8·Σa over each 4 activations
// (computed once per call, the same for every row): the exact integer
// Σ(q - 8)·a of each 4 elements, in 32-bit lanes.
//
//===----------------------------------------------------------------------===//

#include "runtime/QuantDot.h"

#include "runtime/ExternBuffers.h"

// GCC 12's AVX-512 intrinsics start some results from an undefined
// vector, which -Wall reports as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <utility>
#include <vector>

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

/// The f16 scales of 4 blocks, widened: the 16-bit words 0, 9, 18 and 27
/// of their first 64 bytes, picked by one permutation.
TFM_VNNI inline __m128 scales4(const uint8_t *block) {
  const __m512i pick =
      _mm512_castsi128_si512(_mm_setr_epi16(0, 9, 18, 27, 0, 0, 0, 0));
  return _mm_cvtph_ps(_mm512_castsi512_si128(
      _mm512_permutexvar_epi16(pick, _mm512_loadu_si512(block))));
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

//===----------------------------------------------------------------------===//
// q4_K: blocks of 256 (144 bytes): d and dmin (f16), 12 bytes of 6-bit
// scales and minimums of 8 sub-blocks of 32, and 128 bytes of nibbles (each
// 32 bytes: a sub-block's low nibbles, the next one's high ones). A block's
// product is d·Σ_j sc_j·Σ q·a - dmin·Σ_j m_j·Σ a over sub-block j, the
// activations' sums over each 32 given (`sums`).
//===----------------------------------------------------------------------===//

constexpr int kBlockK = 256, kBytesQ4K = 144, kBytesQ6K = 210;

/// Sub-block j's 6-bit scale and minimum of a q4_K block, as bytes: the
/// 8 scales, then the 8 minimums (ggml's get_scale_min_k4, on 32-bit
/// words). Scale j < 4 is the low 6 bits of byte j, minimum j < 4 those of
/// byte j + 4; for j ≥ 4 the low 4 bits come from byte j + 4's two halves
/// and the top 2 from the top bits of bytes j - 4 (scale) and j (minimum).
inline void scalesMinsQ4K(const uint8_t *packed, uint32_t out[4]) {
  constexpr uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  out[0] = w[0] & low6;
  out[1] = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);
  out[2] = w[1] & low6;
  out[3] = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4);
}

/// scalesMinsQ4K in one 128-bit register (the 12 packed bytes loaded with
/// the 4 after them, which are ignored): kept in registers, where the
/// scalar form's four stores read back as one vector would stall the load
/// behind them.
TFM_AVX2 inline __m128i scalesMinsQ4KVector(const uint8_t *packed) {
  __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i *>(packed));
  // Lanes [w0, w2, w1, w2 >> 4] and [w0, w0, w1, w1].
  __m128i a = _mm_srlv_epi32(_mm_shuffle_epi32(w, _MM_SHUFFLE(2, 1, 2, 0)),
                             _mm_setr_epi32(0, 0, 0, 4));
  __m128i b = _mm_shuffle_epi32(w, _MM_SHUFFLE(1, 1, 0, 0));
  __m128i even = _mm_and_si128(a, _mm_set1_epi8(0x3f));
  __m128i odd = _mm_or_si128(
      _mm_and_si128(a, _mm_set1_epi8(0x0f)),
      _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(b, 6), _mm_set1_epi8(3)),
                     4));
  return _mm_blend_epi32(even, odd, 0b1010);
}

TFM_AVX2 float rowQ4KAvx2(const uint8_t *w, const int8_t *a,
                          const int32_t *sums, const float *scale,
                          int blocks) {
  __m256 acc = _mm256_setzero_ps(), accMin = _mm256_setzero_ps();
  const __m256i low = _mm256_set1_epi8(0x0F);
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *block = w + b * kBytesQ4K;
    const int8_t *ab = a + b * kBlockK;
    uint32_t sm[4];
    scalesMinsQ4K(block + 4, sm);
    const uint8_t *sc = reinterpret_cast<const uint8_t *>(sm);
    __m256i isum = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      __m256i q = _mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(block + 16 + 32 * p));
      for (int half = 0; half < 2; ++half) {
        __m256i nibbles = _mm256_and_si256(
            half ? _mm256_srli_epi16(q, 4) : q, low);
        __m256i pairs = _mm256_maddubs_epi16(
            nibbles, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
                         ab + 64 * p + 32 * half)));
        isum = _mm256_add_epi32(
            isum, _mm256_madd_epi16(pairs, _mm256_set1_epi16(
                                               short(sc[2 * p + half]))));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum),
                          _mm256_set1_ps(halfToFloat(block) * scale[b]), acc);
    __m256i mins = _mm256_mullo_epi32(
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(
            reinterpret_cast<const __m128i *>(sc + 8))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(sums + b * 8)));
    accMin = _mm256_fmadd_ps(
        _mm256_cvtepi32_ps(mins),
        _mm256_set1_ps(halfToFloat(block + 2) * scale[b]), accMin);
  }
  return sum8(acc) - sum8(accMin);
}

/// Two sub-blocks per 512-bit vector (a 32-byte run of nibbles, low then
/// high): vpmaddubsw multiplies the nibbles by the activations in pairs
/// (at most 2·15·128 in magnitude: never saturates), and vpdpwssd
/// multiplies each pair by its sub-block's scale as it adds it to the
/// block's sum. The scales reach their words by one byte shuffle per pair
/// within 128-bit lanes that each hold all 8 of them.
TFM_VNNI float rowQ4KVnni(const uint8_t *w, const int8_t *a,
                          const int32_t *sums, const float *scale,
                          int blocks) {
  const __m512i low = _mm512_set1_epi8(0x0F);
  // Pair p: 16-bit words 0-15 take scale 2p, 16-31 scale 2p + 1 (bytes
  // 4p, 4p + 1 and 4p + 2, 4p + 3 of each lane's 8 words).
  __m512i spread[4];
  for (int p = 0; p < 4; ++p) {
    __m128i first = _mm_set1_epi16(short((4 * p) | (4 * p + 1) << 8));
    __m128i second = _mm_set1_epi16(short((4 * p + 2) | (4 * p + 3) << 8));
    spread[p] = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_broadcastsi128_si256(first)),
        _mm256_broadcastsi128_si256(second), 1);
  }
  __m512 acc = _mm512_setzero_ps();
  __m256 accMin = _mm256_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *block = w + b * kBytesQ4K;
    const int8_t *ab = a + b * kBlockK;
    // Bytes 0-7 the scales, 8-15 the minimums.
    __m128i scalesMins = scalesMinsQ4KVector(block + 4);
    __m512i scales16 =
        _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(scalesMins));
    __m512i isum0 = _mm512_setzero_si512(), isum1 = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(block + 16 + 32 * p)));
      q = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFFFF0000u, q, 4), low);
      __m512i pairs = _mm512_maddubs_epi16(q, _mm512_loadu_si512(ab + 64 * p));
      __m512i sc = _mm512_shuffle_epi8(scales16, spread[p]);
      if (p % 2)
        isum1 = _mm512_dpwssd_epi32(isum1, pairs, sc);
      else
        isum0 = _mm512_dpwssd_epi32(isum0, pairs, sc);
    }
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(isum0, isum1)),
                          _mm512_set1_ps(halfToFloat(block) * scale[b]), acc);
    __m256i mins = _mm256_mullo_epi32(
        _mm256_cvtepu8_epi32(_mm_srli_si128(scalesMins, 8)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(sums + b * 8)));
    accMin = _mm256_fmadd_ps(
        _mm256_cvtepi32_ps(mins),
        _mm256_set1_ps(halfToFloat(block + 2) * scale[b]), accMin);
  }
  return _mm512_reduce_add_ps(acc) - sum8(accMin);
}

//===----------------------------------------------------------------------===//
// q6_K: blocks of 256 (210 bytes): 128 bytes of low 4 bits, 64 of high 2
// bits, 16 signed 8-bit scales (one per 16 elements) and d (f16). Each half
// of 128 elements takes 64 low-bit bytes (their low nibbles: elements 0-63,
// high nibbles: 64-127) and 32 high-bit bytes (bit pairs 0-1, 2-3, 4-5, 6-7:
// elements 0-31, 32-63, 64-95, 96-127). The integers q (0-63) stand for
// q - 32; `sums` holds -32 times the activations' sums over each 4.
//===----------------------------------------------------------------------===//

/// The 64 integers (0-63) of elements 64c-64c+63 of half `h` as bytes:
/// chunk c = 0 or 1 of the half.
TFM_VNNI inline __m512i chunkQ6KVnni(const uint8_t *block, int h, int c) {
  __m512i lowBits = _mm512_loadu_si512(block + 64 * h);
  if (c)
    lowBits = _mm512_srli_epi16(lowBits, 4);
  __m512i high = _mm512_broadcast_i64x4(_mm256_loadu_si256(
      reinterpret_cast<const __m256i *>(block + 128 + 32 * h)));
  // Bit pairs 2c·2 (first 32 elements) and 2c·2 + 2 (next 32).
  high = _mm512_mask_srli_epi16(high, 0xFFFF0000u, high, 2);
  if (c)
    high = _mm512_srli_epi16(high, 4);
  high = _mm512_slli_epi16(_mm512_and_si512(high, _mm512_set1_epi8(3)), 4);
  return _mm512_or_si512(_mm512_and_si512(lowBits, _mm512_set1_epi8(0x0F)),
                         high);
}

TFM_VNNI float rowQ6KVnni(const uint8_t *w, const int8_t *a,
                          const int32_t *sums, const float *scale,
                          int blocks) {
  // Chunk c's lane i (elements 64c + 4i ...) takes scale 4c + i / 4.
  __m512i spread[4];
  for (int c = 0; c < 4; ++c) {
    int s = 4 * c;
    spread[c] = _mm512_set_epi32(s + 3, s + 3, s + 3, s + 3, s + 2, s + 2,
                                 s + 2, s + 2, s + 1, s + 1, s + 1, s + 1, s,
                                 s, s, s);
  }
  __m512 acc = _mm512_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *block = w + b * kBytesQ6K;
    const int8_t *ab = a + b * kBlockK;
    const int32_t *quads = sums + b * (kBlockK / 4);
    __m512i scales = _mm512_cvtepi8_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 192)));
    __m512i isum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      __m512i q = chunkQ6KVnni(block, c / 2, c % 2);
      __m512i d = _mm512_dpbusd_epi32(_mm512_loadu_si512(quads + 16 * c), q,
                                      _mm512_loadu_si512(ab + 64 * c));
      isum = _mm512_add_epi32(
          isum, _mm512_mullo_epi32(
                    d, _mm512_permutexvar_epi32(spread[c], scales)));
    }
    acc = _mm512_fmadd_ps(
        _mm512_cvtepi32_ps(isum),
        _mm512_set1_ps(halfToFloat(block + 208) * scale[b]), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

/// 32 integers (0-63) of group g (0-3) of half h, as bytes.
TFM_AVX2 inline __m256i groupQ6KAvx2(const uint8_t *block, int h, int g) {
  __m256i lowBits = _mm256_loadu_si256(
      reinterpret_cast<const __m256i *>(block + 64 * h + 32 * (g % 2)));
  lowBits = _mm256_and_si256(_mm256_srli_epi16(lowBits, 4 * (g / 2)),
                             _mm256_set1_epi8(0x0F));
  __m256i high = _mm256_loadu_si256(
      reinterpret_cast<const __m256i *>(block + 128 + 32 * h));
  high = _mm256_and_si256(_mm256_srli_epi16(high, 2 * g), _mm256_set1_epi8(3));
  return _mm256_or_si256(lowBits, _mm256_slli_epi16(high, 4));
}

TFM_AVX2 float rowQ6KAvx2(const uint8_t *w, const int8_t *a,
                          const int32_t *sums, const float *scale,
                          int blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *block = w + b * kBytesQ6K;
    const int8_t *sc = reinterpret_cast<const int8_t *>(block + 192);
    __m256i isum = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      // Elements 32g ... 32g + 31: two scales of 16.
      __m256i q = groupQ6KAvx2(block, g / 4, g % 4);
      __m256i pairs = _mm256_maddubs_epi16(
          q, _mm256_loadu_si256(
                 reinterpret_cast<const __m256i *>(a + b * kBlockK + 32 * g)));
      __m256i scale16 = _mm256_setr_m128i(_mm_set1_epi16(sc[2 * g]),
                                          _mm_set1_epi16(sc[2 * g + 1]));
      __m256i scale32 = _mm256_setr_m128i(_mm_set1_epi32(sc[2 * g]),
                                          _mm_set1_epi32(sc[2 * g + 1]));
      __m256i quads = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
          sums + b * (kBlockK / 4) + 8 * g));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pairs, scale16));
      isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(quads, scale32));
    }
    acc = _mm256_fmadd_ps(
        _mm256_cvtepi32_ps(isum),
        _mm256_set1_ps(halfToFloat(block + 208) * scale[b]), acc);
  }
  return sum8(acc);
}

//===----------------------------------------------------------------------===//
// f16 weights times f32 activations: each weight widened by F16C's
// vcvtph2ps (Halide 14 emulates the vector conversion in integer
// operations), multiplied and added in f32.
//===----------------------------------------------------------------------===//

TFM_AVX2 float rowF16Avx2(const uint16_t *w, const float *x, int k) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= k; i += 16) {
    __m256 w0 = _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(w + i)));
    __m256 w1 = _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(w + i + 8)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
  }
  float total = sum8(_mm256_add_ps(acc0, acc1));
  for (; i < k; ++i)
    total += _cvtsh_ss(w[i]) * x[i];
  return total;
}

/// 64 weights per step in four accumulators; the last 0-63 under masks.
TFM_VNNI float rowF16Avx512(const uint16_t *w, const float *x, int k) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps(), _mm512_setzero_ps()};
  int i = 0;
  for (; i + 64 <= k; i += 64)
    for (int u = 0; u < 4; ++u)
      acc[u] = _mm512_fmadd_ps(
          _mm512_cvtph_ps(_mm256_loadu_si256(
              reinterpret_cast<const __m256i *>(w + i + 16 * u))),
          _mm512_loadu_ps(x + i + 16 * u), acc[u]);
  for (; i < k; i += 16) {
    __mmask16 m = k - i >= 16 ? __mmask16(0xFFFF)
                              : __mmask16((1u << (k - i)) - 1);
    acc[0] = _mm512_fmadd_ps(
        _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + i)),
        _mm512_maskz_loadu_ps(m, x + i), acc[0]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]),
                                            _mm512_add_ps(acc[2], acc[3])));
}

//===----------------------------------------------------------------------===//
// q8_0: blocks of 32 (34 bytes): f16 d and 32 signed integers.
//===----------------------------------------------------------------------===//

constexpr int kBytesQ8 = 34;

/// Blocks b and b + 1 of a q8_0 row on 512-bit vectors (lanes 0-7 block
/// b, 8-15 block b + 1, as the activations lie): the weights plus 128
/// (unsigned) by the activations (vpdpbusd), from the lanes' -128·Σa.
TFM_VNNI inline __m512i pairQ8Vnni(const uint8_t *block, const int8_t *a,
                                   const int32_t *sums) {
  __m512i q = _mm512_inserti64x4(
      _mm512_castsi256_si512(
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 2))),
      _mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(block + kBytesQ8 + 2)),
      1);
  return _mm512_dpbusd_epi32(_mm512_loadu_si512(sums),
                             _mm512_xor_si512(q, _mm512_set1_epi8(char(0x80))),
                             _mm512_loadu_si512(a));
}

/// One block on 256-bit vectors, added to `acc`.
TFM_VNNI inline __m256 blockQ8Vnni(const uint8_t *block, const int8_t *a,
                                   const int32_t *sums, float scale,
                                   __m256 acc) {
  __m256i q = _mm256_xor_si256(
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 2)),
      _mm256_set1_epi8(char(0x80)));
  __m256i d = _mm256_dpbusd_epi32(
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(sums)), q,
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a)));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(d),
                         _mm256_set1_ps(halfToFloat(block) * scale), acc);
}

/// Four blocks per step (two pairs, two accumulators: one chain of
/// multiply-adds per block would bound the row at the adds' latency, about
/// 40 GB/s from cache, little above what memory delivers), their four f16
/// scales picked out of two loads by one permutation; then the last 0-3
/// blocks on 256-bit vectors. One row at a time, as rowVnni.
TFM_VNNI float rowQ8Vnni(const uint8_t *w, const int8_t *a, const int32_t *sums,
                         const float *scale, int blocks) {
  const __m512i first =
      _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(2));
  // The scales' 16-bit words in bytes [0, 128) of four blocks: 0, 17, 34
  // and 51 (the last two in the second load, from index 32).
  const __m512i pick =
      _mm512_castsi128_si512(_mm_setr_epi16(0, 17, 32 + 2, 32 + 19, 0, 0, 0, 0));
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int b = 0;
  for (; b + 4 <= blocks; b += 4) {
    const uint8_t *block = w + b * kBytesQ8;
    __m512i words = _mm512_permutex2var_epi16(_mm512_loadu_si512(block), pick,
                                              _mm512_loadu_si512(block + 64));
    __m512 s = _mm512_castps128_ps512(
        _mm_mul_ps(_mm_cvtph_ps(_mm512_castsi512_si128(words)),
                   _mm_loadu_ps(scale + b)));
    __m512i d0 = pairQ8Vnni(block, a + b * kBlock, sums + b * 8);
    __m512i d1 = pairQ8Vnni(block + 2 * kBytesQ8, a + (b + 2) * kBlock,
                            sums + (b + 2) * 8);
    acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d0),
                           _mm512_permutexvar_ps(first, s), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d1),
                           _mm512_permutexvar_ps(second, s), acc1);
  }
  __m256 tail = _mm256_setzero_ps();
  for (; b < blocks; ++b)
    tail = blockQ8Vnni(w + b * kBytesQ8, a + b * kBlock, sums + b * 8,
                       scale[b], tail);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + sum8(tail);
}

/// One row on AVX2: pmaddubsw of |w| and a with w's sign (the products of
/// signed bytes, at most 2·128·128 a pair), pmaddwd by ones.
TFM_AVX2 float rowQ8Avx2(const uint8_t *w, const int8_t *a, const int32_t *,
                         const float *scale, int blocks) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *block = w + b * kBytesQ8;
    __m256i q =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 2));
    __m256i x =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a + b * kBlock));
    __m256i d = _mm256_madd_epi16(
        _mm256_maddubs_epi16(_mm256_abs_epi8(q), _mm256_sign_epi8(x, q)), ones);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d),
                          _mm256_set1_ps(halfToFloat(block) * scale[b]), acc);
  }
  return sum8(acc);
}

using RowFn = float (*)(const uint8_t *, const int8_t *, const int32_t *,
                        const float *, int);

/// The f16 products of `count` rows `stride` bytes apart, as rowsVnni's.
TFM_VNNI void rowsF16Avx512(const uint8_t *w, int64_t stride, int32_t count,
                            const float *x, int k, float *out,
                            int64_t outStride) {
  for (int32_t i = 0; i < count; ++i)
    out[i * outStride] =
        rowF16Avx512(reinterpret_cast<const uint16_t *>(w + i * stride), x, k);
}

TFM_AVX2 void rowsF16Avx2(const uint8_t *w, int64_t stride, int32_t count,
                          const float *x, int k, float *out,
                          int64_t outStride) {
  for (int32_t i = 0; i < count; ++i)
    out[i * outStride] =
        rowF16Avx2(reinterpret_cast<const uint16_t *>(w + i * stride), x, k);
}

std::atomic<int> forced{0}, oneRow{0};

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

/// Whether gathers are fast here (an Intel CPU), unless TFM_DOT_ROWS=one.
bool fastGathers() {
  if (const char *rows = std::getenv("TFM_DOT_ROWS");
      rows && std::strcmp(rows, "one") == 0)
    return false;
  __builtin_cpu_init();
  return __builtin_cpu_is("intel");
}

/// `count` rows of a weight, `stride` bytes apart from `w`, each times
/// the activations by Fn (inlined: no call per row, the activations'
/// addresses computed once), into out[i·outStride].
using RowsFn = void (*)(const uint8_t *w, int64_t stride, int32_t count,
                        const int8_t *a, const int32_t *sums,
                        const float *scale, int blocks, float *out,
                        int64_t outStride);

template <RowFn Fn>
TFM_VNNI void rowsVnni(const uint8_t *w, int64_t stride, int32_t count,
                       const int8_t *a, const int32_t *sums, const float *scale,
                       int blocks, float *out, int64_t outStride) {
  for (int32_t i = 0; i < count; ++i)
    out[i * outStride] = Fn(w + i * stride, a, sums, scale, blocks);
}

/// Asks for the lines of rows [from, to) (`rowBytes` each, `stride`
/// apart from `w`), for the 16-row kernels: the next 16 rows arrive while
/// these are computed.
inline void prefetchRows(const uint8_t *w, int64_t stride, int32_t from,
                         int32_t to, int64_t rowBytes) {
  for (int32_t r = from; r < to; ++r)
    for (int64_t at = 0; at < rowBytes; at += 64)
      _mm_prefetch(reinterpret_cast<const char *>(w + r * stride + at),
                   _MM_HINT_T0);
}

/// The 16 lanes of `acc` to out[r·outStride].
TFM_VNNI inline void storeLanes(__m512 acc, float *out, int64_t outStride) {
  if (outStride == 1) {
    _mm512_storeu_ps(out, acc);
    return;
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  for (int r = 0; r < 16; ++r)
    out[r * outStride] = lanes[r];
}

/// Rows 16 at a time, one row per lane, for a format of blocks of 32 that
/// start with their f16 scale: each block's integer sums of the 16 rows
/// from Format::blockSums (which gathers the 16 rows' bytes at `offsets`
/// and adds their products with the block's activations to `start`, the
/// block's -offset·Σa), the scales by one more gather. No sums across
/// lanes, and 16 rows read at once: where the hardware prefetcher does not
/// follow one row's stream fast enough, 16 streams keep more lines in
/// flight, and the next 16 rows' lines are asked for ahead. The rows past
/// the last 16, rows too far apart for 32-bit offsets, and every row where
/// gathers are slow (rowsByGathers), go one at a time (`Row`). `Format`
/// gives the block's bytes (kBytes) and its sums (blockSums).
template <typename Format, RowFn Row>
TFM_VNNI void rowsBy16(const uint8_t *w, int64_t stride, int32_t count,
                       const int8_t *a, const int32_t *sums,
                       const float *scale, int blocks, float *out,
                       int64_t outStride) {
  constexpr int Bytes = Format::kBytes;
  int32_t i = 0;
  if (rowsByGathers() && count >= 16 && stride <= INT32_MAX / 16) {
    // Each block's start: the 8 lane sums the row kernels start from.
    thread_local std::vector<int32_t> starts;
    starts.resize(size_t(blocks));
    for (int b = 0; b < blocks; ++b) {
      int32_t t = 0;
      for (int l = 0; l < 8; ++l)
        t += sums[b * 8 + l];
      starts[size_t(b)] = t;
    }
    const __m512i offsets = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(int32_t(stride)));
    int64_t rowBytes = int64_t(blocks) * Bytes;
    for (; i + 16 <= count; i += 16) {
      const uint8_t *rows = w + i * stride;
      prefetchRows(w, stride, i + 16, std::min(i + 32, count), rowBytes);
      __m512 acc = _mm512_setzero_ps();
      for (int b = 0; b < blocks; ++b) {
        const uint8_t *block = rows + b * Bytes;
        __m512i sum = Format::blockSums(block, a + b * kBlock, offsets,
                                        _mm512_set1_epi32(starts[size_t(b)]));
        __m512 d = _mm512_cvtph_ps(
            _mm512_cvtepi32_epi16(_mm512_i32gather_epi32(offsets, block, 1)));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum),
                              _mm512_mul_ps(d, _mm512_set1_ps(scale[b])), acc);
      }
      storeLanes(acc, out + i * outStride, outStride);
    }
  }
  for (; i < count; ++i)
    out[i * outStride] = Row(w + i * stride, a, sums, scale, blocks);
}

/// q4_0 rows 16 at a time (rowsBy16): a block's 16 nibble bytes of the 16
/// rows in four gathers (4 bytes a lane), then 8 vpdpbusd against the
/// activations' bytes broadcast (the low nibbles are k 0-15 of the block,
/// the high ones 16-31), from the block's -8·Σa.
struct Q4_0By16 {
  static constexpr int kBytes = kBlockBytes;
  TFM_VNNI static __m512i blockSums(const uint8_t *block, const int8_t *ab,
                                    __m512i offsets, __m512i start) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i lo = start, hi = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) {
      __m512i v = _mm512_i32gather_epi32(offsets, block + 2 + 4 * t, 1);
      int32_t a0, a1;
      std::memcpy(&a0, ab + 4 * t, 4);
      std::memcpy(&a1, ab + 16 + 4 * t, 4);
      lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v, low),
                               _mm512_set1_epi32(a0));
      hi = _mm512_dpbusd_epi32(
          hi, _mm512_and_si512(_mm512_srli_epi32(v, 4), low),
          _mm512_set1_epi32(a1));
    }
    return _mm512_add_epi32(lo, hi);
  }
};

/// q8_0 rows 16 at a time (rowsBy16): a block's 32 bytes of the 16 rows
/// in 8 gathers, plus 128 (unsigned) against the activations, from the
/// block's -128·Σa.
struct Q8_0By16 {
  static constexpr int kBytes = kBytesQ8;
  TFM_VNNI static __m512i blockSums(const uint8_t *block, const int8_t *ab,
                                    __m512i offsets, __m512i start) {
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    __m512i even = start, odd = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) {
      __m512i v0 = _mm512_i32gather_epi32(offsets, block + 2 + 8 * t, 1);
      __m512i v1 = _mm512_i32gather_epi32(offsets, block + 6 + 8 * t, 1);
      int32_t a0, a1;
      std::memcpy(&a0, ab + 8 * t, 4);
      std::memcpy(&a1, ab + 8 * t + 4, 4);
      even = _mm512_dpbusd_epi32(even, _mm512_xor_si512(v0, flip),
                                 _mm512_set1_epi32(a0));
      odd = _mm512_dpbusd_epi32(odd, _mm512_xor_si512(v1, flip),
                                _mm512_set1_epi32(a1));
    }
    return _mm512_add_epi32(even, odd);
  }
};

template <RowFn Fn>
TFM_AVX2 void rowsAvx2(const uint8_t *w, int64_t stride, int32_t count,
                       const int8_t *a, const int32_t *sums, const float *scale,
                       int blocks, float *out, int64_t outStride) {
  for (int32_t i = 0; i < count; ++i)
    out[i * outStride] = Fn(w + i * stride, a, sums, scale, blocks);
}

/// A weight format's micro-kernel: its block's elements and bytes, the
/// activation sums it reads per block, and its rows' products per path.
struct Format {
  int elements, bytes, sumsPerBlock;
  RowsFn vnni, avx2;
};

constexpr Format kQ4_0{kBlock, kBlockBytes, kBlock / 4,
                       rowsBy16<Q4_0By16, rowVnni>,
                       rowsAvx2<rowAvx2>};
constexpr Format kQ8_0{kBlock, kBytesQ8, kBlock / 4,
                       rowsBy16<Q8_0By16, rowQ8Vnni>,
                       rowsAvx2<rowQ8Avx2>};
constexpr Format kQ4_K{kBlockK, kBytesQ4K, kBlockK / 32, rowsVnni<rowQ4KVnni>,
                       rowsAvx2<rowQ4KAvx2>};
constexpr Format kQ6_K{kBlockK, kBytesQ6K, kBlockK / 4, rowsVnni<rowQ6KVnni>,
                       rowsAvx2<rowQ6KAvx2>};

/// The extern stages' common part: answers a bounds query (the weight rows
/// the outputs need, each `rowElements` long; each input in `inputs` over
/// its x extent and the outputs' s), or fills `out`: for each s and j,
/// rows(the bytes of weight row nMin + j·pairStride, the rows' stride in
/// bytes, the count of outputs n, s, where output (nMin, j, s) goes, the
/// outputs' stride).
template <typename Rows>
int externStage(halide_buffer_t *weight, int32_t rowElements,
                 std::initializer_list<std::pair<halide_buffer_t *, int32_t>>
                     inputs,
                 int32_t pairStride, halide_buffer_t *out, Rows rows) {
  const halide_dimension_t *o = out->dim;
  int32_t nMin = o[0].min, nMax = o[0].min + o[0].extent - 1;
  int32_t jMin = o[1].min, jMax = o[1].min + o[1].extent - 1;
  int32_t sMin = o[2].min, sExtent = o[2].extent;
  bool query = weight->is_bounds_query();
  for (auto [b, extent] : inputs)
    query = query || b->is_bounds_query();
  if (query) {
    int32_t first = nMin + jMin * pairStride, last = nMax + jMax * pairStride;
    request(weight, 0, 0, rowElements);
    request(weight, 1, first, last - first + 1);
    for (auto [b, extent] : inputs) {
      request(b, 0, 0, extent);
      request(b, 1, sMin, sExtent);
    }
    return 0;
  }
  if (weight->dim[0].stride != 1)
    return -1;
  for (auto [b, extent] : inputs)
    if (b->dim[0].stride != 1)
      return -1;
  float *base = reinterpret_cast<float *>(out->host);
  int64_t stride = int64_t(weight->dim[1].stride) * weight->type.bytes();
  for (int32_t s = sMin; s < sMin + sExtent; ++s)
    for (int32_t j = jMin; j <= jMax; ++j)
      rows(rowOf<uint8_t>(weight, nMin + j * pairStride), stride,
           nMax - nMin + 1, s,
           base + int64_t(j - jMin) * o[1].stride +
               int64_t(s - sMin) * o[2].stride,
           o[0].stride);
  return 0;
}

/// The extern stage of QuantDot.h for block format `format`.
int product(const Format &format, halide_buffer_t *weight,
            halide_buffer_t *act, halide_buffer_t *actSums,
            halide_buffer_t *actScale, int32_t k, int32_t pairStride,
            halide_buffer_t *out) {
  int32_t blocks = k / format.elements;
  RowsFn fn = dotIsa() == DotIsa::avx512vnni ? format.vnni : format.avx2;
  return externStage(
      weight, blocks * format.bytes,
      {{act, k}, {actSums, blocks * format.sumsPerBlock}, {actScale, blocks}},
      pairStride, out,
      [&](const uint8_t *w, int64_t stride, int32_t count, int32_t s,
          float *dst, int64_t dstStride) {
        fn(w, stride, count, rowOf<int8_t>(act, s), rowOf<int32_t>(actSums, s),
           rowOf<float>(actScale, s), blocks, dst, dstStride);
      });
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

bool rowsByGathers() {
  static const bool fast = fastGathers();
  return fast && !oneRow.load(std::memory_order_relaxed);
}

void forceOneRowAtATime(bool one) {
  oneRow.store(one ? 1 : 0, std::memory_order_relaxed);
}

} // namespace tfm::rt

extern "C" {

int tfm_dot_q4_0_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out) {
  return tfm::rt::product(tfm::rt::kQ4_0, weight, act, actSums, actScale, k,
                          pairStride, out);
}

int tfm_dot_q8_0_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out) {
  return tfm::rt::product(tfm::rt::kQ8_0, weight, act, actSums, actScale, k,
                          pairStride, out);
}

int tfm_dot_q4_K_q8_K(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out) {
  return tfm::rt::product(tfm::rt::kQ4_K, weight, act, actSums, actScale, k,
                          pairStride, out);
}

int tfm_dot_q6_K_q8_K(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out) {
  return tfm::rt::product(tfm::rt::kQ6_K, weight, act, actSums, actScale, k,
                          pairStride, out);
}

} // extern "C"

extern "C" int tfm_dot_f16_f32(halide_buffer_t *weight, halide_buffer_t *act,
                               int32_t k, int32_t pairStride,
                               halide_buffer_t *out) {
  using namespace tfm::rt;
  auto fn = dotIsa() == DotIsa::avx512vnni ? rowsF16Avx512 : rowsF16Avx2;
  return externStage(weight, k, {{act, k}}, pairStride, out,
                     [&](const uint8_t *w, int64_t stride, int32_t count,
                         int32_t s, float *dst, int64_t dstStride) {
                       fn(w, stride, count, rowOf<float>(act, s), k, dst,
                          dstStride);
                     });
}
