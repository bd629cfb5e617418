//===- BfloatGemm.cpp - prefill products on bf16 matrix units --*- C++ -*-===//
//
// tfm_gemm_bf16 (BfloatGemm.h). A packed panel holds, for each 16 outputs
// (a column tile c) and each 32 k (a k block kb), one B tile of 512 bf16:
// its row r holds the pairs (2r, 2r + 1) of k of the 16 outputs side by
// side, element (r, 2·col + t) = w(n0 + 16c + col, 32kb + 2r + t). The
// tiles of one column tile follow each other by kb, 1 KiB apart. Every
// path computes a block of at most 32 activation rows by two column tiles
// into a 32 × 32 f32 scratch, then copies its valid part to the output.
//
//===----------------------------------------------------------------------===//

#include "runtime/BfloatGemm.h"

#include "runtime/AmxTiles.h"
#include "runtime/ExternBuffers.h"
#include "runtime/Half.h"
#include "runtime/Transpose16.h"

// GCC 12's AVX-512 intrinsics start some results from an undefined
// vector, which -Wall reports as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tfm::rt {
namespace {

constexpr int kTileK = 32;      // k per tile row (bf16)
constexpr int kTileN = 16;      // outputs per B tile
constexpr int kTileElems = 512; // bf16 per B tile
constexpr int kBlockRows = 32;  // activation rows per block (2 A tiles)
constexpr int kBlockCols = 32;  // outputs per block (2 B tiles)

#define TFM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TFM_BF16                                                               \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,"       \
                        "f16c")))
#define TFM_AMX                                                                \
  __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,"         \
                        "avx512bf16,avx2,fma,f16c")))

/// Weight element `i` of `row` (in `format`) rounded to bf16.
inline uint16_t elementBf16(const uint8_t *row, int format, int64_t i) {
  if (format == tfm_gemm_weight_bf16) {
    uint16_t bits;
    std::memcpy(&bits, row + 2 * i, 2);
    return bits;
  }
  if (format == tfm_gemm_weight_f16) {
    uint16_t bits;
    std::memcpy(&bits, row + 2 * i, 2);
    return floatToBf16(f16ToFloat(bits));
  }
  float f;
  std::memcpy(&f, row + 4 * i, 4);
  return floatToBf16(f);
}

/// Packs `cols` weight rows (`rows[i]`, k elements each) into `tiles`
/// column tiles of B tiles, element by element; outputs past `cols` are 0.
void packScalar(const uint8_t *const *rows, int cols, int format, int k,
                uint16_t *dst) {
  int kbs = k / kTileK, tiles = (cols + kTileN - 1) / kTileN;
  for (int c = 0; c < tiles; ++c)
    for (int kb = 0; kb < kbs; ++kb) {
      uint16_t *tile = dst + (int64_t(c) * kbs + kb) * kTileElems;
      for (int r = 0; r < 16; ++r)
        for (int col = 0; col < kTileN; ++col)
          for (int t = 0; t < 2; ++t) {
            int n = c * kTileN + col;
            tile[r * 32 + 2 * col + t] =
                n < cols ? elementBf16(rows[n], format, kb * kTileK + 2 * r + t)
                         : 0;
          }
    }
}

/// 32 weights of `row` from element `from`, as bf16 (to nearest, ties to
/// even; vcvtne2ps2bf16 flushes denormals, which no weight of a trained
/// model is).
TFM_BF16 inline __m512i load32Bf16(const uint8_t *row, int format,
                                   int64_t from) {
  if (format == tfm_gemm_weight_bf16)
    return _mm512_loadu_si512(row + 2 * from);
  __m512 lo, hi;
  if (format == tfm_gemm_weight_f16) {
    const uint16_t *h = reinterpret_cast<const uint16_t *>(row) + from;
    lo = _mm512_cvtph_ps(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(h)));
    hi = _mm512_cvtph_ps(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(h + 16)));
  } else {
    const float *f = reinterpret_cast<const float *>(row) + from;
    lo = _mm512_loadu_ps(f);
    hi = _mm512_loadu_ps(f + 16);
  }
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

