//===- Transpose16.h - a 16 x 16 transpose on 512-bit vectors -*- C++ -*-===//
//
// The prefill micro-kernels pack weight rows (n-major) into panels whose
// vectors hold one k of 16 outputs: 16 rows' vectors transposed.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TRANSPOSE16_H
#define TFM_RUNTIME_TRANSPOSE16_H

#include <immintrin.h>

namespace tfm::rt {

/// Transposes 16 × 16 32-bit elements held as 16 rows in place.
__attribute__((target("avx512f"))) inline void transpose16(__m512i r[16]) {
  __m512i a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // b[4i + e] holds, in each 128-bit lane L, element 4L + e of rows
  // 4i..4i + 3.
  for (int i = 0; i < 4; ++i) {
    b[4 * i] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
    b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
  }
  // Output row 4L + e gathers lane L of b[e], b[4 + e], b[8 + e] and
  // b[12 + e].
  for (int e = 0; e < 4; ++e) {
    __m512i c0 = _mm512_shuffle_i32x4(b[e], b[4 + e], 0x44);
    __m512i c1 = _mm512_shuffle_i32x4(b[e], b[4 + e], 0xEE);
    __m512i c2 = _mm512_shuffle_i32x4(b[8 + e], b[12 + e], 0x44);
    __m512i c3 = _mm512_shuffle_i32x4(b[8 + e], b[12 + e], 0xEE);
    r[e] = _mm512_shuffle_i32x4(c0, c2, 0x88);
    r[4 + e] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
    r[8 + e] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
  }
}

} // namespace tfm::rt

#endif // TFM_RUNTIME_TRANSPOSE16_H
