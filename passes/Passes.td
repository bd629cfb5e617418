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
    `tfm.kernel` symbol holding the ops; the entry function calls it with
    `tfm.launch`. Kernels that compute the same thing (the
    same layer in every layer) are one symbol. Weights, KV-cache writes and
    reads, and index arithmetic stay in the host functions. Fused ops stay
    whole in their kernels: a `tfm.add_norm` whose normalized value only a
    projection reads is that projection's prologue (the kernel also yields
    the sum), any other is a row-wise kernel; a `tfm.cached_attention`
    kernel takes the cache, which the host writes the call's keys and
    values into first (kernels are pure). Kernels have no target or
    schedule yet: `tfm-select-schedules` chooses them.
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def TfmSelectSchedules : Pass<"tfm-select-schedules", "::mlir::ModuleOp"> {
  let summary = "Choose each kernel's target and schedule template";
  let description = [{
    Gives every `tfm.kernel` a `#tfm.target` and the typed parameters of
    the schedule template that tiles it, chosen from the op that anchors
    the kernel (a projection after its prologue norm, else the first op)
    and the phase: `#tfm.gemv` for decode products, `#tfm.gemm` for prefill
    products (k summed in blocks of at most 256), `#tfm.qkv` around either
    for the fused QKV product, `#tfm.flash_decode` / `#tfm.flash_prefill`
    for attention over the cache in place, `#tfm.attention` otherwise,
    `#tfm.rows`, `#tfm.moe`, `#tfm.elementwise`. All schedule policy lives
    here, one selection function per target kind. With `wide-isa`, prefill
    products whose output and input widths are whole vectors of it (and at
    least one register tile of outputs) get that ISA.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "The kind of target (cpu)">,
    Option<"isa", "isa", "std::string", /*default=*/"\"avx2\"",
           "The vector ISA of every kernel (avx2, avx512)">,
    Option<"wideIsa", "wide-isa", "std::string", /*default=*/"\"\"",
           "A wider ISA for the prefill matrix products (empty or none: "
           "no such kernels)">,
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def TfmFuseNormResidual : Pass<"tfm-fuse-norm-residual", "::mlir::ModuleOp"> {
  let summary = "Fuse a residual add and the norm of its sum into tfm.add_norm";
  let description = [{
    A `tfm.add` whose sum feeds a whole-row `tfm.norm` becomes one
    `tfm.add_norm` yielding both the new residual stream and the normalized
    value. This covers pre-norm (the next sublayer's input norm), post-norm
    (the norm of the sum is the stream), sandwich (the add after the extra
    output norm, with the following input norm) and DeepNorm (α on the
    residual). Not fused: a norm whose input is not an add, per-head norms
    (QK-norm), and a sum feeding two norms (fusing both would compute the
    add twice).
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def TfmFuseRopeQk : Pass<"tfm-fuse-rope-qk", "::mlir::ModuleOp"> {
  let summary = "Fuse the Q/K/V projections and their RoPE into tfm.qkv_rope";
  let description = [{
    The query, key and value projections of one input that feed an
    attention (through its KV cache, or a tfm.cached_attention), with
    tfm.rope on Q and K and optionally QK-norm before it, become one
    `tfm.qkv_rope` over the concatenated weights (`tfm.concat`) with the
    norm, rotation and biases in its epilogue. Not fused: projections of
    different inputs, Q and K rotated differently, a projection or rotation
    with another user, norms with a bias.
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def TfmFuseAttentionKvCache
    : Pass<"tfm-fuse-attention-kvcache", "::mlir::ModuleOp"> {
  let summary = "Fuse KV-cache write, read and attention into tfm.cached_attention";
  let description = [{
    `tfm.kv_write` + `tfm.kv_read` + `tfm.attention` over the keys and
    values just read become one `tfm.cached_attention`, which compiled
    code runs over the cache in place, split along its length. Not fused:
    a write at another position than the attention's queries, a read whose
    keys or values have another user, a read of a cache no write produced.
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def TfmFuseGlu : Pass<"tfm-fuse-glu", "::mlir::ModuleOp"> {
  let summary = "Fuse gate and up projections and their GLU into tfm.linear_glu";
  let description = [{
    `tfm.glu` of two `tfm.linear` of the same input becomes one
    `tfm.linear_glu` over the concatenated weights (gate rows, then up
    rows) with the activation and product in its epilogue. Not fused:
    projections of different inputs, a projection with another user,
    one projection with a bias and the other without.
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

#endif // TFM_PASSES_TD