/// packScalar's layout, 16 rows at a time in vectors: each row's 32 k of
/// a block are one vector of 16 pairs, and the 16 × 16 pairs transposed
/// are the tile.
TFM_BF16 void packAvx512(const uint8_t *const *rows, int cols, int format,
                         int k, uint16_t *dst) {
  int kbs = k / kTileK, tiles = (cols + kTileN - 1) / kTileN;
  for (int c = 0; c < tiles; ++c)
    for (int kb = 0; kb < kbs; ++kb) {
      __m512i r[16];
      for (int col = 0; col < kTileN; ++col) {
        int n = c * kTileN + col;
        r[col] = n < cols ? load32Bf16(rows[n], format, int64_t(kb) * kTileK)
                          : _mm512_setzero_si512();
      }
      transpose16(r);
      uint16_t *tile = dst + (int64_t(c) * kbs + kb) * kTileElems;
      for (int i = 0; i < 16; ++i)
        _mm512_storeu_si512(tile + 32 * i, r[i]);
    }
}

/// The activations of one block: `rows` (1-32) rows from `a`, `stride`
/// elements apart, k of them each.
struct ActBlock {
  const uint16_t *a;
  int64_t stride;
  int rows;
  /// Rows i0..i0 + n - 1, the last row again for those past the block
  /// (their results are not stored).
  void rowsFrom(int i0, int n, const uint16_t **out) const {
    for (int i = 0; i < n; ++i)
      out[i] = a + std::min(i0 + i, rows - 1) * stride;
  }
};

/// C(i, col) for the block's rows i and the outputs of column tiles c and,
/// when `pair`, c + 1 (`b` their first tile, `bStride` elements between
/// them), as f32 into `scratch` [32][32].
using BlockFn = void (*)(const ActBlock &, const uint16_t *b, int64_t bStride,
                         bool pair, int kbs, float *scratch);

/// Loads the configuration for A tiles of `rows0` and `rows1` rows: tiles
/// 0-3 the accumulators C(a, b) = tile 2a + b, 4 and 5 the A tiles, 6 and
/// 7 the B tiles.
TFM_AMX void configureTiles(int rows0, int rows1) {
  TileConfig config;
  auto set = [&](int tile, int rows) { config.set(tile, rows, 64); };
  set(0, rows0);
  set(1, rows0);
  set(4, rows0);
  set(6, 16);
  set(7, 16);
  if (rows1 > 0) {
    set(2, rows1);
    set(3, rows1);
    set(5, rows1);
  }
  // GCC 12 does not see ldtilecfg read the configuration, and drops the
  // stores above without this.
  asm volatile("" : : "r"(&config) : "memory");
  _tile_loadconfig(&config);
}

TFM_AMX void releaseTiles() { _tile_release(); }

template <bool TwoA, bool TwoB>
TFM_AMX void amxTiles(const ActBlock &x, const uint16_t *b, int64_t bStride,
                      int kbs, float *scratch) {
  const uint16_t *a0 = x.a, *a1 = x.a + 16 * x.stride;
  int64_t aBytes = x.stride * 2;
  _tile_zero(0);
  if (TwoB)
    _tile_zero(1);
  if (TwoA) {
    _tile_zero(2);
    if (TwoB)
      _tile_zero(3);
  }
  for (int kb = 0; kb < kbs; ++kb) {
    _tile_loadd(4, a0 + kb * kTileK, aBytes);
    _tile_loadd(6, b + int64_t(kb) * kTileElems, 64);
    if (TwoB)
      _tile_loadd(7, b + bStride + int64_t(kb) * kTileElems, 64);
    _tile_dpbf16ps(0, 4, 6);
    if (TwoB)
      _tile_dpbf16ps(1, 4, 7);
    if (TwoA) {
      _tile_loadd(5, a1 + kb * kTileK, aBytes);
      _tile_dpbf16ps(2, 5, 6);
      if (TwoB)
        _tile_dpbf16ps(3, 5, 7);
    }
  }
  constexpr int row = kBlockCols * 4;
  _tile_stored(0, scratch, row);
  if (TwoB)
    _tile_stored(1, scratch + 16, row);
  if (TwoA) {
    _tile_stored(2, scratch + 16 * kBlockCols, row);
    if (TwoB)
      _tile_stored(3, scratch + 16 * kBlockCols + 16, row);
  }
}

