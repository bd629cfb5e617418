//===- QuantGemm.cpp - prefill products in 8-bit integers -------*- C++ -*-===//
//
// tfm_gemm_q8_0 (QuantGemm.h). A packed panel holds, for each 16 outputs
// (a group g) and each block b of 32 k, 576 bytes: 8 steps of 64 bytes,
// step t holding k 4t..4t+3 of the 16 outputs side by side (output i's
// four bytes at 4i), then the 16 weight scales as f32. A group's blocks
// follow each other, so one group's weights (k / 32 · 576 bytes: 14 KiB
// at k = 768) stay in the first-level cache while every activation row
// passes through them, a tile of rows at a time.
//
// Each block's integer sum starts from -offset·Σa over the block (the
// offset being what the layout added to the weights), so after its 8
// steps each lane holds Σ q_w·q exactly: at most 32·128·127 in magnitude.
// For AMX the layout holds the signed integers themselves (q4_0's nibbles
// minus 8), and a group's block is one B tile followed by its scales.
//
//===----------------------------------------------------------------------===//

#include "runtime/QuantGemm.h"

#include "runtime/AmxTiles.h"
#include "runtime/BfloatGemm.h"
#include "runtime/ExternBuffers.h"
#include "runtime/Half.h"
#include "runtime/QuantDot.h"

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

constexpr int kBlock = 32;        // k per block
constexpr int kGroup = 16;        // outputs per group
constexpr int kSteps = 8;         // 4-byte steps per block
constexpr int kStepBytes = 64;    // one step of a group
constexpr int kPackedBlock = 576; // a group's block: 8 steps, 16 scales
constexpr int kTileRows = 8;      // activation rows per tile (VNNI)
constexpr int kTileRowsAvx2 = 4;  // activation rows per tile (AVX2)

#define TFM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TFM_VNNI                                                               \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TFM_AMX_INT8                                                           \
  __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,"         \
                        "avx512vnni,avx2,fma,f16c")))

/// The bytes of one block of `format`.
int blockBytes(int format) {
  switch (format) {
  case tfm_gemm_weight_q4_0:
    return 2 + kBlock / 2;
  case tfm_gemm_weight_q4_K:
    return 144;
  case tfm_gemm_weight_q6_K:
    return 210;
  default:
    return 2 + kBlock;
  }
}

uint32_t load32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void store32(uint8_t *p, uint32_t v) { std::memcpy(p, &v, 4); }

/// Packs outputs [16g, 16g + 16) of `count` weight rows (row n at
/// `first` + n·`stride` bytes, `blocks` blocks each) into group g of the
/// panel at `dst`, one output at a time; outputs past `count` get zero
/// weights and scales. The weights are unsigned (q4_0's nibbles, q8_0's
/// integers plus 128) or, where `signedInts`, the formats' signed
/// integers.
void packGroup(const uint8_t *first, int64_t stride, int count, int format,
               int blocks, int g, bool signedInts, uint8_t *dst) {
  int bytes = blockBytes(format);
  for (int b = 0; b < blocks; ++b) {
    uint8_t *packed = dst + (int64_t(g) * blocks + b) * kPackedBlock;
    float scales[kGroup];
    for (int i = 0; i < kGroup; ++i) {
      int n = g * kGroup + i;
      uint8_t *lane = packed + 4 * i;
      if (n >= count) {
        for (int t = 0; t < kSteps; ++t)
          store32(lane + t * kStepBytes, 0);
        scales[i] = 0.f;
        continue;
      }
      const uint8_t *src = first + n * stride + int64_t(b) * bytes;
      uint16_t d;
      std::memcpy(&d, src, 2);
      scales[i] = f16ToFloat(d);
      if (format == tfm_gemm_weight_q4_0) {
        // Element e in byte e's low half, e + 16 in its high half.
        // Each byte x of 0-15 becomes x - 8 (mod 256) where signed: x
        // with its top bit set minus 8 borrows from no neighbour.
        auto nibbles = [&](uint32_t x) {
          return signedInts ? ((x | 0x80808080u) - 0x08080808u) ^ 0x80808080u
                            : x;
        };
        for (int t = 0; t < 4; ++t) {
          uint32_t v = load32(src + 2 + 4 * t);
          store32(lane + t * kStepBytes, nibbles(v & 0x0F0F0F0Fu));
          store32(lane + (t + 4) * kStepBytes, nibbles((v >> 4) & 0x0F0F0F0Fu));
        }
      } else {
        uint32_t flip = signedInts ? 0u : 0x80808080u;
        for (int t = 0; t < kSteps; ++t)
          store32(lane + t * kStepBytes, load32(src + 2 + 4 * t) ^ flip);
      }
    }
    std::memcpy(packed + kSteps * kStepBytes, scales, sizeof scales);
  }
}

