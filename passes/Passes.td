//===- Passes.td - tfm pass definitions --------------------*- tablegen -*-===//

#ifndef TFM_PASSES_TD
#define TFM_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmCanonicalize : Pass<"tfm-canonicalize", "::mlir::ModuleOp"> {
  let summary = "Apply the tfm dialect's folds and canonicalization patterns";
  let description = [{
    Runs the greedy rewriter with the canonicalization patterns of tfm ops
    only, folding ops and removing dead ones on the way. Upstream
    `canonicalize` also applies the func/arith/tensor patterns; this pass
    leaves their structure as the frontend built it.
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

#endif // TFM_PASSES_TD
