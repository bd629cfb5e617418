//===- FusionUtils.h - helpers shared by the fusion passes ------*- C++ -*-===//

#ifndef TFM_PASSES_TRANSFORMS_FUSIONUTILS_H
#define TFM_PASSES_TRANSFORMS_FUSIONUTILS_H

#include "dialects/Tfm/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfm {

/// The body of a fusion pass: applies the patterns `populate` adds to
/// `root` until none matches.
inline LogicalResult applyFusion(Operation *root,
                                 void (*populate)(RewritePatternSet &)) {
  RewritePatternSet patterns(root->getContext());
  populate(patterns);
  return applyPatternsAndFoldGreedily(root, std::move(patterns));
}

/// True when every user of `v`, except `except`, comes after `point` in
/// its block (so a replacement built at `point` dominates them).
inline bool usersAfter(Value v, Operation *point, Operation *except = nullptr) {
  for (Operation *user : v.getUsers())
    if (user != except && (user->getBlock() != point->getBlock() ||
                           !point->isBeforeInBlock(user)))
      return false;
  return true;
}

/// A `tfm.weight` result: a compiled program can concatenate such tensors
/// once, when it loads the weights.
inline bool isWeight(Value v) { return v && v.getDefiningOp<WeightOp>(); }

/// True when the weights `parts` are stored alike (so they can be stacked).
inline bool sameStorage(ArrayRef<Value> parts) {
  for (Value p : parts)
    if (storageOf(p.getType()) != storageOf(parts.front().getType()))
      return false;
  return true;
}

/// The rows of `parts` (stored alike) stacked (a `tfm.concat`), built at
/// the builder's insertion point.
inline Value concatRows(OpBuilder &b, Location loc, ArrayRef<Value> parts) {
  auto first = cast<RankedTensorType>(parts.front().getType());
  SmallVector<int64_t> shape(first.getShape());
  shape[0] = 0;
  for (Value p : parts)
    shape[0] += cast<RankedTensorType>(p.getType()).getDimSize(0);
  return b.create<ConcatOp>(
      loc,
      RankedTensorType::get(shape, first.getElementType(), first.getEncoding()),
      parts);
}

} // namespace mlir::tfm

#endif // TFM_PASSES_TRANSFORMS_FUSIONUTILS_H
