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

} // namespace tfm::rt

#endif // TFM_RUNTIME_QUANT_H
