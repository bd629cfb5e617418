//===- BfloatGemm.h - prefill products on bf16 matrix units ----*- C++ -*-===//
//
// The prefill product of bf16-rounded activations and a weight rounded to
// bf16, called by the compiled GEMMs through Halide's define_extern: on
// AMX tiles (tdpbf16ps) where the CPU has them and Linux grants their
// state, else on AVX512-BF16's vdpbf16ps, else on AVX2 FMAs over the
// widened values. Every path forms each output as the f32 sum of exact
// products of bf16 values (the order of the sum differs), which is what
// the interpreter computes for a product whose act_quant is bf16.
//
// Halide 14's own AMX path (MemoryType::AMXTile and the
// avx512_sapphirerapids target) recognises only a matrix product whose
// operands it already finds in the tiles' layouts, and its target's code
// uses instructions the CPUs without AMX lack; the pipelines here must
// run everywhere and choose at run time. So the tiles are driven here.
//
// Layout: each call packs its weight rows (a panel of outputs) once into
// the B tiles' layout, pairs of consecutive k side by side for 16 outputs
// per 64-byte row (converting f16 or f32 to bf16 on the way), then sweeps
// the activations' rows through it, two A tiles of 16 rows by two B tiles
// of 16 outputs into four f32 accumulator tiles.
//
// TFM_GEMM_ISA=avx2 or avx512 (or forceGemmIsa) restricts the paths, to
// test the fallbacks on any machine.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_BFLOATGEMM_H
#define TFM_RUNTIME_BFLOATGEMM_H

#include <HalideRuntime.h>

#include <cstdint>

extern "C" {

/// The weight formats tfm_gemm_bf16 reads (its `format` argument).
enum tfm_gemm_format {
  tfm_gemm_weight_bf16 = 0, // UInt(16) bf16 bits
  tfm_gemm_weight_f16 = 1,  // UInt(16) f16 bits
  tfm_gemm_weight_f32 = 2,  // Float(32)
};

/// out(n, j, s) = Σ_k bf16(w(row, k))·a(k, s), row = n + j·pairStride (j
/// selects the gate or the up half of a fused GLU weight; extent 1
/// otherwise), as an extern stage:
/// - weight: its rows [k, rows] in `format` (a tfm_gemm_format), rounded
///   to bf16 to nearest;
/// - act: the activations as bf16 bits, UInt(16) [k, s];
/// - k: a multiple of 32.
/// Returns 0, or -1 for buffers whose innermost dimension is not dense
/// or a k that is no multiple of 32.
int tfm_gemm_bf16(halide_buffer_t *weight, halide_buffer_t *act, int32_t format,
                  int32_t k, int32_t pairStride, halide_buffer_t *out);
}

namespace tfm::rt {

/// The instruction sets tfm_gemm_bf16 chooses among, in order.
enum class GemmIsa { avx2, avx512bf16, amx };

/// The path tfm_gemm_bf16 takes on this CPU (after forceGemmIsa and
/// TFM_GEMM_ISA).
GemmIsa gemmIsa();

/// Its name, for --bench output: "amx-bf16", "avx512-bf16" or "avx2".
const char *gemmIsaName(GemmIsa isa);

/// Whether gemmIsa() is amx and the CPU's tiles multiply 8-bit integers
/// too (AMX-INT8), for tfm_gemm_q8_0 (QuantGemm.h).
bool amxInt8();

/// Limits tfm_gemm_bf16 to `isa` and the paths below it (amx: no limit),
/// for tests of the fallbacks; below amx, tfm_gemm_q8_0 leaves its AMX
/// path too.
void forceGemmIsa(GemmIsa isa);

} // namespace tfm::rt

#endif // TFM_RUNTIME_BFLOATGEMM_H
