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

struct FuseGluPass : tfm::impl::TfmFuseGluBase<FuseGluPass> {
  void runOnOperation() override {
    SmallVector<GluOp> glus;
    getOperation().walk([&](GluOp g) { glus.push_back(g); });
    for (GluOp g : glus)
      fuse(g);
  }

  static void fuse(GluOp g) {
    auto gate = g.getGate().getDefiningOp<LinearOp>();
    auto up = g.getUp().getDefiningOp<LinearOp>();
    if (!gate || !up || gate == up || gate.getInput() != up.getInput() ||
        !gate->hasOneUse() || !up->hasOneUse() ||
        !isWeight(gate.getWeight()) || !isWeight(up.getWeight()) ||
        bool(gate.getBias()) != bool(up.getBias()) ||
        gate.getWeight().getType() != up.getWeight().getType())
      return;
    if (gate.getBias() &&
        (!isWeight(gate.getBias()) || !isWeight(up.getBias())))
      return;
    OpBuilder b(g);
    Location loc = g.getLoc();
    Value weight = concatRows(b, loc, {gate.getWeight(), up.getWeight()});
    Value bias = gate.getBias()
                     ? concatRows(b, loc, {gate.getBias(), up.getBias()})
                     : Value();
    auto fused = b.create<LinearGluOp>(loc, g.getType(), g.getActAttr(),
                                       gate.getInput(), weight, bias);
    g.getResult().replaceAllUsesWith(fused.getResult());
    g->erase();
    gate->erase();
    up->erase();
  }
};

} // namespace
