//===- FuseNormResidual.cpp - the tfm-fuse-norm-residual pass ---*- C++ -*-===//
//
// add + norm → tfm.add_norm. What the kernel former then does with it:
//
// The sum goes to the epilogue of the kernel that produces the add's rhs
// (the sublayer's output projection), which writes the new residual row.
// The normalization goes to the prologue of the one projection that reads
// the normalized value (the fused QKV or gate/up product, or the LM head):
// that kernel computes the row's statistics and the normalized row once,
// in a stage before its product, and the normalized row never goes to
// memory. When the normalized value has several readers, or a reader that
// is not a projection, it gets a kernel of its own (as without the pass).
//
// In decode we chose to materialize the normalized row inside the
// consumer's GEMV rather than multiply the GEMV's dot products by
// rsqrt(mean(x²)) afterwards: both cost O(dim) against the GEMV's
// O(dim·rows); the prologue form serves LayerNorm (mean and bias) and
// RMSNorm alike, keeps the GEMV's inner loop unchanged, and removes the
// norm's own kernel launch and its trip through memory all the same.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/FusionUtils.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFUSENORMRESIDUAL
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

struct FuseNormResidual : OpRewritePattern<NormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(NormOp n,
                                PatternRewriter &rewriter) const override {
    auto add = n.getInput().getDefiningOp<AddOp>();
    if (!add || add->getBlock() != n->getBlock())
      return failure();
    // Per-head norms (QK-norm) are not residual norms.
    if (n.getGroupSize() &&
        int64_t(*n.getGroupSize()) !=
            cast<RankedTensorType>(n.getType()).getDimSize(1))
      return failure();
    // A sum read by two norms: fusing both would compute the add twice.
    int norms = 0;
    for (Operation *user : add->getUsers())
      norms += isa<NormOp>(user);
    if (norms != 1 || !usersAfter(add.getResult(), n, n))
      return failure();
    auto fused = rewriter.create<AddNormOp>(
        n.getLoc(), n.getType(), n.getType(), n.getKindAttr(), add.getLhs(),
        add.getRhs(), n.getGain(), n.getBias(), n.getEpsAttr(),
        n.getGainOffsetAttr(), add.getAlphaAttr());
    rewriter.replaceOp(n, fused.getNormed());
    rewriter.replaceOp(add, fused.getSum());
    return success();
  }
};

struct FuseNormResidualPass
    : tfm::impl::TfmFuseNormResidualBase<FuseNormResidualPass> {
  void runOnOperation() override {
    if (failed(applyFusion(getOperation(), populateFuseNormResidualPatterns)))
      signalPassFailure();
  }
};

} // namespace

void tfm::populateFuseNormResidualPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseNormResidual>(patterns.getContext());
}
