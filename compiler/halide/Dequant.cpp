//===- Dequant.cpp - GGUF block formats, dequantized in registers -*- C++ -*-===//
//
// A block-format weight comes to a kernel as its bytes: a row of K weights
// is K / E blocks of B bytes (runtime/Quant.cpp gives the layouts). Weight
// k of a row is computed from the bytes of its block as it is loaded, in
// the same f32 operations, in the same order, as the runtime's (and so the
// interpreter's) dequantizing: the kernel reads the values the interpreter
// computes with.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Pipeline.h"
#include "compiler/StorageTypes.h"
#include "runtime/Quant.h"

using namespace Halide;

namespace tfm::halide {

namespace ir = mlir::tfm;

namespace {

/// The bytes of weight k's block, read as the formats need them.
struct BlockReader {
  ImageParam bytes;
  Expr i, base;
  std::vector<Expr> outer;

  BlockReader(ir::Storage storage, ImageParam bytes, Expr k,
              const std::vector<Expr> &outer)
      : bytes(bytes), outer(outer) {
    int elements = int(ir::blockElements(storage));
    i = k % elements;
    base = k / elements * int(rt::blockBytes(runtimeStorage(storage)));
  }
  /// Byte `offset` of the block, as an Int(32).
  Expr byte(Expr offset) const {
    std::vector<Expr> at{base + offset};
    at.insert(at.end(), outer.begin(), outer.end());
    return cast<int32_t>(bytes(at));
  }
  Expr signedByte(Expr offset) const {
    std::vector<Expr> at{base + offset};
    at.insert(at.end(), outer.begin(), outer.end());
    return cast<int32_t>(reinterpret<int8_t>(bytes(at)));
  }
  /// A scale: the f16 at `offset`, widened by the CPU's conversion
  /// instruction (F16C's vcvtph2ps, through LLVM's fp16 intrinsic; Halide
  /// 14 would emulate a Float(16) cast in a dozen integer operations).
  /// Exact for every bit pattern; a NaN comes out quiet.
  Expr half(int offset) const {
    Expr bits = cast<uint16_t>(byte(offset)) |
                (cast<uint16_t>(byte(offset + 1)) << 8);
    return Internal::Call::make(Float(32), "llvm.convert.from.fp16.f32",
                                {bits}, Internal::Call::PureExtern);
  }
  /// Element i of a 32-element block of nibbles at `qs`: element j's low
  /// nibble, element j + 16's high one.
  Expr nibble32(int qs) const {
    return (byte(qs + i % 16) >> (4 * (i / 16))) & 15;
  }
  /// Element i's bit of a 32-bit mask at `qh` (little-endian).
  Expr bit32(int qh) const { return (byte(qh + i / 8) >> (i % 8)) & 1; }
};

} // namespace

bool hasSignedInts(ir::Storage storage) {
  return storage == ir::Storage::q8_0 || storage == ir::Storage::q4_0 ||
         storage == ir::Storage::q5_0;
}

int integerLanes(ir::Storage storage) {
  return storage == ir::Storage::q8_0 ? 16 : 8;
}

std::pair<Expr, Expr> signedInt(ir::Storage storage, ImageParam bytes,
                                Expr block, Expr low, Expr half,
                                const std::vector<Expr> &outer) {
  BlockReader b(storage, bytes, block * 32, outer);
  // The low nibble of byte `low` at `qs` for half 0, its high one for 1.
  auto nibble = [&](int qs) { return (b.byte(qs + low) >> (4 * half)) & 15; };
  switch (storage) {
  case ir::Storage::q8_0:
    return {cast<int8_t>(b.signedByte(2 + low + 16 * half)), b.half(0)};
  case ir::Storage::q4_0:
    return {cast<int8_t>(nibble(2) - 8), b.half(0)};
  case ir::Storage::q5_0: {
    // The 32 fifth bits as one little-endian word.
    Expr high = cast<uint32_t>(b.byte(2)) | (cast<uint32_t>(b.byte(3)) << 8) |
                (cast<uint32_t>(b.byte(4)) << 16) |
                (cast<uint32_t>(b.byte(5)) << 24);
    Expr bit = cast<int32_t>((high >> cast<uint32_t>(low + 16 * half)) & 1);
    return {cast<int8_t>((nibble(6) | (bit << 4)) - 16), b.half(0)};
  }
  default:
    break;
  }
  throw CompileError("internal: storage " +
                     ir::stringifyStorage(storage).str() +
                     " has no signed 8-bit integers");
}

bool hasKInts(ir::Storage storage) {
  return storage == ir::Storage::q4_K || storage == ir::Storage::q5_K ||
         storage == ir::Storage::q6_K;
}

KInts kInts(ir::Storage storage, ImageParam bytes, Expr block, Expr step,
            Expr element, const std::vector<Expr> &outer) {
  BlockReader b(storage, bytes, block * 256, outer);
  Expr e = element;
  switch (storage) {
  case ir::Storage::q4_K:
  case ir::Storage::q5_K: {
    bool five = storage == ir::Storage::q5_K;
    Expr j = step;
    // The 6-bit scale and min of sub-block j (ggml's get_scale_min_k4).
    Expr a = b.byte(4 + j), c = b.byte(8 + j), d = b.byte(j);
    Expr scale = select(j < 4, a & 63, (c & 15) | ((d >> 6) << 4));
    Expr min = select(j < 4, c & 63, (c >> 4) | ((a >> 6) << 4));
    Expr q =
        (b.byte((five ? 48 : 16) + j / 2 * 32 + e) >> (4 * (j % 2))) & 15;
    if (five)
      q = q | (((b.byte(16 + e) >> j) & 1) << 4);
    return {cast<int16_t>(scale * q), b.half(0), min, b.half(2)};
  }
  case ir::Storage::q6_K: {
    Expr h = step / 4, group = step % 4;
    Expr low = (b.byte(h * 64 + group % 2 * 32 + e) >> (4 * (group / 2))) & 15;
    Expr high = (b.byte(128 + h * 32 + e) >> (2 * group)) & 3;
    // Each 16 elements have their own signed 8-bit scale.
    Expr scale = select(e < 16, b.signedByte(192 + 2 * step),
                        b.signedByte(193 + 2 * step));
    return {cast<int16_t>(scale * ((low | (high << 4)) - 32)), b.half(208),
            Expr(), Expr()};
  }
  default:
    break;
  }
  throw CompileError("internal: storage " +
                     ir::stringifyStorage(storage).str() +
                     " has no integers for q8_K activations");
}

Expr dequantize(ir::Storage storage, ImageParam bytes, Expr k,
                const std::vector<Expr> &outer) {
  BlockReader reader(storage, bytes, k, outer);
  Expr i = reader.i;
  auto byte = [&](Expr offset) { return reader.byte(offset); };
  auto signedByte = [&](Expr offset) { return reader.signedByte(offset); };
  auto half = [&](int offset) { return reader.half(offset); };
  auto nibble32 = [&](int qs) { return reader.nibble32(qs); };
  auto bit32 = [&](int qh) { return reader.bit32(qh); };

  switch (storage) {
  case ir::Storage::q8_0:
    return cast<float>(signedByte(2 + i)) * half(0);
  case ir::Storage::q4_0:
    return cast<float>(nibble32(2) - 8) * half(0);
  case ir::Storage::q4_1:
    return cast<float>(nibble32(4)) * half(0) + half(2);
  case ir::Storage::q5_0:
    return cast<float>((nibble32(6) | (bit32(2) << 4)) - 16) * half(0);
  case ir::Storage::q5_1:
    return cast<float>(nibble32(8) | (bit32(4) << 4)) * half(0) + half(2);
  case ir::Storage::q2_K: {
    Expr scales = byte(i / 16);
    Expr q = (byte(16 + i / 128 * 32 + i % 32) >> (2 * (i % 128 / 32))) & 3;
    return half(80) * cast<float>(scales & 15) * cast<float>(q) -
           half(82) * cast<float>(scales >> 4);
  }
  case ir::Storage::q3_K: {
    Expr s = i / 16;
    Expr low = (byte(96 + s % 8) >> (4 * (s / 8))) & 15;
    Expr high = (byte(104 + s % 4) >> (2 * (s / 4))) & 3;
    Expr scale = (low | (high << 4)) - 32;
    Expr group = i % 128 / 32, l = i % 32;
    Expr q = (byte(32 + i / 128 * 32 + l) >> (2 * group)) & 3;
    Expr h = (byte(l) >> (i / 128 * 4 + group)) & 1;
    return half(108) * cast<float>(scale) * cast<float>(q - 4 + 4 * h);
  }
  case ir::Storage::q4_K:
  case ir::Storage::q5_K: {
    bool five = storage == ir::Storage::q5_K;
    Expr j = i / 32;
    // The 6-bit scale and min of sub-block j (ggml's get_scale_min_k4).
    Expr a = byte(4 + j), b = byte(8 + j), c = byte(j);
    Expr scale = select(j < 4, a & 63, (b & 15) | ((c >> 6) << 4));
    Expr min = select(j < 4, b & 63, (b >> 4) | ((a >> 6) << 4));
    Expr q = (byte((five ? 48 : 16) + i / 64 * 32 + i % 32) >> (4 * (j % 2))) &
             15;
    if (five)
      q = q | (((byte(16 + i % 32) >> j) & 1) << 4);
    return half(0) * cast<float>(scale) * cast<float>(q) -
           half(2) * cast<float>(min);
  }
  case ir::Storage::q6_K: {
    Expr h = i / 128, group = i % 128 / 32, l = i % 32;
    Expr low = (byte(h * 64 + group % 2 * 32 + l) >> (4 * (group / 2))) & 15;
    Expr high = (byte(128 + h * 32 + l) >> (2 * group)) & 3;
    return half(208) * cast<float>(signedByte(192 + i / 16)) *
           cast<float>((low | (high << 4)) - 32);
  }
  default:
    break;
  }
  throw CompileError("internal: no dequantizing for storage " +
                     ir::stringifyStorage(storage).str());
}

} // namespace tfm::halide
