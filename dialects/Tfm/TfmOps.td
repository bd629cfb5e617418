//===- TfmOps.td - tfm graph-level ops ---------------------*- tablegen -*-===//
//
// The graph-level ops of the tfm dialect. Activations are 2-D `seq x features`
// f32 tensors; heads live side by side in the feature dimension (head h of a
// `seq x (H*D)` tensor is columns [h*D, (h+1)*D)).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_OPS_TD
#define TFM_OPS_TD

include "dialects/Tfm/TfmDialect.td"
include "dialects/Tfm/TfmAttrs.td"
include "dialects/Tfm/TfmTypes.td"
include "dialects/Tfm/TfmInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tfm_Activations : TensorRankOf<[F32], [2]>;
def Tfm_Vector : TensorRankOf<[F32], [1]>;
def Tfm_Weight : TensorRankOf<[F32], [1, 2, 3]>;
def Tfm_Tokens : TensorRankOf<[I32], [1]>;
def Tfm_HeadBias : TensorRankOf<[F32], [3]>;

//===----------------------------------------------------------------------===//
// Weights and embeddings
//===----------------------------------------------------------------------===//

def Tfm_WeightOp : Tfm_Op<"weight", [Pure]> {
  let summary = "a named entry of the weight table";
  let description = [{
    Refers to the weight called `name`. The loader checks the stored tensor's
    shape against the result type. The type's encoding says how the weight
    is kept (#tfm.storage, f32 without one): the program reads it as stored,
    and its values are f32 to every op that uses it.

    ```mlir
    %w = tfm.weight "layers.0.attn.q.weight" : tensor<64x64xf32>
    %b = tfm.weight "layers.0.attn.k.weight" : tensor<64x64xf32, #tfm.storage<bf16>>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tfm_Weight:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfm_EmbedOp : Tfm_Op<"embed", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    Row `tokens[i]` of `table` (vocab x dim) becomes row i of the result.
    Out-of-range ids are a runtime error.
  }];
  let arguments = (ins TensorRankOf<[F32], [2]>:$table, Tfm_Tokens:$tokens);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($table) `,` type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_PositionOp : Tfm_Op<"position", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "absolute position embedding added to the input";
  let description = [{
    Row i of `input` gets the embedding of position `pos + i` added:
    `sinusoidal` computes it (sin on even, cos on odd features, base 10000),
    `learned` reads row `pos + i` of `table`.
  }];
  let arguments = (ins Tfm_PositionKindAttr:$kind, Tfm_Activations:$input,
                       Index:$pos, Optional<TensorRankOf<[F32], [2]>>:$table);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) $input `at` $pos (`table` $table^ `:` type($table))? attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Norms, projections, activations
//===----------------------------------------------------------------------===//

def Tfm_NormOp : Tfm_Op<"norm", [Pure, AttrSizedOperandSegments,
                                 AllTypesMatch<["input", "result"]>]> {
  let summary = "layer or RMS normalization over groups of the last dimension";
  let description = [{
    Normalizes each contiguous group of `group_size` features (the whole row
    when absent): `rms` divides by sqrt(mean(x²) + eps); `layer` subtracts
    the mean and divides by sqrt(var + eps). Then multiplies by
    `gain + gain_offset` (Gemma stores gains as offsets from 1) and adds
    `bias`. A group size of head_dim gives per-head QK-norm; its gain and
    bias are either one vector of the group's size, shared by every group,
    or one of the row's size (a gain per head).
  }];
  let arguments = (ins Tfm_NormKindAttr:$kind, Tfm_Activations:$input,
                       Optional<Tfm_Vector>:$gain, Optional<Tfm_Vector>:$bias,
                       F64Attr:$eps,
                       OptionalAttr<I64Attr>:$group_size,
                       DefaultValuedAttr<F64Attr, "0.0">:$gain_offset);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) $input (`gain` $gain^ `:` type($gain))? (`bias` $bias^ `:` type($bias))?
    `eps` $eps attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Features per normalized group.
    int64_t getGroupSizeOrRow();
  }];
}

def Tfm_LinearOp : Tfm_Op<"linear", [Pure]> {
  let summary = "x · Wᵀ (+ b)";
  let description = [{
    `input` is seq x K, `weight` N x K (the row-major output-by-input layout
    of Hugging Face and GGUF), optional `bias` N; the result is seq x N.
  }];
  let arguments = (ins Tfm_Activations:$input, TensorRankOf<[F32], [2]>:$weight,
                       Optional<Tfm_Vector>:$bias,
                       OptionalAttr<Tfm_ActQuantAttr>:$act_quant);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^ `:` type($bias))? attr-dict `:`
    type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_HeadLinearOp : Tfm_Op<"head_linear", [Pure]> {
  let summary = "one small product per head: x_h · W_hᵀ";
  let description = [{
    `input` is seq x (heads·K) and `weight` heads x N x K; head h of the
    result (seq x (heads·N)) is input head h times weight[h]ᵀ. With
    `transpose_weight` the weight is heads x K x N and is used as stored
    (latent attention multiplies the query by the key up-projection so).

    ```mlir
    %l = tfm.head_linear %q, %wk {transpose_weight} : tensor<?x32xf32>, tensor<4x8x16xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Tfm_Activations:$input, TensorRankOf<[F32], [3]>:$weight,
                       UnitAttr:$transpose_weight);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumHeads();
    /// Features per head of the input (K) and of the result (N).
    int64_t getInFeatures();
    int64_t getOutFeatures();
  }];
}

