//===- Lowering.h - the Halide lowering of one op family --------*- C++ -*-===//
//
// Each op family's file (Elementwise, Norm, Position, Linear, Attention,
// Moe) defines one rule per op: the op's Halide Funcs, read from the
// Funcs of its operands and defined for its results, and the stages a
// schedule template places. A family adds its rules to the table with its
// add…Lowerings function; Pipeline.cpp calls each of those once.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_HALIDE_OPS_LOWERING_H
#define TFM_COMPILER_HALIDE_OPS_LOWERING_H

#include "compiler/halide/Pipeline.h"
#include "dialects/Tfm/TfmOpTable.h"

#include "llvm/ADT/DenseMap.h"


namespace tfm::halide {

namespace ir = mlir::tfm;

/// The state of one kernel's lowering: the Func of every value defined so
/// far, the kernel's arguments, and the stages for the schedule.
class Lowering {
public:
  Lowering(ir::KernelOp kernel, const AlgorithmOptions &options)
      : decode_(kernel.isDecode()), options_(options) {
    auto schedule = kernel.getScheduleAttr();
    if (auto qkv = mlir::dyn_cast_or_null<ir::QkvScheduleAttr>(schedule))
      gemv_ = mlir::isa<ir::GemvScheduleAttr>(qkv.getProduct());
    else
      gemv_ = mlir::isa_and_nonnull<ir::GemvScheduleAttr>(schedule);
  }

  /// The Func (tensor), index expression (scalar) or cache buffers (keys,
  /// values) of a value of the kernel.
  Halide::Func f(mlir::Value v) const { return funcs_.at(v); }
  Halide::Expr scalar(mlir::Value v) const { return scalars_.at(v); }
  std::pair<Halide::Func, Halide::Func> cache(mlir::Value v) const {
    return caches_.at(v);
  }
  /// The buffer of a tensor argument of the kernel (undefined for a value
  /// computed in it).
  Halide::ImageParam image(mlir::Value v) const {
    auto it = images_.find(v);
    return it == images_.end() ? Halide::ImageParam() : it->second;
  }
  /// `v`'s Func, or an undefined one for an absent optional operand.
  Halide::Func optional(mlir::Value v) const {
    return v ? f(v) : Halide::Func();
  }

  /// Extent of MLIR dimension `dim` of `v`: static, or read from the input
  /// buffer it is (reductions only run over such dimensions).
  Halide::Expr extent(mlir::Value v, int64_t dim) const;
  /// The sequence extent of `v`: its dimension 0, traced back to the
  /// kernel argument it is computed from.
  Halide::Expr rowsOf(mlir::Value v) const;
  /// The static size of dimension `dim` of `v`.
  static int64_t size(mlir::Value v, int64_t dim);

  void define(mlir::Value result, Halide::Func func) { funcs_[result] = func; }
  /// A tensor argument: its buffer and the Func that reads it.
  void defineArgument(mlir::Value arg, Halide::ImageParam image,
                      Halide::Func func) {
    images_[arg] = image;
    funcs_[arg] = func;
  }
  void defineScalar(mlir::Value arg, Halide::Expr e) { scalars_[arg] = e; }
  /// A cache argument: its keys and values, read as f32.
  void defineCache(mlir::Value arg, Halide::Func keys, Halide::Func values) {
    caches_[arg] = {keys, values};
  }

  bool decode() const { return decode_; }
  /// Whether the kernel's product is tiled as a GEMV (a row at a time):
  /// decode's, and a prefill's LM head.
  bool gemv() const { return gemv_; }
  const AlgorithmOptions &options() const { return options_; }

  /// What the schedule templates place.
  Stages stages;

private:
  bool decode_, gemv_ = false;
  AlgorithmOptions options_;
  llvm::DenseMap<mlir::Value, Halide::Func> funcs_;
  llvm::DenseMap<mlir::Value, Halide::Expr> scalars_;
  llvm::DenseMap<mlir::Value, Halide::ImageParam> images_;
  llvm::DenseMap<mlir::Value, std::pair<Halide::Func, Halide::Func>> caches_;
};

/// The lowering rule of every op that has one, by op.
using LoweringTable = mlir::tfm::OpTable<void, Lowering>;

/// The families (one file each under ops/).
void addElementwiseLowerings(LoweringTable &table);
void addNormLowerings(LoweringTable &table);
void addPositionLowerings(LoweringTable &table);
void addLinearLowerings(LoweringTable &table);
void addAttentionLowerings(LoweringTable &table);
void addMoeLowerings(LoweringTable &table);

// Formulas one family lends another.

/// The activation `kind` of `x` (Elementwise.cpp).
Halide::Expr activate(ir::ActKind kind, Halide::Expr x);
/// alpha·lhs + rhs, as tfm.add computes it (Elementwise.cpp).
Halide::Func residualAdd(Halide::Func lhs, Halide::Func rhs, double alpha);

/// A norm's settings, as tfm.norm, tfm.add_norm and tfm.qkv_rope carry
/// them.
struct NormParams {
  int group;
  ir::NormKind kind;
  float eps;
  Halide::Func gain, bias;
  float gainOffset;
  /// The gain and bias have a value per feature of the row (a gain per
  /// head), not one per feature of a group.
  bool perFeature = false;
};
/// tfm.norm of `x` over groups of `group` features; its statistics are
/// written to `stats` (Norm.cpp).
Halide::Func normalize(Halide::Func x, const NormParams &params,
                       NormStages &stats, const std::string &prefix);

/// x · wᵀ (+ bias) over `k` features, where `weight` is w's value in the
/// kernel and `quant` the product's activation rounding: the stages of
/// `l.stages.product` (Linear.cpp).
Halide::Func product(Lowering &l, Halide::Func x, mlir::Value weight,
                     Halide::Func bias, std::optional<ir::ActQuant> quant);

/// tfm.rope of `x` (Position.cpp); the angle tables are the stages
/// `ropeCos` and `ropeSin`, built once per kernel and shared by every
/// rotation in it.
struct Rotation {
  Halide::Expr pos;
  int headDim, rotaryDim;
  ir::RopeLayout layout;
  llvm::SmallVector<double> inverseFrequencies;
  /// Multiplies cos and sin (YaRN's mscale).
  double attentionFactor = 1;
};
Halide::Func rotate(Lowering &l, Halide::Func x, const Rotation &rotation,
                    int features);

} // namespace tfm::halide

#endif // TFM_COMPILER_HALIDE_OPS_LOWERING_H
