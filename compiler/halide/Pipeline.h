//===- Pipeline.h - a tfm.kernel as a Halide pipeline -----------*- C++ -*-===//
//
// The algorithm half of the backend: one Halide Func per op of a kernel,
// composed (elementwise ops inline into their producer), each op lowered by
// its family's rule (ops/). The schedule half lives in schedules/<target>/
// and places the stages the rules name by role (Stages).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_HALIDE_PIPELINE_H
#define TFM_COMPILER_HALIDE_PIPELINE_H

#include "dialects/Tfm/TfmOps.h"

#include "Halide.h"

#include <map>
#include <string>
#include <vector>

namespace tfm::halide {

/// The f32 value of f16 bits `bits` (a UInt(16) expression), exactly, for
/// every bit pattern (subnormals, infinities and NaNs included).
Halide::Expr widenF16(Halide::Expr bits);

/// Weight `k` of the row at `outer` of a block-format weight whose bytes
/// are `bytes` (dimension 0: the bytes of a row), as f32 (Dequant.cpp).
Halide::Expr dequantize(mlir::tfm::Storage storage, Halide::ImageParam bytes,
                        Halide::Expr k, const std::vector<Halide::Expr> &outer);

/// Whether a 32-element block format's weights are one scale times a
/// signed 8-bit integer (q8_0, q4_0, q5_0): the formats whose products
/// take 8-bit activations in integers.
bool hasSignedInts(mlir::tfm::Storage storage);
/// Whether a K-quant's weights are a block scale times small integers
/// with their sub-block scales multiplied in (q4_K, q5_K, q6_K; the first
/// two less a minimum per sub-block): the K-quants whose products take
/// 8-bit activations in integers.
bool hasKInts(mlir::tfm::Storage storage);
/// Element `element` (0-31) of step `step` (0-7, of 32 elements) of block
/// `block` of a row of such a format: its integer with the sub-block scale
/// multiplied in (`value`, Int(16)), the block's scale (`scale`), and for
/// q4_K and q5_K the step's minimum (`min`, Int(32)) and the block's scale
/// of minimums (`minScale`): the element dequantizes to value·scale −
/// min·minScale.
struct KInts {
  Halide::Expr value, scale, min, minScale;
};
KInts kInts(mlir::tfm::Storage storage, Halide::ImageParam bytes,
            Halide::Expr block, Halide::Expr step, Halide::Expr element,
            const std::vector<Halide::Expr> &outer);

/// The lanes an integer product over such a format sums each 32 elements
/// in: 16 for q8_0 (its 32 bytes in order) and the K-quants, 8 for a
/// nibble format of 32-element blocks (whose byte j holds elements j and
/// j + 16, so each block is two halves of 16).
int integerLanes(mlir::tfm::Storage storage);
/// Element `low` + 16·`half` of block `block` of a row (low < 16 for a
/// nibble format, < 32 for q8_0 with half 0) as its integer (Int(8)), and
/// the block's scale (f32): dequantize() is their product.
std::pair<Halide::Expr, Halide::Expr>
signedInt(mlir::tfm::Storage storage, Halide::ImageParam bytes,
          Halide::Expr block, Halide::Expr low, Halide::Expr half,
          const std::vector<Halide::Expr> &outer);

/// A projection's product x·wᵀ: the reduction over k, what it reads, and
/// its domain.
struct ProductStages {
  Halide::Func dot, input, weight;
  Halide::RDom k;
  /// Elements per block of the weight's storage (1 for a float type): a
  /// schedule keeps each block's scales in registers across its elements.
  int block = 1;
  /// A product whose activations are rounded per block (act_quant): each
  /// block's scale and its inverse (`actScale`, by block and row), and the
  /// input as the product reads it, rounded to q·d (`input`); for q8_0,
  /// the blocks of a row (`actBlocks`; 0 otherwise).
  Halide::Func actScale;
  int actBlocks = 0;
  /// A product at bf16 precision: the input rounded to bf16 (also `input`).
  Halide::Func actBf16;
  /// The integer form of a decode product over 8-bit activations: `actInts`
  /// holds the activations' q (as Int(16); a micro-kernel's product reads
  /// them too), and, when Halide forms the product (`intSum`, defined only
  /// then), `intSum` per lane of a block the products of its pairs of
  /// weights and activations (`pair`: x the pair, y the block's half),
  /// `intAcc` each lane's scaled sum over the blocks (`blocks`), and `dot`
  /// the sum of the lanes (`lanes`).
  Halide::Func actInts, intSum, intAcc;
  Halide::RDom pair, blocks, lanes;
  /// For the K-quants: the activations' sums over each 32 elements
  /// (`actSums`), and the sub-block minimums' share of the product
  /// (`intMins`, q4_K and q5_K).
  Halide::Func actSums, intMins;
  /// A decode product formed by a hand-written micro-kernel (an extern
  /// stage, runtime/QuantDot.h): `externDot` over (n, j, s), and what it
  /// reads besides the weight, computed once per call (`externInputs`:
  /// the activations as it wants them, rounded and summed or as they are).
  Halide::Func externDot;
  std::vector<Halide::Func> externInputs;
  /// A prefill product formed by the bf16 micro-kernel
  /// (runtime/BfloatGemm.h): its outputs (per half of a GLU), which a
  /// schedule splits into whole panels; 0 otherwise.
  int externGemmOutputs = 0;
};

/// A norm's per-row statistics: the sum of squares (of deviations from the
/// mean, for a LayerNorm) and the sum for the mean.
struct NormStages {
  Halide::Func stats, mean;
};

/// An attention's stages. Chunked attention over a cache (tfm.cached_
/// attention) also has the chunk stages and the `chunks` domain.
struct AttentionStages {
  Halide::Func keysT, qk, logits, max, prob, denom, weighted;
  Halide::Func chunkMax, chunkDenom, chunkWeighted, partials, chunkScale;
  Halide::RDom keys, headDim, chunks;
};

/// A mixture of experts' routing and expert products.
struct MoeStages {
  Halide::Func routerLogits, routerScore, routerMax, routerDenom, rank, chosen,
      weight, total, expertGate, expertUp, expertOut, routed;
  /// Group-limited routing: each group's best score, the groups' ranks
  /// and the scores outside the chosen groups zeroed.
  Halide::Func groupBest, groupRank, limited;
  Halide::Func sharedRouter, sharedGate, sharedUp, sharedOut;
  /// Every stage above that the kernel has.
  std::vector<Halide::Func> all() const;
};

/// The stages the schedule templates place, by role. A role the kernel
/// does not have is an undefined Func (or RDom).
struct Stages {
  /// The product of the kernel's projection (tfm.linear, tfm.lm_head,
  /// tfm.linear_glu, tfm.qkv_rope).
  ProductStages product;
  /// tfm.qkv_rope's whole product, which Q, K and V read columns of.
  Halide::Func qkvProduct;
  /// A norm read by the kernel's projection, computed before the product.
  Halide::Func prologue;
  /// The statistics of the kernel's norm (a norm kernel's or the
  /// prologue's), and of tfm.qkv_rope's QK-norms.
  NormStages norm, qNorm, kNorm;
  /// RoPE's angle tables, shared by every rotation of the kernel.
  Halide::Func ropeCos, ropeSin;
  AttentionStages attention;
  MoeStages moe;
};

/// The Halide form of one kernel. Coordinates are innermost first: element
/// (s, c) of a `seq x features` tensor is func(c, s).
struct KernelPipeline {
  /// The kernel's block arguments in order, then nothing else: the output
  /// buffer comes last in the compiled function's signature.
  std::vector<Halide::Argument> arguments;
  /// The same arguments as objects a caller can bind values to (for JIT
  /// tests): images (tensors) and scalars (indices), by argument position.
  std::map<size_t, Halide::ImageParam> images;
  std::map<size_t, Halide::Param<int32_t>> scalars;
  /// KV caches: their keys and values, every position (two arguments).
  std::map<size_t, std::pair<Halide::ImageParam, Halide::ImageParam>> caches;
  /// The kernel's results, in yield order; `output` is the first.
  std::vector<Halide::Func> outputs;
  Halide::Func output;
  /// Outputs computed row by row beside the anchor's (by position in
  /// `outputs`): the results of a tfm.add_norm.
  std::vector<size_t> rowOutputs;
  /// The output at whose rows the norm statistics are computed, for
  /// row-wise kernels.
  Halide::Func statsOwner;
  /// The number of rows (the sequence extent) of the kernel's input.
  Halide::Expr rows;
  bool decode = false;
  /// The stages the schedule templates place.
  Stages stages;
  /// The pure coordinates of the output, innermost first.
  std::vector<Halide::Var> vars;
  /// Static extents of the output, innermost first (-1: dynamic).
  std::vector<int64_t> extents;
};

/// The one choice of a schedule that shapes the algorithm itself: the
/// length of the key chunks a cached attention merges.
struct AlgorithmOptions {
  int kvChunk = 256;
};

/// The algorithm options the kernel's schedule asks for.
AlgorithmOptions algorithmOptions(mlir::tfm::KernelOp kernel);

/// Builds the algorithm of `kernel` from the lowering rule of each of its
/// ops (ops/). Throws Halide::Error (or CompileError) on internal
/// inconsistencies and for an op that has no rule.
KernelPipeline buildPipeline(mlir::tfm::KernelOp kernel,
                             const AlgorithmOptions &options);

/// Applies the CPU schedule template the kernel's schedule attribute is
/// for, with its parameters.
void scheduleCpu(KernelPipeline &pipeline,
                 mlir::tfm::ScheduleAttrInterface schedule,
                 const Halide::Target &target);

/// The micro-kernels that kernels call as extern stages
/// (runtime/QuantDot.h), by symbol, for pipelines compiled in this process
/// (JIT); compiled programs link them from the runtime library.
std::map<std::string, Halide::JITExtern> jitExterns();

} // namespace tfm::halide

#endif // TFM_COMPILER_HALIDE_PIPELINE_H