def Tfm_JoinOp : Tfm_Op<"join", [Pure]> {
  let summary = "features of two operands, side by side in each group";
  let description = [{
    Both operands are seq x (groups·A) and seq x (groups·B); group g of the
    result (seq x (groups·(A+B))) is group g of `lhs` followed by group g
    of `rhs`. Latent attention joins the rotated part of each query head
    to its latent part, and the rotated key to the latent.
  }];
  let arguments = (ins Tfm_Activations:$lhs, Tfm_Activations:$rhs,
                       I64Attr:$groups);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_ActivationOp : Tfm_Op<"activation", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise activation";
  let description = [{
    `relu`, `gelu` (exact, erf), `gelu_tanh` (the tanh approximation, also
    called gelu_new / gelu_pytorch_tanh) or `silu` (x·sigmoid(x)).
  }];
  let arguments = (ins Tfm_ActKindAttr:$kind, Tfm_Activations:$input);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "custom<EnumKeyword>($kind) $input attr-dict `:` type($input)";
}

def Tfm_GluOp : Tfm_Op<"glu", [Pure, SameOperandsAndResultType]> {
  let summary = "gated linear unit: act(gate) ⊙ up";
  let description = [{
    ReGLU, GeGLU or SwiGLU depending on `act`.
  }];
  let arguments = (ins Tfm_ActKindAttr:$act, Tfm_Activations:$gate,
                       Tfm_Activations:$up);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "custom<EnumKeyword>($act) $gate `,` $up attr-dict `:` type($gate)";
}

//===----------------------------------------------------------------------===//
// Positions and attention
//===----------------------------------------------------------------------===//

