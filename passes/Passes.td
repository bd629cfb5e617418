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

def TfmFormKernels : Pass<"tfm-form-kernels", "::mlir::ModuleOp"> {
  let summary = "Group graph ops into kernels and call them from the host";
  let description = [{
    Lowers the graph level to the kernel level. Every compute op starts a
    kernel; an elementwise op (add, mul, scale, softcap, activation, glu)
    joins the kernel that produces one of its operands when that kernel's
    result has no other use, so residual adds and activations run in the
    epilogue of the projection before them. Each group becomes a
    `tfm.kernel` symbol holding the ops, with a schedule template and its
    parameters chosen from the anchor op and the phase; the entry function
    calls it with `tfm.launch`. Kernels that compute the same thing (the
    same layer in every layer) are one symbol. Weights, KV-cache writes and
    reads, and index arithmetic stay in the host functions.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "The code generation target (host, or a Halide target string)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes of the target's vectors (8 for AVX2)">,
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // TFM_PASSES_TD
