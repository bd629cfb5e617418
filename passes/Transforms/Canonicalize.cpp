//===- Canonicalize.cpp - the tfm-canonicalize pass -------------*- C++ -*-===//
//
// Applies the tfm ops' folds and canonicalization patterns, and nothing else.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMCANONICALIZE
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {
struct TfmCanonicalizePass
    : tfm::impl::TfmCanonicalizeBase<TfmCanonicalizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    for (RegisteredOperationName name :
         getContext().getRegisteredOperations())
      if (name.getDialectNamespace() == TfmDialect::getDialectNamespace())
        name.getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
