//===- QuantDot.h - hand-written products for decode -------------*- C++ -*-===//
//
// Micro-kernels that the compiled decode products call through Halide's
// define_extern, for weight formats whose best instruction sequence Halide
// 14 cannot emit:
// - q4_0, q8_0, q4_K and q6_K (Q4_K_M's two formats) times 8-bit
//   activations want
//   unsigned integers multiplied by signed bytes four at a time
//   (AVX512-VNNI's vpdpbusd, or AVX2's pmaddubsw). Halide 14 emits the
//   first only for a target whose code this project's CPUs may not run,
//   and the second only for a saturating sum. As a Halide reduction, q4_0
//   took 24 instructions per block of 32 weights; here it takes about 8.
// - f16 wants F16C's vector widening, which Halide 14 emulates in integer
//   operations.
//
// The functions pick their instructions once, at the first call, from the
// CPU they run on (AVX-512 with VNNI, else AVX2). The environment variable
// TFM_DOT_ISA=avx2, or forceDotFallback, makes them take the AVX2 path on
// any machine, to test the fallback.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_QUANTDOT_H
#define TFM_RUNTIME_QUANTDOT_H

#include <HalideRuntime.h>

#include <cstdint>

extern "C" {

/// The product of q4_0 weight rows with activations rounded to q8_0, as an
/// extern stage: out(n, j, s) = Σ_k w(row, k)·a(k, s) with row = n +
/// j·pairStride (j selects the gate or the up half of a fused GLU weight;
/// extent 1 otherwise).
/// - weight: the rows' bytes, UInt(8) [k / 32 · 18, rows];
/// - act: the activations' integers, Int(8) [k, rows s];
/// - actSums: -8 times the sum of each 4 consecutive integers, Int(32)
///   [k / 4, s] (the nibbles are stored plus 8; this takes the 8 back);
/// - actScale: each block's scale d, Float(32) [k / 32, s].
/// Each block's integer sum is exact; it is scaled by the weight's and the
/// activations' scales per block in f32, as the interpreter does, the sum
/// over blocks taken in 8 or 16 lanes. Returns 0, or -1 for buffers whose
/// innermost dimension is not dense.
int tfm_dot_q4_0_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out);

/// The same for q8_0 weights (blocks of 32, 34 bytes: f16 d, 32 signed
/// integers): `actSums` holds -128 times the sums of each 4 integers
/// [k / 4, s] (the VNNI path adds 128 to the weights, this takes it back;
/// the AVX2 path multiplies signed integers and reads no sums).
int tfm_dot_q8_0_q8_0(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out);

/// The same for q4_K weights and activations rounded to q8_K (blocks of
/// 256, 144 bytes of weights): `actSums` holds the sums of each 32
/// integers [k / 32, s] (for the sub-blocks' minimums), `actScale` each
/// block's d [k / 256, s].
int tfm_dot_q4_K_q8_K(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out);

/// The same for q6_K weights (blocks of 256, 210 bytes) and q8_K
/// activations: `actSums` holds -32 times the sums of each 4 integers
/// [k / 4, s] (the 6-bit integers are stored plus 32).
int tfm_dot_q6_K_q8_K(halide_buffer_t *weight, halide_buffer_t *act,
                      halide_buffer_t *actSums, halide_buffer_t *actScale,
                      int32_t k, int32_t pairStride, halide_buffer_t *out);

/// The product of f16 weight rows, UInt(16) bits [k, rows], with f32
/// activations [k, s], outputs as above; summed in f32 in 16 lanes per
/// accumulator (8 on the fallback).
int tfm_dot_f16_f32(halide_buffer_t *weight, halide_buffer_t *act, int32_t k,
                    int32_t pairStride, halide_buffer_t *out);
}

namespace tfm::rt {

/// The instruction sets the micro-kernels choose among.
enum class DotIsa { avx2, avx512vnni };

/// The set the micro-kernels use on this CPU (after `forceFallback`).
DotIsa dotIsa();

/// Makes the micro-kernels take the AVX2 path (true) or the best the CPU
/// has (false), for tests of the fallback.
void forceDotFallback(bool fallback);

/// Whether the VNNI paths of q4_0 and q8_0 take 16 rows at a time, their
/// bytes by gathers (on CPUs whose gathers are fast: Intel's), or one row
/// at a time (elsewhere: AMD's Zen 4 gathers in microcode). TFM_DOT_ROWS=one
/// or forceOneRowAtATime(true) makes them take one at a time on any CPU.
bool rowsByGathers();

/// Makes the q4_0 and q8_0 VNNI paths take one row at a time (true) or
/// what rowsByGathers chooses for this CPU (false), for tests of both.
void forceOneRowAtATime(bool one);

} // namespace tfm::rt

#endif // TFM_RUNTIME_QUANTDOT_H
