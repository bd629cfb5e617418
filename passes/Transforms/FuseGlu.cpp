//===- FuseGlu.cpp - the tfm-fuse-glu pass ----------------------*- C++ -*-===//
//
// glu(act, linear(x, Wg), linear(x, Wu)) → linear_glu(act, x, [Wg; Wu]):
// one product streams both matrices, and act(gate)·up happens on the
// accumulators instead of two result tensors and a third kernel.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/FusionUtils.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFUSEGLU
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

struct FuseGlu : OpRewritePattern<GluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GluOp g,
                                PatternRewriter &rewriter) const override {
    auto gate = g.getGate().getDefiningOp<LinearOp>();
    auto up = g.getUp().getDefiningOp<LinearOp>();
    if (!gate || !up || gate == up || gate.getInput() != up.getInput() ||
        !gate->hasOneUse() || !up->hasOneUse() || !isWeight(gate.getWeight()) ||
        !isWeight(up.getWeight()) ||
        bool(gate.getBias()) != bool(up.getBias()) ||
        gate.getWeight().getType() != up.getWeight().getType() ||
        gate.getActQuantAttr() != up.getActQuantAttr())
      return failure();
    if (gate.getBias() &&
        (!isWeight(gate.getBias()) || !isWeight(up.getBias())))
      return failure();
    Location loc = g.getLoc();
    Value weight =
        concatRows(rewriter, loc, {gate.getWeight(), up.getWeight()});
    Value bias = gate.getBias()
                     ? concatRows(rewriter, loc, {gate.getBias(), up.getBias()})
                     : Value();
    rewriter.replaceOpWithNewOp<LinearGluOp>(g, g.getType(), g.getActAttr(),
                                             gate.getInput(), weight, bias,
                                             gate.getActQuantAttr());
    rewriter.eraseOp(gate);
    rewriter.eraseOp(up);
    return success();
  }
};

struct FuseGluPass : tfm::impl::TfmFuseGluBase<FuseGluPass> {
  void runOnOperation() override {
    if (failed(applyFusion(getOperation(), populateFuseGluPatterns)))
      signalPassFailure();
  }
};

} // namespace

void tfm::populateFuseGluPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseGlu>(patterns.getContext());
}
