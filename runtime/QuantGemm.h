//===- QuantGemm.h - prefill products in 8-bit integers ---------*- C++ -*-===//
//
// The prefill product of q4_0 or q8_0 weights and activations rounded to
// q8_0 (or of q4_K or q6_K weights and activations rounded to q8_K), called by the compiled GEMMs through Halide's define_extern, as
// llama.cpp computes it: each block of 32 is an exact integer sum, scaled
// by the weight's and the activations' scales and summed in f32. The
// decode products (QuantDot.h) read each weight row once against one
// activation row; a prefill reads it against every row of the prompt, so
// here each call first packs its panel of weight rows into the layout the
// integer instructions want and then sweeps the activations through it:
// - AVX512-VNNI: one vpdpbusd multiplies four unsigned weight bytes by
//   four signed activation bytes in each of 16 lanes. A lane is an output
//   row: its four bytes are that row's four consecutive k, and the four
//   activation bytes are the same for every lane (a broadcast). A block of
//   32 is 8 such steps for 16 rows, against 32 FMAs over dequantized
//   weights.
// - AVX2 (the fallback): pmaddubsw and pmaddwd do the same in 8 lanes.
//
// Weights are unsigned in the layout: q4_0's nibbles as they are stored
// (0-15, the format's -8 taken back from the activations' block sums),
// q8_0's integers plus 128 (taken back likewise; on AVX2, whose pmaddubsw
// would saturate, they are made signed again and multiplied by sign).
//
// - AMX-INT8: one tdpbssd multiplies a tile of 16 activation rows by a
//   block of 32 k by the packed block of 16 outputs (the VNNI layout is
//   the B tile's: 8 rows of 16 outputs × 4 bytes), weights signed; the
//   integer sums of each block are then scaled on 512-bit vectors. Calls
//   of fewer than 16 activation rows take VNNI, which is faster there.
//
// The path is int8GemmIsa(): TFM_GEMM_ISA=avx512 (or forceGemmIsa) keeps
// it off the tiles, TFM_DOT_ISA=avx2 (or forceDotFallback) makes it take
// AVX2, on any machine.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_QUANTGEMM_H
#define TFM_RUNTIME_QUANTGEMM_H

#include <HalideRuntime.h>

#include <cstdint>

extern "C" {

/// The weight formats tfm_gemm_q8_0 reads (its `format` argument).
enum tfm_gemm_int8_format {
  tfm_gemm_weight_q4_0 = 0, // blocks of 32: f16 d, 16 bytes of nibbles
  tfm_gemm_weight_q8_0 = 1, // blocks of 32: f16 d, 32 signed bytes
  tfm_gemm_weight_q4_K = 2, // blocks of 256 (144 bytes), q8_K activations
  tfm_gemm_weight_q6_K = 3, // blocks of 256 (210 bytes), q8_K activations
};

/// out(n, j, s) = Σ_b d_w(row, b)·d_a(b, s)·Σ_{k in b} q_w(row, k)·q(k, s),
/// row = n + j·pairStride (j selects the gate or the up half of a fused
/// GLU weight; extent 1 otherwise), as an extern stage:
/// - weight: the rows' bytes in `format`, UInt(8) [k / 32 · bytes, rows];
/// - act: the activations' integers q, Int(8) [k, s];
/// - actScale: each block's scale d_a, Float(32) [k / 32, s];
/// - k: a multiple of 32.
/// For q4_K and q6_K (QuantGemmK.cpp) the activations are rounded to q8_K:
/// blocks of 256, actScale [k / 256, s], k a multiple of 256; each block's
/// product is d_w·d_a·Σ_u scale_u·Σ_{k in u} q_w·q (less, for q4_K,
/// dmin·d_a·Σ_u min_u·Σ_{k in u} q), the units u of 32 (q4_K) or 16 (q6_K)
/// k that share a scale.
/// Returns 0, or -1 for buffers whose innermost dimension is not dense or
/// an unknown format.
int tfm_gemm_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                  halide_buffer_t *actScale, int32_t format, int32_t k,
                  int32_t pairStride, halide_buffer_t *out);
}

namespace tfm::rt {

/// The instruction sets tfm_gemm_q8_0 chooses among, in order.
enum class Int8GemmIsa { avx2, avx512vnni, amx };

/// The path tfm_gemm_q8_0 takes on this CPU: AMX where BfloatGemm.h's
/// amxInt8() says so (not below forceGemmIsa's limit or TFM_GEMM_ISA's),
/// else QuantDot.h's dotIsa().
Int8GemmIsa int8GemmIsa();

/// Its name, for --bench output: "amx-int8", "avx512-vnni" or "avx2".
const char *int8GemmIsaName(Int8GemmIsa isa);

/// tfm_gemm_q8_0 for the K-quant formats (QuantGemmK.cpp), which take
/// VNNI (or AVX2) on every CPU: the same arguments, once tfm_gemm_q8_0 has
/// answered the bounds query and checked k and the buffers.
int gemmKQuants(halide_buffer_t *weight, halide_buffer_t *act,
                halide_buffer_t *actScale, int32_t format, int32_t k,
                int32_t pairStride, halide_buffer_t *out);

} // namespace tfm::rt

#endif // TFM_RUNTIME_QUANTGEMM_H