/// The same for a whole group by 512-bit gathers: each step's 16 words
/// (one per output) in one gather, the scales in another.
TFM_VNNI void packGroupVnni(const uint8_t *first, int64_t stride, int format,
                            int blocks, int g, bool signedInts, uint8_t *dst) {
  int bytes = blockBytes(format);
  const __m512i rows = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(int32_t(stride)));
  const __m512i low = _mm512_set1_epi8(0x0F);
  const __m512i flip = _mm512_set1_epi8(signedInts ? 0 : char(0x80));
  const __m512i eight = _mm512_set1_epi8(signedInts ? 8 : 0);
  const uint8_t *base = first + int64_t(g) * kGroup * stride;
  for (int b = 0; b < blocks; ++b) {
    uint8_t *packed = dst + (int64_t(g) * blocks + b) * kPackedBlock;
    const uint8_t *block = base + int64_t(b) * bytes;
    if (format == tfm_gemm_weight_q4_0) {
      for (int t = 0; t < 4; ++t) {
        __m512i v = _mm512_i32gather_epi32(rows, block + 2 + 4 * t, 1);
        _mm512_store_si512(packed + t * kStepBytes,
                           _mm512_sub_epi8(_mm512_and_si512(v, low), eight));
        _mm512_store_si512(
            packed + (t + 4) * kStepBytes,
            _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi32(v, 4), low),
                            eight));
      }
    } else {
      for (int t = 0; t < kSteps; ++t)
        _mm512_store_si512(
            packed + t * kStepBytes,
            _mm512_xor_si512(_mm512_i32gather_epi32(rows, block + 2 + 4 * t, 1),
                             flip));
    }
    // Each word's low half is the block's f16 scale.
    __m512i d = _mm512_i32gather_epi32(rows, block, 1);
    _mm512_store_ps(packed + kSteps * kStepBytes,
                    _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d)));
  }
}

/// The activation rows of one tile: their integers, the blocks' starting
/// sums (-offset·Σa) and scales.
struct Tile {
  const int8_t *a[kTileRows];
  const int32_t *start[kTileRows];
  const float *scale[kTileRows];
};

/// R activation rows by one group of 16 outputs on 512-bit vectors:
/// result[r][i] = output i for row r. The rows' integer sums advance a
/// step at a time together (R independent vpdpbusd chains), each step's
/// four activation bytes broadcast from memory.
template <int R>
TFM_VNNI void tileVnni(const uint8_t *group, int blocks, const Tile &x,
                       float (*result)[kGroup]) {
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    acc[r] = _mm512_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *packed = group + int64_t(b) * kPackedBlock;
    __m512i sum[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      sum[r] = _mm512_set1_epi32(x.start[r][b]);
#pragma GCC unroll 8
    for (int t = 0; t < kSteps; ++t) {
      __m512i w = _mm512_load_si512(packed + t * kStepBytes);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        sum[r] = _mm512_dpbusd_epi32(
            sum[r], w,
            _mm512_set1_epi32(int(load32(reinterpret_cast<const uint8_t *>(
                x.a[r] + b * kBlock + 4 * t)))));
    }
    __m512 dw = _mm512_load_ps(packed + kSteps * kStepBytes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r]),
                               _mm512_mul_ps(dw, _mm512_set1_ps(x.scale[r][b])),
                               acc[r]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    _mm512_storeu_ps(result[r], acc[r]);
}

