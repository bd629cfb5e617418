//===- TfmFolds.cpp - folds and canonicalizations of tfm ops ----*- C++ -*-===//
//
// Peepholes that keep the graph minimal before fusion: scaling by one is the
// identity, and two scalings in a row are one.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::tfm;

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  if (getFactor().convertToDouble() == 1.0)
    return getInput();
  return {};
}

namespace {
/// scale(scale(x, a), b) -> scale(x, a*b).
struct MergeScales : OpRewritePattern<ScaleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ScaleOp>();
    if (!inner)
      return failure();
    double factor =
        inner.getFactor().convertToDouble() * op.getFactor().convertToDouble();
    rewriter.replaceOpWithNewOp<ScaleOp>(op, inner.getInput(),
                                         rewriter.getF64FloatAttr(factor));
    return success();
  }
};
} // namespace

void ScaleOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<MergeScales>(context);
}
