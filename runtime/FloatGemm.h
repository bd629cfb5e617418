//===- FloatGemm.h - prefill products over f16 weights in f32 --*- C++ -*-===//
//
// The prefill product of f32 activations and f16 (or f32) weights in f32,
// as the interpreter computes a product without act_quant: each call packs
// its panel of outputs a block of 256 k at a time (f16 widened to f32,
// 32 outputs side by side for each k), then sweeps the activation rows
// through the block, 8 rows by 32 outputs in 16 accumulators on AVX-512
// (4 rows by 16 on AVX2), each block's sums added to the outputs' totals,
// so the f32 rounding grows with the block, not all of k (as the compiled
// GEMMs' k_block does).
//
// Measured (bench/RESULTS.md): the 1B-class model's f16 prefill on the
// Halide GEMM over widened weights ran at 53-68 GFLOP/s on one EPYC core.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_FLOATGEMM_H
#define TFM_RUNTIME_FLOATGEMM_H

#include <HalideRuntime.h>

#include <cstdint>

extern "C" {

/// out(n, j, s) = Σ_k w(row, k)·a(k, s) in f32, row = n + j·pairStride (j
/// selects the gate or the up half of a fused GLU weight; extent 1
/// otherwise), as an extern stage:
/// - weight: its rows [k, rows] as f16 bits (UInt(16), format
///   tfm_gemm_weight_f16) or f32 (tfm_gemm_weight_f32), BfloatGemm.h's
///   formats;
/// - act: Float(32) [k, s];
/// - k: a multiple of 16.
/// AVX-512 where tfm_gemm_bf16 takes it (BfloatGemm.h's gemmIsa), else
/// AVX2. Returns 0, or -1 for buffers whose innermost dimension is not
/// dense, another format or a k that is no multiple of 16.
int tfm_gemm_f32(halide_buffer_t *weight, halide_buffer_t *act, int32_t format,
                 int32_t k, int32_t pairStride, halide_buffer_t *out);
}

#endif // TFM_RUNTIME_FLOATGEMM_H