/// The same on 256-bit vectors, one half of the group (8 outputs) at a
/// time. q4_0's pairs of products (at most 2·15·127) are summed over the
/// whole block in 16 bits before pmaddwd widens them; q8_0's weights are
/// made signed again (`signedWeights`: the layout's +128 undone, so the
/// sums start from 0) and multiplied by sign, as pmaddubsw wants.
template <int R, bool signedWeights>
TFM_AVX2 void tileAvx2(const uint8_t *group, int blocks, const Tile &x,
                       float (*result)[kGroup]) {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i flip = _mm256_set1_epi8(char(0x80));
  for (int half = 0; half < 2; ++half) {
    __m256 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < blocks; ++b) {
      const uint8_t *packed = group + int64_t(b) * kPackedBlock + 32 * half;
      __m256i sum[R], pairs[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        sum[r] = _mm256_set1_epi32(x.start[r][b]);
        pairs[r] = _mm256_setzero_si256();
      }
#pragma GCC unroll 8
      for (int t = 0; t < kSteps; ++t) {
        __m256i w = _mm256_load_si256(
            reinterpret_cast<const __m256i *>(packed + t * kStepBytes));
        __m256i ws = _mm256_xor_si256(w, flip);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          __m256i a = _mm256_set1_epi32(int(load32(
              reinterpret_cast<const uint8_t *>(x.a[r] + b * kBlock + 4 * t))));
          if constexpr (!signedWeights)
            pairs[r] = _mm256_add_epi16(pairs[r], _mm256_maddubs_epi16(w, a));
          else
            sum[r] = _mm256_add_epi32(
                sum[r], _mm256_madd_epi16(
                            _mm256_maddubs_epi16(_mm256_abs_epi8(ws),
                                                 _mm256_sign_epi8(a, ws)),
                            ones));
        }
      }
      __m256 dw = _mm256_load_ps(reinterpret_cast<const float *>(
          group + int64_t(b) * kPackedBlock + kSteps * kStepBytes + 32 * half));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        if constexpr (!signedWeights)
          sum[r] = _mm256_add_epi32(sum[r], _mm256_madd_epi16(pairs[r], ones));
        acc[r] = _mm256_fmadd_ps(
            _mm256_cvtepi32_ps(sum[r]),
            _mm256_mul_ps(dw, _mm256_set1_ps(x.scale[r][b])), acc[r]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      _mm256_storeu_ps(result[r] + 8 * half, acc[r]);
  }
}

/// AMX-INT8: tiles 0 and 1 hold the A tiles (rows0 and rows1 activation
/// rows × one block's 32 bytes), 2 and 3 the B tiles (one packed block of
/// two groups: its 8 steps as 8 rows of 64 bytes), 4-7 the products
/// C(a, b) = tile 4 + 2a + b.
TFM_AMX_INT8 void configureInt8Tiles(int rows0, int rows1) {
  TileConfig config;
  config.set(0, rows0, kBlock);
  config.set(2, kSteps, kStepBytes);
  config.set(3, kSteps, kStepBytes);
  config.set(4, rows0, kGroup * 4);
  config.set(5, rows0, kGroup * 4);
  if (rows1 > 0) {
    config.set(1, rows1, kBlock);
    config.set(6, rows1, kGroup * 4);
    config.set(7, rows1, kGroup * 4);
  }
  // GCC 12 does not see ldtilecfg read the configuration, and drops the
  // stores above without this.
  asm volatile("" : : "r"(&config) : "memory");
  _tile_loadconfig(&config);
}

TFM_AMX_INT8 void releaseInt8Tiles() { _tile_release(); }

constexpr int kAmxRows = 32; // activation rows per AMX block (2 A tiles)
constexpr int kAmxMinRows = 16; // fewer rows per call take VNNI
constexpr int kAmxCols = 32; // outputs per AMX block (2 groups)

/// Up to 32 activation rows for the AMX path: `a` the first one's
/// integers (`stride` bytes apart), scale[r] row r's block scales (the
/// last row's again past `rows`).
struct AmxRows {
  const int8_t *a;
  int64_t stride;
  int rows;
  const float *scale[kAmxRows];
};

