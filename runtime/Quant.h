//===- Quant.h - GGUF block formats: layouts, dequantizing, quantizing -*- C++ -*-===//
//
// The block formats of llama.cpp's GGUF files (q8_0, q4_0, q4_1, q5_0, q5_1
// and the K-quants q2_K ... q6_K). A row of n weights is n / elements
// blocks, each `bytes` long; the block layouts are ggml's, byte for byte,
// so files move between tfm and llama.cpp unchanged.
//
// Dequantizing is exact (as ggml's to_float: each weight is its block's
// scale times its integer, less the block's offset, in f32). The compiled
// kernels compute the same values in registers (compiler/halide/Dequant.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_QUANT_H
#define TFM_RUNTIME_QUANT_H

#include "runtime/WeightFile.h"

#include <cstdint>

namespace tfm::rt {

/// Elements per block of a storage type (1 for f32, f16, bf16).
int64_t blockElements(DType storage);
/// Bytes per block of a storage type (the element size for f32, f16, bf16).
int64_t blockBytes(DType storage);
/// True for the GGUF block formats.
inline bool isBlockFormat(DType storage) { return blockElements(storage) > 1; }
/// Bytes of `n` elements of `storage`; -1 when `n` is not a whole number of
/// blocks or the size overflows.
int64_t storageSize(DType storage, int64_t n);

/// Dequantizes `n` elements (whole blocks) of block format `storage` at
/// `in` (any alignment) into `out`.
void dequantize(DType storage, const uint8_t *in, int64_t n, float *out);

/// Quantizes `n` f32 values (whole blocks) into block format `storage` at
/// `out`: each block's scales from its own values, every integer the
/// nearest for them. (llama.cpp's quantizer searches scales to minimize the
/// error; this one is simpler, and its files load in either.)
void quantize(DType storage, const float *in, int64_t n, uint8_t *out);

/// How a product's activations are rounded before they meet a block-format
/// weight, as llama.cpp's CPU kernels do it (their "vec_dot types"):
/// - q8_0, for q8_0, q4_0 and q5_0 weights: blocks of 32, scale amax/127
///   stored as f16, each value x·(127/amax) rounded to nearest, ties to
///   even;
/// - q8_K, for the K-quants: blocks of 256, scale 1/(-127/max) as f32
///   (max the value of largest magnitude, the first one if several), each
///   value x·(-127/max) rounded to nearest, ties to even, at most 127.
enum class ActQuant { Q8_0, Q8_K };

/// Elements per block of an activation rounding (32 or 256).
int64_t actQuantBlock(ActQuant quant);

/// Rounds `n` activations (whole blocks of `quant`) at `x` to their
/// quantized values, q·d per element, into `out` (may alias `x`). A
/// product over these values and the dequantized weights is the same sum
/// llama.cpp forms in integers, up to f32 rounding of the sum's order.
void roundActivations(ActQuant quant, const float *x, int64_t n, float *out);

/// Stores `n` values (whole blocks) at `in` as `storage` at `out`
/// (storageSize bytes): f32 as they are, f16 and bf16 rounded to nearest
/// even, a block format as quantize() writes it. The KV cache is written
/// this way, by the programs and by the interpreter alike.
void storeValues(DType storage, const float *in, int64_t n, uint8_t *out);
/// The f32 values of `n` elements stored as `storage` at `in`.
void loadValues(DType storage, const uint8_t *in, int64_t n, float *out);

} // namespace tfm::rt

#endif // TFM_RUNTIME_QUANT_H
