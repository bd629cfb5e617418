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

  /// The 6-bit scale and min of sub-block j (0-7) of a q4_K or q5_K block
  /// (ggml's get_scale_min_k4).
  std::pair<Expr, Expr> scaleMinK4(Expr j) const {
    Expr a = byte(4 + j), c = byte(8 + j), d = byte(j);
    return {select(j < 4, a & 63, (c & 15) | ((d >> 6) << 4)),
            select(j < 4, c & 63, (c >> 4) | ((a >> 6) << 4))};
  }
  /// The 4-bit (q4_K) or 5-bit (q5_K) integer of element l (0-31) of
  /// sub-block j.
  Expr quantK45(bool five, Expr j, Expr l) const {
    Expr q = (byte((five ? 48 : 16) + j / 2 * 32 + l) >> (4 * (j % 2))) & 15;
    return five ? q | (((byte(16 + l) >> j) & 1) << 4) : q;
  }
  /// The signed 6-bit integer of q6_K's element l (0-31) of group `group`
  /// (0-3, of 32 elements) of half `h` (0-1, of 128 elements).
  Expr quantK6(Expr h, Expr group, Expr l) const {
    Expr low = (byte(h * 64 + group % 2 * 32 + l) >> (4 * (group / 2))) & 15;
    Expr high = (byte(128 + h * 32 + l) >> (2 * group)) & 3;
    return (low | (high << 4)) - 32;
  }
};

} // namespace

bool hasSignedInts(ir::Storage storage) {
  return storage == ir::Storage::q8_0 || storage == ir::Storage::q4_0 ||
         storage == ir::Storage::q5_0;
}

int integerLanes(ir::Storage storage) {
  return storage == ir::Storage::q4_0 || storage == ir::Storage::q5_0 ? 8
                                                                      : 16;
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
  switch (storage) {
  case ir::Storage::q4_K:
  case ir::Storage::q5_K: {
    auto [scale, min] = b.scaleMinK4(step);
    Expr q = b.quantK45(storage == ir::Storage::q5_K, step, element);
    return {cast<int16_t>(scale * q), b.half(0), min, b.half(2)};
  }
  case ir::Storage::q6_K: {
    // Each 16 elements have their own signed 8-bit scale.
    Expr scale = select(element < 16, b.signedByte(192 + 2 * step),
                        b.signedByte(193 + 2 * step));
    return {cast<int16_t>(scale * b.quantK6(step / 4, step % 4, element)),
            b.half(208),
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
  BlockReader b(storage, bytes, k, outer);
  Expr i = b.i;
  switch (storage) {
  case ir::Storage::q8_0:
    return cast<float>(b.signedByte(2 + i)) * b.half(0);
  case ir::Storage::q4_0:
    return cast<float>(b.nibble32(2) - 8) * b.half(0);
  case ir::Storage::q4_1:
    return cast<float>(b.nibble32(4)) * b.half(0) + b.half(2);
  case ir::Storage::q5_0:
    return cast<float>((b.nibble32(6) | (b.bit32(2) << 4)) - 16) * b.half(0);
  case ir::Storage::q5_1:
    return cast<float>(b.nibble32(8) | (b.bit32(4) << 4)) * b.half(0) +
           b.half(2);
  case ir::Storage::q2_K: {
    Expr scales = b.byte(i / 16);
    Expr q = (b.byte(16 + i / 128 * 32 + i % 32) >> (2 * (i % 128 / 32))) & 3;
    return b.half(80) * cast<float>(scales & 15) * cast<float>(q) -
           b.half(82) * cast<float>(scales >> 4);
  }
  case ir::Storage::q3_K: {
    Expr s = i / 16;
    Expr low = (b.byte(96 + s % 8) >> (4 * (s / 8))) & 15;
    Expr high = (b.byte(104 + s % 4) >> (2 * (s / 4))) & 3;
    Expr scale = (low | (high << 4)) - 32;
    Expr group = i % 128 / 32, l = i % 32;
    Expr q = (b.byte(32 + i / 128 * 32 + l) >> (2 * group)) & 3;
    Expr h = (b.byte(l) >> (i / 128 * 4 + group)) & 1;
    return b.half(108) * cast<float>(scale) * cast<float>(q - 4 + 4 * h);
  }
  case ir::Storage::q4_K:
  case ir::Storage::q5_K: {
    Expr j = i / 32;
    auto [scale, min] = b.scaleMinK4(j);
    Expr q = b.quantK45(storage == ir::Storage::q5_K, j, i % 32);
    return b.half(0) * cast<float>(scale) * cast<float>(q) -
           b.half(2) * cast<float>(min);
  }
  case ir::Storage::q6_K:
    return b.half(208) * cast<float>(b.signedByte(192 + i / 16)) *
           cast<float>(b.quantK6(i / 128, i % 128 / 32, i % 32));
  default:
    break;
  }
  throw CompileError("internal: no dequantizing for storage " +
                     ir::stringifyStorage(storage).str());
}

} // namespace tfm::halide