TFM_AMX void blockAmx(const ActBlock &x, const uint16_t *b, int64_t bStride,
                      bool pair, int kbs, float *scratch) {
  bool twoA = x.rows > 16;
  if (twoA && pair)
    amxTiles<true, true>(x, b, bStride, kbs, scratch);
  else if (twoA)
    amxTiles<true, false>(x, b, bStride, kbs, scratch);
  else if (pair)
    amxTiles<false, true>(x, b, bStride, kbs, scratch);
  else
    amxTiles<false, false>(x, b, bStride, kbs, scratch);
}

/// AVX512-BF16: 8 rows by T column tiles (16 outputs each) at a time, 8·T
/// independent accumulators, each B tile row loaded once for the 8 rows
/// and each row's pair of activations broadcast once for the T tiles.
template <int T>
TFM_BF16 void tileAvx512(const ActBlock &x, int i0, const uint16_t *b,
                         int64_t bStride, int kbs, float *scratch) {
  const uint16_t *a[8];
  x.rowsFrom(i0, 8, a);
  __m512 acc[8][T];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
#pragma GCC unroll 2
    for (int t = 0; t < T; ++t)
      acc[i][t] = _mm512_setzero_ps();
  for (int kb = 0; kb < kbs; ++kb)
    for (int r = 0; r < 16; ++r) {
      __m512bh w[T];
#pragma GCC unroll 2
      for (int t = 0; t < T; ++t)
        w[t] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(
            b + t * bStride + int64_t(kb) * kTileElems + 32 * r));
      int64_t k = int64_t(kb) * kTileK + 2 * r;
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        uint32_t pairBits;
        std::memcpy(&pairBits, a[i] + k, 4);
        __m512bh pair =
            reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(pairBits)));
#pragma GCC unroll 2
        for (int t = 0; t < T; ++t)
          acc[i][t] = _mm512_dpbf16_ps(acc[i][t], pair, w[t]);
      }
    }
  for (int i = 0; i < 8 && i0 + i < x.rows; ++i)
#pragma GCC unroll 2
    for (int t = 0; t < T; ++t)
      _mm512_storeu_ps(scratch + (i0 + i) * kBlockCols + 16 * t, acc[i][t]);
}

TFM_BF16 void blockAvx512(const ActBlock &x, const uint16_t *b, int64_t bStride,
                          bool pair, int kbs, float *scratch) {
  for (int i0 = 0; i0 < x.rows; i0 += 8)
    if (pair)
      tileAvx512<2>(x, i0, b, bStride, kbs, scratch);
    else
      tileAvx512<1>(x, i0, b, bStride, kbs, scratch);
}

/// AVX2: each B tile row's pairs widened to f32 (the low element shifted
/// up, the high one masked), 4 rows by 8 outputs at a time.
TFM_AVX2 void blockAvx2(const ActBlock &x, const uint16_t *b, int64_t bStride,
                        bool pair, int kbs, float *scratch) {
  const __m256i high = _mm256_set1_epi32(int(0xFFFF0000u));
  for (int h = 0; h < (pair ? 4 : 2); ++h) {
    const uint16_t *bt = b + (h / 2) * bStride + 16 * (h % 2);
    for (int i0 = 0; i0 < x.rows; i0 += 4) {
      const uint16_t *a[4];
      x.rowsFrom(i0, 4, a);
      __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                       _mm256_setzero_ps(), _mm256_setzero_ps()};
      for (int kb = 0; kb < kbs; ++kb)
        for (int r = 0; r < 16; ++r) {
          __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
              bt + int64_t(kb) * kTileElems + 32 * r));
          __m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
          __m256 w1 = _mm256_castsi256_ps(_mm256_and_si256(w, high));
          int64_t k = int64_t(kb) * kTileK + 2 * r;
          for (int i = 0; i < 4; ++i) {
            acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(bf16ToFloat(a[i][k])), w0,
                                     acc[i]);
            acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(bf16ToFloat(a[i][k + 1])),
                                     w1, acc[i]);
          }
        }
      for (int i = 0; i < 4 && i0 + i < x.rows; ++i)
        _mm256_storeu_ps(scratch + (i0 + i) * kBlockCols + 8 * h, acc[i]);
    }
  }
}

std::atomic<int> limit{int(GemmIsa::amx)};

/// Whether the CPU has AMX-BF16 and Linux grants this process the tile
/// state (ARCH_REQ_XCOMP_PERM for XTILEDATA).
bool amxGranted() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return false;
  bool tile = d & (1u << 24), bf16 = d & (1u << 22);
  if (!tile || !bf16)
    return false;
  constexpr long kReqXcompPerm = 0x1023, kXtileData = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
}