/// acc[r][16c + i] += sums[r][i]·d_w(i)·d_a(r, b) for 16 rows from `r0`
/// of the C tile of group c, `packed` the group's block.
TFM_AMX_INT8 inline void addScaled(const int32_t *sums, const uint8_t *packed,
                                   const AmxRows &x, int r0, int c, int b,
                                   float (*acc)[kAmxCols]) {
  __m512 dw = _mm512_load_ps(packed + kSteps * kStepBytes);
#pragma GCC unroll 16
  for (int r = 0; r < kGroup; ++r) {
    float *row = acc[r0 + r] + kGroup * c;
    _mm512_store_ps(
        row, _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(
                                               sums + kGroup * r)),
                                           dw),
                             _mm512_set1_ps(x.scale[r0 + r][b]),
                             _mm512_load_ps(row)));
  }
}

/// The rows of `x` by the groups at `g0` and (where TwoB) `g1`, with the
/// tiles configured for its rows (TwoA: more than 16): acc[r][i] = output
/// i (of g0's 16, then g1's) for row r. Per block, the 2 × 2 tile products
/// are stored as integers and scaled into acc on vectors.
template <bool TwoA, bool TwoB>
TFM_AMX_INT8 void blockAmx(const uint8_t *g0, const uint8_t *g1, int blocks,
                           const AmxRows &x, float (*acc)[kAmxCols]) {
  alignas(64) int32_t sums[4][kGroup * kGroup];
  std::memset(acc, 0, sizeof(float) * kAmxRows * kAmxCols);
  const int8_t *a1 = x.a + kGroup * x.stride;
  for (int b = 0; b < blocks; ++b) {
    const uint8_t *p0 = g0 + int64_t(b) * kPackedBlock,
                  *p1 = g1 + int64_t(b) * kPackedBlock;
    _tile_loadd(0, x.a + b * kBlock, x.stride);
    _tile_loadd(2, p0, kStepBytes);
    _tile_zero(4);
    _tile_dpbssd(4, 0, 2);
    if (TwoB) {
      _tile_loadd(3, p1, kStepBytes);
      _tile_zero(5);
      _tile_dpbssd(5, 0, 3);
    }
    if (TwoA) {
      _tile_loadd(1, a1 + b * kBlock, x.stride);
      _tile_zero(6);
      _tile_dpbssd(6, 1, 2);
      if (TwoB) {
        _tile_zero(7);
        _tile_dpbssd(7, 1, 3);
      }
    }
    _tile_stored(4, sums[0], kGroup * 4);
    if (TwoB)
      _tile_stored(5, sums[1], kGroup * 4);
    if (TwoA) {
      _tile_stored(6, sums[2], kGroup * 4);
      if (TwoB)
        _tile_stored(7, sums[3], kGroup * 4);
    }
    addScaled(sums[0], p0, x, 0, 0, b, acc);
    if (TwoB)
      addScaled(sums[1], p1, x, 0, 1, b, acc);
    if (TwoA) {
      addScaled(sums[2], p0, x, kGroup, 0, b, acc);
      if (TwoB)
        addScaled(sums[3], p1, x, kGroup, 1, b, acc);
    }
  }
}

using AmxBlockFn = void (*)(const uint8_t *, const uint8_t *, int,
                            const AmxRows &, float (*)[kAmxCols]);
/// blockAmx by [TwoA][TwoB].
constexpr AmxBlockFn kAmxBlocks[2][2] = {
    {blockAmx<false, false>, blockAmx<false, true>},
    {blockAmx<true, false>, blockAmx<true, true>}};