def Tfm_RopeOp : Tfm_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates, in every head of `head_dim` features, the first `rotary_dim`
    features of row i by angles (pos + i)·θ_k with θ_k = theta^(-2k/rotary_dim),
    optionally rescaled by `scaling`. `layout` says which features pair up.
    The remaining head_dim - rotary_dim features pass through.
  }];
  let arguments = (ins Tfm_RopeLayoutAttr:$layout, Tfm_Activations:$input,
                       Index:$pos, I64Attr:$head_dim, I64Attr:$rotary_dim,
                       F64Attr:$theta,
                       OptionalAttr<Tfm_RopeScalingAttr>:$scaling);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "custom<EnumKeyword>($layout) $input `at` $pos attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// θ_k for k in [0, rotary_dim/2), in double, with `scaling` applied.
    ::llvm::SmallVector<double> getInverseFrequencies();
    /// What cos and sin are multiplied by (YaRN's mscale; else 1).
    double getAttentionFactor();
  }];
}

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure]> {
  let summary = "scaled dot-product attention, MHA/MQA/GQA";
  let description = [{
    `query` is seq x (num_heads·head_dim) for absolute positions
    [pos, pos+seq); `key` is len x (num_kv_heads·head_dim) and `value`
    len x (num_kv_heads·v_head_dim) for positions [0, len). Query head h
    uses KV head h / (num_heads / num_kv_heads). Scores are scaled by
    `scale`, soft-capped by `softcap` (cap·tanh(s/cap)) when present, added
    to `bias` (heads x seq x len) when present, and masked: `causal` keeps
    key j ≤ query position p, `window` W also keeps only j > p − W.
  }];
  let arguments = (ins Tfm_Activations:$query, Tfm_Activations:$key,
                       Tfm_Activations:$value, Index:$pos,
                       Optional<Tfm_HeadBias>:$bias,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F64Attr>:$softcap);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `at` $pos (`bias` $bias^ `:` type($bias))? attr-dict `:`
    type($query) `,` type($key) `,` type($value) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_AlibiOp : Tfm_Op<"alibi", [Pure, Tfm_AttentionBiasOpInterface]> {
  let summary = "ALiBi attention bias";
  let description = [{
    Bias[h, i, j] = slope_scale · slope_h · (j − (pos + i)) with the
    geometric slopes of the ALiBi paper (interleaved for head counts that
    are not powers of 2). Falcon adds the bias before scaling the scores:
    its slope_scale is that scale.
  }];
  let arguments = (ins Index:$pos, Index:$query_len, Index:$key_len,
                       I64Attr:$num_heads,
                       DefaultValuedAttr<F64Attr, "1.0">:$slope_scale);
  let results = (outs Tfm_HeadBias:$result);
  let assemblyFormat = [{
    $pos `,` $query_len `,` $key_len attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The slope of each head.
    static ::llvm::SmallVector<double> getSlopes(int64_t numHeads);
  }];
}

def Tfm_RelativeBiasOp
    : Tfm_Op<"relative_bias", [Pure, Tfm_AttentionBiasOpInterface]> {
  let summary = "T5 bucketed relative position bias";
  let description = [{
    Bias[h, i, j] = table[bucket(j − (pos + i)), h], where bucket() is T5's
    mix of exact small distances and log-spaced large ones up to
    `max_distance`, one-sided unless `bidirectional`.
  }];
  let arguments = (ins TensorRankOf<[F32], [2]>:$table, Index:$pos,
                       Index:$query_len, Index:$key_len,
                       I64Attr:$num_buckets, I64Attr:$max_distance,
                       UnitAttr:$bidirectional);
  let results = (outs Tfm_HeadBias:$result);
  let assemblyFormat = [{
    $table `at` $pos `,` $query_len `,` $key_len attr-dict `:` type($table) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// T5's bucket of `relative` = key position − query position (computed
    /// in f32, as T5 does, so bucket edges agree with it).
    static int64_t getBucket(int64_t relative, bool bidirectional,
                             int64_t numBuckets, int64_t maxDistance);
  }];
}

def Tfm_KvWriteOp : Tfm_Op<"kv_write", [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "store keys and values into a cache";
  let description = [{
    Rows of `key` and `value` go to cache positions [pos, pos + seq).
  }];
  let arguments = (ins Tfm_KvCacheType:$cache, Tfm_Activations:$key,
                       Tfm_Activations:$value, Index:$pos);
  let results = (outs Tfm_KvCacheType:$result);
  let assemblyFormat = [{
    $key `,` $value `into` $cache `at` $pos attr-dict `:`
    type($key) `,` type($value) `into` type($cache)
  }];
  let hasVerifier = 1;
}

def Tfm_KvReadOp : Tfm_Op<"kv_read", [Pure]> {
  let summary = "keys and values of cache positions [0, len)";
  let arguments = (ins Tfm_KvCacheType:$cache, Index:$len);
  let results = (outs Tfm_Activations:$key, Tfm_Activations:$value);
  let assemblyFormat = [{
    $cache `len` $len attr-dict `:` type($cache) `->` type($key) `,` type($value)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Tfm_MoeOp : Tfm_Op<"moe", [Pure, AttrSizedOperandSegments]> {
  let summary = "routed gated experts, plus optional shared experts";
  let description = [{
    The router (experts x dim) scores every token; `scoring` turns logits
    into weights (softmax over all experts, or sigmoid); the `top_k` best
    experts run, their weights renormalized to sum 1 when `norm_topk`, and
    scaled by `routed_scale`. With `num_groups` > 1 the experts form that
    many consecutive groups, each scored by its best expert, and the top_k
    are taken only from the `top_groups` best groups (DeepSeek-V2's
    group-limited routing; ties go to the lower index). Expert e computes
    down[e] · act(gate[e] · x) ⊙ (up[e] · x), with gate/up `experts x ffn x
    dim` and down `experts x dim x ffn`. `shared` experts (merged into one
    gated MLP of width shared_ffn) run on every token, their output scaled
    by sigmoid(shared_router · x) when a shared router is given.
  }];
  let arguments = (ins Tfm_Activations:$input,
                       TensorRankOf<[F32], [2]>:$router,
                       TensorRankOf<[F32], [3]>:$gate,
                       TensorRankOf<[F32], [3]>:$up,
                       TensorRankOf<[F32], [3]>:$down,
                       Optional<TensorRankOf<[F32], [2]>>:$shared_gate,
                       Optional<TensorRankOf<[F32], [2]>>:$shared_up,
                       Optional<TensorRankOf<[F32], [2]>>:$shared_down,
                       Optional<TensorRankOf<[F32], [2]>>:$shared_router,
                       Tfm_ActKindAttr:$act,
                       I64Attr:$num_experts, I64Attr:$top_k,
                       DefaultValuedAttr<I64Attr, "0">:$num_shared,
                       DefaultValuedAttr<Tfm_MoeScoringAttr,
                                         "::mlir::tfm::MoeScoring::softmax">:$scoring,
                       UnitAttr:$norm_topk,
                       DefaultValuedAttr<F64Attr, "1.0">:$routed_scale,
                       DefaultValuedAttr<I64Attr, "1">:$num_groups,
                       DefaultValuedAttr<I64Attr, "1">:$top_groups);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($act) $input `router` $router `experts` `(` $gate `,` $up `,` $down `)`
    (`shared` `(` $shared_gate^ `,` $shared_up `,` $shared_down `)`)?
    (`shared_router` $shared_router^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise and output
//===----------------------------------------------------------------------===//

def Tfm_AddOp : Tfm_Op<"add", [Pure, SameOperandsAndResultType]> {
  let summary = "residual add: alpha·lhs + rhs";
  let description = [{
    `alpha` (DeepNorm's α) scales the residual stream `lhs`; it is 1 for an
    ordinary residual connection.
  }];
  let arguments = (ins Tfm_Activations:$lhs, Tfm_Activations:$rhs,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfm_MulOp : Tfm_Op<"mul", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise product";
  let arguments = (ins Tfm_Activations:$lhs, Tfm_Activations:$rhs);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Tfm_ScaleOp : Tfm_Op<"scale", [Pure, SameOperandsAndResultType]> {
  let summary = "multiplication by a constant";
  let description = [{
    Used for embedding scaling (Gemma's sqrt(dim)) and similar constants.
  }];
  let arguments = (ins Tfm_Activations:$input, F64Attr:$factor);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "$input `by` $factor attr-dict `:` type($input)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tfm_SoftcapOp : Tfm_Op<"softcap", [Pure, SameOperandsAndResultType]> {
  let summary = "soft-capping: cap·tanh(x / cap)";
  let arguments = (ins Tfm_Activations:$input, F64Attr:$cap);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = "$input `cap` $cap attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Tfm_LmHeadOp : Tfm_Op<"lm_head", [Pure]> {
  let summary = "final projection to vocabulary logits";
  let description = [{
    `input` (seq x dim) times `weight`ᵀ (vocab x dim): the output embedding,
    or the token embedding table itself when embeddings are tied; plus an
    optional `bias` (vocab).
  }];
  let arguments = (ins Tfm_Activations:$input, TensorRankOf<[F32], [2]>:$weight,
                       Optional<Tfm_Vector>:$bias,
                       OptionalAttr<Tfm_ActQuantAttr>:$act_quant);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^ `:` type($bias))? attr-dict `:`
    type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused level: produced by the fusion passes only
//===----------------------------------------------------------------------===//

def Tfm_ConcatOp : Tfm_Op<"concat", [Pure]> {
  let summary = "rows of the operands, stacked";
  let description = [{
    The operands (all 1-D or all 2-D with equal columns) one after another
    along dimension 0. The fusion passes build concatenated weights with it;
    a compiled program concatenates them once, when it loads the weights.

    ```mlir
    %w = tfm.concat %wq, %wk, %wv : (tensor<64x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<96x64xf32>
    ```
  }];
  let arguments = (ins Variadic<TensorRankOf<[F32], [1, 2]>>:$inputs);
  let results = (outs TensorRankOf<[F32], [1, 2]>:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasVerifier = 1;
}

def Tfm_AddNormOp : Tfm_Op<"add_norm", [Pure, AttrSizedOperandSegments,
    AllTypesMatch<["lhs", "rhs", "sum", "normed"]>]> {
  let summary = "residual add and the norm of its sum";
  let description = [{
    `sum` = alpha·lhs + rhs (as tfm.add) and `normed` = the norm of `sum`
    (as tfm.norm over whole rows, with `gain`, `bias`, `eps`,
    `gain_offset`). Produced by tfm-fuse-norm-residual.
  }];
  let arguments = (ins Tfm_NormKindAttr:$kind, Tfm_Activations:$lhs,
                       Tfm_Activations:$rhs,
                       Optional<Tfm_Vector>:$gain, Optional<Tfm_Vector>:$bias,
                       F64Attr:$eps,
                       DefaultValuedAttr<F64Attr, "0.0">:$gain_offset,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha);
  let results = (outs Tfm_Activations:$sum, Tfm_Activations:$normed);
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) $lhs `,` $rhs (`gain` $gain^ `:` type($gain))? (`bias` $bias^ `:` type($bias))?
    `eps` $eps attr-dict `:` type($lhs)
  }];
  let hasVerifier = 1;
}

def Tfm_QkvRopeOp : Tfm_Op<"qkv_rope", [Pure, AttrSizedOperandSegments]> {
  let summary = "Q, K and V projections in one product, RoPE in its epilogue";
  let description = [{
    `weight` holds the rows of the Q, K and V projections one after another
    (num_heads·head_dim, num_kv_heads·head_dim, num_kv_heads·v_head_dim
    rows), `bias` likewise. One product `input · weightᵀ (+ bias)` gives
    all three; then Q and K are normalized when `q_gain`/`k_gain` are given
    (QK-norm of kind `norm`, eps `norm_eps`, over groups of `norm_group`
    features, or each whole row of Q and of K when it is absent; gains
    offset by `norm_gain_offset`) and rotated as tfm.rope
    with the rope attributes. V passes through. Produced by
    tfm-fuse-rope-qk.
  }];
  let arguments = (ins Tfm_RopeLayoutAttr:$layout, Tfm_Activations:$input,
                       TensorRankOf<[F32], [2]>:$weight,
                       Optional<Tfm_Vector>:$bias,
                       Optional<Tfm_Vector>:$q_gain,
                       Optional<Tfm_Vector>:$k_gain,
                       Index:$pos,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, I64Attr:$v_head_dim,
                       I64Attr:$rotary_dim, F64Attr:$theta,
                       OptionalAttr<Tfm_RopeScalingAttr>:$scaling,
                       OptionalAttr<Tfm_NormKindAttr>:$norm,
                       OptionalAttr<F64Attr>:$norm_eps,
                       OptionalAttr<I64Attr>:$norm_group,
                       DefaultValuedAttr<F64Attr, "0.0">:$norm_gain_offset,
                       OptionalAttr<Tfm_ActQuantAttr>:$act_quant);
  let results = (outs Tfm_Activations:$query, Tfm_Activations:$key,
                      Tfm_Activations:$value);
  let assemblyFormat = [{
    custom<EnumKeyword>($layout) $input `,` $weight (`bias` $bias^ `:` type($bias))?
    (`qk_norm` $q_gain^ `,` $k_gain `:` type($q_gain) `,` type($k_gain))?
    `at` $pos attr-dict `:` type($input) `,` type($weight) `->`
    type($query) `,` type($key) `,` type($value)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// θ_k of the rotation, as tfm.rope's.
    ::llvm::SmallVector<double> getInverseFrequencies();
    /// What cos and sin are multiplied by (YaRN's mscale; else 1).
    double getAttentionFactor();
  }];
}

def Tfm_CachedAttentionOp : Tfm_Op<"cached_attention", [Pure,
    AllTypesMatch<["cache", "new_cache"]>]> {
  let summary = "KV-cache write and attention over the cache, in one op";
  let description = [{
    Writes `key` and `value` into `cache` at positions [pos, pos + seq)
    (as tfm.kv_write; `new_cache` is the updated cache), then attends from
    `query` over cache positions [0, len) as tfm.attention does, with the
    same attributes. Produced by tfm-fuse-attention-kvcache; compiled
    kernels read keys and values in place, split along the cache length.
  }];
  let arguments = (ins Tfm_Activations:$query, Tfm_Activations:$key,
                       Tfm_Activations:$value, Tfm_KvCacheType:$cache,
                       Index:$pos, Index:$len,
                       Optional<Tfm_HeadBias>:$bias,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F64Attr>:$softcap);
  let results = (outs Tfm_Activations:$result, Tfm_KvCacheType:$new_cache);
  let assemblyFormat = [{
    $query `,` $key `,` $value `into` $cache `at` $pos `len` $len (`bias` $bias^ `:` type($bias))?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `into` type($cache) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_LinearGluOp : Tfm_Op<"linear_glu", [Pure]> {
  let summary = "gate and up projections in one product, GLU in its epilogue";
  let description = [{
    `weight` is the gate projection's F rows followed by the up
    projection's F rows (2F x K), `bias` likewise; with P = input ·
    weightᵀ (+ bias), result[:, n] = act(P[:, n]) · P[:, F + n]. Produced
    by tfm-fuse-glu.
  }];
  let arguments = (ins Tfm_ActKindAttr:$act, Tfm_Activations:$input,
                       TensorRankOf<[F32], [2]>:$weight,
                       Optional<Tfm_Vector>:$bias,
                       OptionalAttr<Tfm_ActQuantAttr>:$act_quant);
  let results = (outs Tfm_Activations:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($act) $input `,` $weight (`bias` $bias^ `:` type($bias))? attr-dict `:`
    type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

include "dialects/Tfm/TfmKernelOps.td"

#endif // TFM_OPS_TD