/// Whether the CPU has AVX512-BF16 (with F, BW and VL).
bool hasAvx512Bf16() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") ||
      !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512vl"))
    return false;
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));
}

/// The best path this CPU has, below TFM_GEMM_ISA's limit.
GemmIsa detect() {
  const char *env = std::getenv("TFM_GEMM_ISA");
  GemmIsa most = GemmIsa::amx;
  if (env && std::strcmp(env, "avx2") == 0)
    most = GemmIsa::avx2;
  else if (env && std::strcmp(env, "avx512") == 0)
    most = GemmIsa::avx512bf16;
  if (!hasAvx512Bf16())
    return GemmIsa::avx2;
  if (most == GemmIsa::amx && amxGranted())
    return GemmIsa::amx;
  return std::min(most, GemmIsa::avx512bf16);
}

} // namespace

GemmIsa gemmIsa() {
  static const GemmIsa best = detect();
  return std::min(best, GemmIsa(limit.load(std::memory_order_relaxed)));
}

bool amxInt8() {
  static const bool int8 = [] {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 25));
  }();
  return int8 && gemmIsa() == GemmIsa::amx;
}

const char *gemmIsaName(GemmIsa isa) {
  switch (isa) {
  case GemmIsa::amx:
    return "amx-bf16";
  case GemmIsa::avx512bf16:
    return "avx512-bf16";
  case GemmIsa::avx2:
    return "avx2";
  }
  return "avx2";
}

void forceGemmIsa(GemmIsa isa) {
  limit.store(int(isa), std::memory_order_relaxed);
}

} // namespace tfm::rt

extern "C" int tfm_gemm_bf16(halide_buffer_t *weight, halide_buffer_t *act,
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
  if (k % kTileK != 0 || weight->dim[0].stride != 1 ||
      act->dim[0].stride != 1 || format < tfm_gemm_weight_bf16 ||
      format > tfm_gemm_weight_f32)
    return -1;
  GemmIsa isa = gemmIsa();
  BlockFn block = isa == GemmIsa::amx          ? blockAmx
                  : isa == GemmIsa::avx512bf16 ? blockAvx512
                                               : blockAvx2;
  int kbs = k / kTileK, tiles = (nExtent + kTileN - 1) / kTileN;
  int64_t tileStride = int64_t(kbs) * kTileElems;
  thread_local std::vector<uint16_t> panel;
  thread_local std::vector<const uint8_t *> rows;
  panel.resize(size_t(tiles) * size_t(tileStride));
  rows.resize(size_t(nExtent));
  alignas(64) float scratch[kBlockRows * kBlockCols];
  int lastRows0 = -1, lastRows1 = -1;
  for (int32_t j = w.jMin; j <= w.jMax; ++j) {
    for (int32_t n = 0; n < nExtent; ++n)
      rows[n] = rowOf<uint8_t>(weight, nMin + n + j * pairStride);
    if (isa == GemmIsa::avx2)
      packScalar(rows.data(), nExtent, format, k, panel.data());
    else
      packAvx512(rows.data(), nExtent, format, k, panel.data());
    for (int32_t s0 = 0; s0 < sExtent; s0 += kBlockRows) {
      ActBlock x{rowOf<uint16_t>(act, sMin + s0), act->dim[1].stride,
                 std::min(kBlockRows, sExtent - s0)};
      if (isa == GemmIsa::amx) {
        int rows0 = std::min(16, x.rows), rows1 = x.rows - rows0;
        if (rows0 != lastRows0 || rows1 != lastRows1) {
          configureTiles(rows0, rows1);
          lastRows0 = rows0;
          lastRows1 = rows1;
        }
      }
      for (int c = 0; c < tiles; c += 2) {
        bool pair = c + 1 < tiles;
        block(x, panel.data() + c * tileStride, tileStride, pair, kbs, scratch);
        int cols = std::min(kBlockCols, nExtent - c * kTileN);
        for (int i = 0; i < x.rows; ++i)
          w.store(out, c * kTileN, j, s0 + i, scratch + i * kBlockCols, cols);
      }
    }
  }
  if (isa == GemmIsa::amx)
    releaseTiles();
  return 0;
}