/// The AMX path over one packed panel (`groups` groups, `nExtent`
/// outputs): out(n, s) for the activation rows of `act` and `actScale`,
/// written through `store(n0, s, values, count)`.
template <typename Store>
void panelAmx(const uint8_t *panel, int groups, int blocks, int nExtent,
              const halide_buffer_t *act, const halide_buffer_t *actScale,
              int32_t sMin, int32_t sExtent, int &configured,
              const Store &store) {
  alignas(64) float acc[kAmxRows][kAmxCols];
  int64_t groupBytes = int64_t(blocks) * kPackedBlock;
  for (int32_t s0 = 0; s0 < sExtent; s0 += kAmxRows) {
    AmxRows x;
    x.a = rowOf<int8_t>(act, sMin + s0);
    x.stride = act->dim[1].stride;
    x.rows = std::min(kAmxRows, sExtent - s0);
    for (int r = 0; r < kAmxRows; ++r)
      x.scale[r] = rowOf<float>(actScale, sMin + s0 + std::min(r, x.rows - 1));
    // The configuration as row counts, 0 for a second A tile not used.
    int rows0 = std::min(kGroup, x.rows), rows1 = x.rows - rows0;
    if (configured != rows0 * 64 + rows1) {
      configureInt8Tiles(rows0, rows1);
      configured = rows0 * 64 + rows1;
    }
    for (int g = 0; g < groups; g += 2) {
      bool twoB = g + 1 < groups;
      kAmxBlocks[rows1 > 0][twoB](panel + g * groupBytes,
                                  panel + (g + 1) * groupBytes, blocks, x, acc);
      int cols = std::min(kAmxCols, nExtent - g * kGroup);
      for (int r = 0; r < x.rows; ++r)
        store(g * kGroup, s0 + r, acc[r], cols);
    }
  }
}

using TileFn = void (*)(const uint8_t *, int, const Tile &, bool,
                        float (*)[kGroup]);

template <int R>
void vnni(const uint8_t *g, int blocks, const Tile &x, bool,
          float (*result)[kGroup]) {
  tileVnni<R>(g, blocks, x, result);
}

template <int R>
void avx2(const uint8_t *g, int blocks, const Tile &x, bool signedWeights,
          float (*result)[kGroup]) {
  if (signedWeights)
    tileAvx2<R, true>(g, blocks, x, result);
  else
    tileAvx2<R, false>(g, blocks, x, result);
}

/// The tile functions by row count (index R - 1).
constexpr TileFn kVnniTiles[kTileRows] = {vnni<1>, vnni<2>, vnni<3>, vnni<4>,
                                          vnni<5>, vnni<6>, vnni<7>, vnni<8>};
constexpr TileFn kAvx2Tiles[kTileRowsAvx2] = {avx2<1>, avx2<2>, avx2<3>,
                                              avx2<4>};

} // namespace

Int8GemmIsa int8GemmIsa() {
  if (dotIsa() != DotIsa::avx512vnni)
    return Int8GemmIsa::avx2;
  return amxInt8() ? Int8GemmIsa::amx : Int8GemmIsa::avx512vnni;
}

const char *int8GemmIsaName(Int8GemmIsa isa) {
  switch (isa) {
  case Int8GemmIsa::amx:
    return "amx-int8";
  case Int8GemmIsa::avx512vnni:
    return "avx512-vnni";
  case Int8GemmIsa::avx2:
    return "avx2";
  }
  return "avx2";
}

} // namespace tfm::rt

extern "C" int tfm_gemm_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                             halide_buffer_t *actScale, int32_t format,
                             int32_t k, int32_t pairStride,
                             halide_buffer_t *out) {
  using namespace tfm::rt;
  bool kQuant =
      format == tfm_gemm_weight_q4_K || format == tfm_gemm_weight_q6_K;
  if (!kQuant && format != tfm_gemm_weight_q4_0 &&
      format != tfm_gemm_weight_q8_0)
    return -1;
  const GemmWindow w(out);
  int32_t nMin = w.nMin, nExtent = w.nExtent, sMin = w.sMin,
          sExtent = w.sExtent;
  // The K-quants' blocks (and their activations') are of 256.
  int32_t block = kQuant ? 256 : kBlock;
  int32_t blocks = k / block, bytes = blockBytes(format);
  if (weight->is_bounds_query() || act->is_bounds_query() ||
      actScale->is_bounds_query()) {
    w.request(weight, blocks * bytes, act, k, pairStride);
    request(actScale, 0, 0, blocks);
    request(actScale, 1, sMin, sExtent);
    return 0;
  }
  if (k % block != 0 || weight->dim[0].stride != 1 ||
      act->dim[0].stride != 1 || actScale->dim[0].stride != 1)
    return -1;
  if (kQuant)
    return gemmKQuants(weight, act, actScale, format, k, pairStride, out);
  Int8GemmIsa isa = int8GemmIsa();
  // Below 16 rows the tiles lose to VNNI (measured: 2304 outputs × 768,
  // one thread, q4_0 and q8_0; even at 8 rows, ahead from 16).
  bool useAmx = isa == Int8GemmIsa::amx && sExtent >= kAmxMinRows;
  if (isa == Int8GemmIsa::amx && !useAmx)
    isa = Int8GemmIsa::avx512vnni;
  bool useVnni = isa != Int8GemmIsa::avx2;
  // The layout's weights are signed for AMX's tdpbssd, else unsigned,
  // what it adds to them (q4_0's 8, q8_0's 128) taken back from the sums;
  // but the AVX2 path makes q8_0's signed again (`signedWeights`).
  bool signedLayout = useAmx;
  bool signedWeights = !useVnni && format == tfm_gemm_weight_q8_0;
  int32_t offset = signedLayout || signedWeights ? 0
                   : format == tfm_gemm_weight_q4_0 ? 8
                                                    : 128;
  thread_local std::vector<int32_t> starts;
  if (!useAmx) {
    starts.resize(size_t(sExtent) * size_t(blocks));
    for (int32_t s = 0; s < sExtent; ++s) {
      const int8_t *a = rowOf<int8_t>(act, sMin + s);
      for (int32_t b = 0; b < blocks; ++b) {
        int32_t sum = 0;
        for (int i = 0; i < kBlock; ++i)
          sum += a[b * kBlock + i];
        starts[size_t(s) * blocks + b] = -offset * sum;
      }
    }
  }
  int groups = (nExtent + kGroup - 1) / kGroup;
  // The panel, 64-byte aligned for the vector loads.
  thread_local std::vector<uint8_t> storage;
  storage.resize(size_t(groups) * size_t(blocks) * kPackedBlock + 63);
  uint8_t *panel = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t(63));
  int tileRows = useVnni ? kTileRows : kTileRowsAvx2;
  const TileFn *tiles = useVnni ? kVnniTiles : kAvx2Tiles;
  alignas(64) float result[kTileRows][kGroup];
  int configured = 0; // the AMX tiles' configuration (panelAmx)
  for (int32_t j = w.jMin; j <= w.jMax; ++j) {
    const uint8_t *first = rowOf<uint8_t>(weight, nMin + j * pairStride);
    int64_t stride = weight->dim[1].stride;
    // The gathers' offsets (16 rows' strides) are 32-bit.
    bool gather = useVnni && stride <= INT32_MAX / kGroup;
    for (int g = 0; g < groups; ++g)
      if (gather && (g + 1) * kGroup <= nExtent)
        packGroupVnni(first, stride, format, blocks, g, signedLayout, panel);
      else
        packGroup(first, stride, nExtent, format, blocks, g, signedLayout,
                  panel);
    // Outputs n0.. of activation row s (from sMin).
    auto store = [&](int n0, int32_t s, const float *values, int count) {
      w.store(out, n0, j, s, values, count);
    };
    if (useAmx) {
      panelAmx(panel, groups, blocks, nExtent, act, actScale, sMin, sExtent,
               configured, store);
      continue;
    }
    for (int g = 0; g < groups; ++g) {
      const uint8_t *group = panel + int64_t(g) * blocks * kPackedBlock;
      int cols = std::min(kGroup, nExtent - g * kGroup);
      for (int32_t s0 = 0; s0 < sExtent; s0 += tileRows) {
        int count = std::min(tileRows, sExtent - s0);
        Tile x;
        for (int r = 0; r < count; ++r) {
          x.a[r] = rowOf<int8_t>(act, sMin + s0 + r);
          x.start[r] = starts.data() + size_t(s0 + r) * blocks;
          x.scale[r] = rowOf<float>(actScale, sMin + s0 + r);
        }
        tiles[count - 1](group, blocks, x, signedWeights, result);
        for (int r = 0; r < count; ++r)
          store(g * kGroup, s0 + r, result[r], cols);
      }
    }
  }
  if (configured)
    releaseInt8Tiles();
  return 0;
}
